/** The Xero accounting connector: its registry entry, a factory for use without a config file, its webhook and mappers. */
export { xero, createXeroConnector, type XeroConnectorOptions } from './connector';
export { createXeroWebhook, xeroSignature, webhookEventId, type XeroWebhookOptions } from './webhook';
export {
  SUPPORTED_FIELDS,
  xeroInfo,
  contactToAccount,
  accountToBankAccount,
  contactBody,
  bankAccountBody,
  type XeroRecordInfo,
  type XeroAccountRecord,
} from './mappers';
export { parseXeroDate } from './schemas';
