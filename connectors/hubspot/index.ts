/** The HubSpot CRM connector: its registry entry, a factory for use without a config file, its webhook and mappers. */
export { hubspot, createHubSpotConnector, type HubSpotConnectorOptions } from './connector';
export { createHubSpotWebhook, hubSpotSignatureV3, type HubSpotWebhookOptions } from './webhook';
export {
  DEFAULT_COMPANY_MAP,
  DEFAULT_PERSON_MAP,
  IDEMPOTENCY_PROPERTY,
  type PropertyMap,
  type PropertyMapOverrides,
  resolveMapping,
  toContact,
  toHubSpotProperties,
} from './mappers';
