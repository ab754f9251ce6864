/**
 * Version 10: what an idempotency key was first used for. A key names one request (the operation,
 * its records, template and values, as a digest): the same key sent with another request is
 * refused instead of answered with the first one's result. Keys stored before have none and
 * stay unbound.
 */
export const OPERATION_REQUESTS = `
ALTER TABLE relation_operation ADD COLUMN request text;
`;
