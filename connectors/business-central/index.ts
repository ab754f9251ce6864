/** The Business Central connector's public surface. */
export {
  createBusinessCentralConnector,
  createBusinessCentralApi,
  type BusinessCentralConnectorOptions,
} from './connector';
export { BusinessCentralApi, type BcCreateOptions } from './client';
export { ClientCredentialsTokenProvider, DEFAULT_SCOPE, type ClientCredentials } from './auth';
export { createBusinessCentralWebhook, type BusinessCentralWebhookOptions } from './webhook';
export { WEBHOOK_ENTITIES } from './subscriptions';
export { SUPPORTED_FIELDS, FIELD_MAP, toAccount, toContact, fromFields } from './mappers';
