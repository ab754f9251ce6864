/** The local HubSpot sandbox: a small server speaking the subset of the CRM v3 API tandem uses. */
export {
  type HubSpotSandbox,
  type HubSpotSandboxOptions,
  type InjectedFailures,
  type SandboxRecord,
  type SandboxRequest,
  startHubSpotSandbox,
} from './server';
export { type HubSpotSandboxSeed, hubspotSandboxSeed } from './seed';
export { type SandboxWebhookEvent, type WebhookTarget, signWebhookCall } from './webhooks';
