/** The local Xero sandbox: a server speaking the subset of the Accounting API tandem uses. */
export {
  startXeroSandbox,
  SANDBOX_API_PATH,
  SANDBOX_TOKEN_PATH,
  type XeroSandbox,
  type XeroSandboxOptions,
  type SandboxExchange,
} from './server';
