/** The HubSpot CRM connector and its local sandbox. */
export { createHubSpotConnector, type HubSpotConnectorOptions } from './connector';
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
