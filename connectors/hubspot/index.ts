/** The HubSpot CRM connector: its registry entry, and a factory for use without a config file. */
export { hubspot, createHubSpotConnector, type HubSpotConnectorOptions } from './connector';
