/** The local QuickBooks Online sandbox: a server speaking the subset of the Accounting API v3 tandem uses. */
export type { InjectedFailures, SandboxRequest } from '../../kit/sandbox/server';
export {
  startQuickBooksSandbox,
  QBO_RATE_LIMITS,
  SANDBOX_API_PATH,
  SANDBOX_BATCH_MAX,
  SANDBOX_ENTITIES,
  SANDBOX_TOKEN_PATH,
  type QboRateLimitName,
  type QboSandbox,
  type QboSandboxOptions,
  type SandboxEntity,
} from './server';
