/** The Dynamics 365 Sales CRM connector: its registry entry, and a factory for use without a config file. */
export { createDynamicsSalesConnector, dynamicsSales, type DynamicsSalesConnectorOptions } from './connector';
