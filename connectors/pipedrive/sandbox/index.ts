/** The local Pipedrive sandbox: API v2 organizations and persons on the sandbox kit. */
export type { InjectedFailures, SandboxRequest } from '../../kit/sandbox/server';
export {
  PIPEDRIVE_RATE_LIMITS,
  SANDBOX_API_PATH,
  startPipedriveSandbox,
  type PipedriveRateLimitName,
  type PipedriveSandbox,
  type PipedriveSandboxOptions,
} from './server';
