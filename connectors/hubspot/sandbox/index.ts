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
export { type SandboxWebhookEvent, type WebhookTarget, signWebhookCall } from './webhooks';
