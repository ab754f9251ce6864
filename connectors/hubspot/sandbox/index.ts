/** The local HubSpot sandbox: a small server speaking the subset of the CRM v3 API tandem uses. */
export type { InjectedFailures, SandboxRequest } from '../../kit/sandbox/server';
export {
  HUBSPOT_RATE_LIMITS,
  type HubSpotRateLimitName,
  type HubSpotSandbox,
  type HubSpotSandboxOptions,
  type SandboxRecord,
  startHubSpotSandbox,
} from './server';
export { type HubSpotSandboxSeed, hubspotSandboxSeed } from './seed';
export type { PropertyDefinition, SandboxProperty } from './properties';
export { type SandboxWebhookEvent, type WebhookTarget } from './webhooks';
/** Signs a webhook call the way HubSpot does (signature v3): the connector's own signer. */
export { hubSpotSignatureV3 as signWebhookCall } from '../webhook';
