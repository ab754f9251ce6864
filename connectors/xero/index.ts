/** The Xero connector's public surface. */
export { createXeroConnector, CONTACT_BATCH_LIMIT, type XeroConnectorOptions } from './connector';
export { XeroClient, XERO_API_URL, CONTACTS_PAGE_SIZE } from './client';
export { RefreshTokenProvider, XERO_TOKEN_URL, type XeroAuthOptions } from './auth';
export { XeroRateLimiter, XERO_LIMITS, type RateLimits } from './limiter';
export { ContactKinds, contactNumberFor, type ContactKindOptions } from './kinds';
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
