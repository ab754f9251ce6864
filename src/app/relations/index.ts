/** The business-relation operations: the service, its contract and its errors. */
export { createRelationService, type RelationServiceOptions } from './service';
export { syncPersonFields } from './person-fields';
