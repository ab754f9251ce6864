/** The local Xero sandbox: a server speaking the subset of the Accounting API tandem uses. */
export type { InjectedFailures, SandboxRequest } from '../../kit/sandbox/server';
export {
  startXeroSandbox,
  SANDBOX_API_PATH,
  SANDBOX_TOKEN_PATH,
  XERO_RATE_LIMITS,
  type XeroRateLimitName,
  type XeroSandbox,
  type XeroSandboxOptions,
  type SandboxExchange,
} from './server';
