/** The local Business Central sandbox: a server speaking the subset of API v2.0 tandem uses. */
export type { InjectedFailures, SandboxRequest } from '../../kit/sandbox/server';
export {
  BUSINESS_CENTRAL_RATE_LIMITS,
  startBusinessCentralSandbox,
  SANDBOX_API_PATH,
  SANDBOX_COMPANY_ID,
  SANDBOX_TOKEN_PATH,
  type BusinessCentralRateLimitName,
  type BusinessCentralSandbox,
  type BusinessCentralSandboxOptions,
} from './server';
export type { SandboxCollectionAccess } from './store';
export { businessCentralSandboxSeed, SEED_IDS, type BusinessCentralSandboxSeed } from './seed';
export { COLLECTION_NAMES, WEBHOOK_COLLECTIONS, type CollectionName } from './collections';
