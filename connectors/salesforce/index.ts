/** The Salesforce CRM connector: its registry entry, and a factory for use without a config file. */
export { salesforce, createSalesforceConnector, type SalesforceConnectorOptions } from './connector';
