/** The Pipedrive CRM connector. */
export { createPipedriveConnector, pipedrive, type PipedriveConnectorOptions } from './connector';
