/**
 * Verifies and parses HubSpot webhook calls (signature v3).
 * https://developers.hubspot.com/docs/apps/legacy-apps/authentication/validating-requests
 */
import { createHmac } from 'node:crypto';
import type { ChangeNotice, WebhookAdapter } from '../kit/types';
import { headerValue, secretsEqual, webhookAdapter } from '../kit/webhook';
import { type HubSpotObjectType, toContactId } from './mappers';
import { type WebhookEvent, webhookBodySchema } from './schemas';

/** How old (or how far ahead) a request timestamp may be; HubSpot asks to reject older than 5 minutes. */
const SIGNATURE_TOLERANCE_MS = 5 * 60 * 1000;

/** Options of the webhook adapter. */
export interface HubSpotWebhookOptions {
  /** The app's client secret, the HMAC key of signature v3. */
  clientSecret: string;
  /**
   * The public URL HubSpot calls, when it differs from the URL the request arrived on (behind a
   * proxy that rewrites the host or path). Defaults to `request.url`.
   */
  publicUrl?: string;
}

/** The URI as HubSpot signs it: these percent-encoded characters decoded, whatever the caller sent. */
export function signatureUri(url: string): string {
  return url.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (code) => decodeURIComponent(code));
}

/** Computes X-HubSpot-Signature-v3: base64 HMAC-SHA256 of method + uri + body + timestamp. */
export function hubSpotSignatureV3(
  clientSecret: string,
  method: string,
  url: string,
  body: string,
  timestamp: string,
): string {
  return createHmac('sha256', clientSecret)
    .update(`${method.toUpperCase()}${signatureUri(url)}${body}${timestamp}`, 'utf8')
    .digest('base64');
}

/** Creates the webhook adapter of the HubSpot connector: signature v3 on the raw body, then the events. */
export function createHubSpotWebhook(options: HubSpotWebhookOptions): WebhookAdapter {
  return webhookAdapter({
    verify(request, now) {
      const signature = headerValue(request.headers, 'x-hubspot-signature-v3');
      const timestamp = headerValue(request.headers, 'x-hubspot-request-timestamp');
      if (!signature || !timestamp) return 'missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp';
      const sentAt = /^\d+$/.test(timestamp) ? Number(timestamp) : Number.NaN;
      if (!Number.isFinite(sentAt) || Math.abs(now.getTime() - sentAt) > SIGNATURE_TOLERANCE_MS)
        return 'request timestamp outside the 5 minute window';
      const body = request.rawBody.toString('utf8');
      const url = options.publicUrl ?? request.url;
      const expected = hubSpotSignatureV3(options.clientSecret, request.method, url, body, timestamp);
      return secretsEqual(signature, expected) ? undefined : 'signature mismatch';
    },
    body: webhookBodySchema,
    bodyName: 'an array of HubSpot events',
    // "HubSpot will send up to 100 notifications in a single request."
    events: { of: (json) => json, max: 100 },
    read: (events) => events.flatMap((event) => toChangeNotices(event)),
  });
}

// The event kinds that tell a record changed; associationChange and the rest are ignored.
const EVENT_KINDS = new Set<string>(['creation', 'propertyChange', 'deletion', 'restore', 'merge', 'privacyDeletion']);

const OBJECT_TYPE_BY_NAME: Record<string, HubSpotObjectType> = { company: 'companies', contact: 'contacts' };
// The newer developer platform names object types by id: 0-1 contacts, 0-2 companies.
const OBJECT_TYPE_BY_TYPE_ID: Record<string, HubSpotObjectType> = { '0-1': 'contacts', '0-2': 'companies' };

/**
 * Maps one event to change notices. Association changes and objects tandem does not sync map to
 * nothing. A merge reports the record the event names as changed; merged-away ids are not reported.
 */
function toChangeNotices(event: WebhookEvent): ChangeNotice[] {
  const [subject, kind] = event.subscriptionType.split('.', 2);
  if (!subject || !kind || !EVENT_KINDS.has(kind)) return [];
  const objectType =
    subject === 'object' ? OBJECT_TYPE_BY_TYPE_ID[event.objectTypeId ?? ''] : OBJECT_TYPE_BY_NAME[subject];
  if (!objectType || event.objectId === undefined) return [];
  const notice: ChangeNotice = {
    entity: 'contact',
    id: toContactId(objectType, String(event.objectId)),
    // Event ids are unique per portal and app; the prefix keeps them apart from other systems' ids.
    eventId: `hubspot-${String(event.eventId)}`,
    occurredAt: new Date(event.occurredAt).toISOString(),
  };
  if (kind === 'deletion' || kind === 'privacyDeletion') notice.deleted = true;
  return [notice];
}
