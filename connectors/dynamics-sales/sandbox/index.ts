/** The local Dynamics 365 Sales sandbox: a server speaking the subset of the Dataverse Web API tandem uses. */
export type { InjectedFailures, SandboxRequest } from '../../kit/sandbox/server';
export {
  DATAVERSE_RATE_LIMITS,
  SANDBOX_COLUMNS,
  SANDBOX_TOKEN_PATH,
  startDynamicsSandbox,
  type DataverseRateLimitName,
  type DynamicsSandbox,
  type DynamicsSandboxOptions,
  type SandboxRow,
  type SandboxTableEdits,
} from './server';
