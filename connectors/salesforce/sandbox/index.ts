/** The local Salesforce sandbox: a server speaking the subset of the REST API tandem uses. */
export type { InjectedFailures, SandboxRequest } from '../../kit/sandbox/server';
export { SANDBOX_IDEMPOTENCY_FIELD, type CustomFieldDefinition } from './objects';
export { DEMO_VAT_FIELD, salesforceSandboxSeed } from './seed';
export {
  startSalesforceSandbox,
  SALESFORCE_RATE_LIMITS,
  SANDBOX_API_PATH,
  SANDBOX_TOKEN_PATH,
  type SalesforceRateLimitName,
  type SalesforceSandbox,
  type SalesforceSandboxOptions,
  type SalesforceSandboxSeed,
  type SandboxRecord,
} from './server';
