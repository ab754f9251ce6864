/** The Xero accounting connector: its registry entry, a factory for use without a config file, its webhook and mappers. */
export { xero, createXeroConnector, type XeroConnectorOptions } from './connector';
export { createXeroWebhook, xeroSignature, type XeroWebhookOptions } from './webhook';
export { xeroInfo, contactToAccount, accountToBankAccount, type XeroRecordInfo } from './mappers';
