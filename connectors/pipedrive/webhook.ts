/**
 * Pipedrive webhooks v2 (https://pipedrive.readme.io/docs/guide-for-webhooks-v2). Pipedrive signs
 * nothing; the guide's protection is HTTP basic auth on the subscription URL (`http_auth_user` /
 * `http_auth_password` when the webhook is created), sent on every delivery. tandem checks those
 * credentials in constant time, refuses an event whose `meta.timestamp` lies outside a window that
 * covers Pipedrive's retries (3, 30 and 150 s after the first attempt), and names every notice by
 * the event's `meta.id`, so that the intake drops an event it has seen, retried or replayed.
 */
import { z } from 'zod';
import type { ChangeNotice, InboundRequest, WebhookAdapter } from '../kit/types';
import { headerValue, secretsEqual, webhookAdapter } from '../kit/webhook';
import { toContactId } from './mappers';

/** How old an event may be: past the last retry (183 s after the first attempt), with room for clock skew. */
export const MAX_EVENT_AGE_MS = 10 * 60_000;
/** How far ahead of our clock an event may be (Pipedrive's clock against ours). */
export const MAX_EVENT_AHEAD_MS = 5 * 60_000;

/** The meta block of a v2 event, as far as tandem reads it. */
const metaSchema = z.object({
  /** The event's id: what makes a retry or a replay recognisable. */
  id: z.string().min(1),
  action: z.enum(['create', 'change', 'delete']),
  entity: z.string().min(1),
  entity_id: z.union([z.string().regex(/^\d{1,16}$/), z.number().int().positive()]),
  /** An RFC 3339 time (what Pipedrive sends), or epoch seconds (what the guide's table describes). */
  timestamp: z.union([z.string().min(1), z.number()]),
  version: z.literal('2.0'),
  /** On the delete of a merge: the record it was merged into. */
  merged_to_id: z.union([z.string().regex(/^\d{1,16}$/), z.number().int().positive()]).optional(),
});

/** One webhook v2 delivery: one event per call. */
export const webhookEventSchema = z.object({ meta: metaSchema });
/** A parsed webhook v2 delivery. */
export type PipedriveWebhookEvent = z.infer<typeof webhookEventSchema>;

/** The basic auth credentials Pipedrive was told to send (the webhook's http_auth_user and http_auth_password). */
export interface WebhookCredentials {
  user: string;
  password: string;
}

/** A v2 timestamp as epoch ms: RFC 3339 text, or epoch seconds (10 digits) or milliseconds; NaN when neither. */
export function eventMillis(timestamp: string | number): number {
  const numeric = typeof timestamp === 'number' ? timestamp : /^\d+$/.test(timestamp) ? Number(timestamp) : null;
  if (numeric === null) return Date.parse(timestamp as string);
  return numeric < 1e11 ? numeric * 1000 : numeric;
}

/** Why a call's basic auth does not carry the expected credentials; undefined when it does. */
export function basicAuthRefusal(request: InboundRequest, expected: WebhookCredentials): string | undefined {
  const header = headerValue(request.headers, 'authorization');
  if (header === undefined) return 'missing Authorization (HTTP basic auth)';
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match?.[1]) return 'Authorization is not HTTP basic auth';
  const given = Buffer.from(match[1], 'base64').toString('utf8');
  // Both compared whole, in constant time: user and password are not told apart.
  return secretsEqual(given, `${expected.user}:${expected.password}`) ? undefined : 'wrong basic auth credentials';
}

/** Why an event's time lies outside the window around `now`; undefined when it does not (or the body is unreadable: left to the schema). */
export function timestampRefusal(rawBody: Buffer, now: Date): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return undefined;
  }
  const timestamp = (json as { meta?: { timestamp?: unknown } } | null)?.meta?.timestamp;
  if (typeof timestamp !== 'string' && typeof timestamp !== 'number') return undefined;
  const at = eventMillis(timestamp);
  if (Number.isNaN(at)) return 'meta.timestamp is not a time';
  const age = now.getTime() - at;
  if (age > MAX_EVENT_AGE_MS) return 'event older than the 10 minute window';
  if (-age > MAX_EVENT_AHEAD_MS) return 'event more than 5 minutes ahead';
  return undefined;
}

/** The contact type of a v2 entity tandem syncs; null for deals, activities and the rest. */
function contactTypeOf(entity: string): 'company' | 'person' | null {
  if (entity === 'organization') return 'company';
  if (entity === 'person') return 'person';
  return null;
}

/**
 * The change notices of one event: none for entities tandem does not sync. A delete that is part
 * of a merge (`merged_to_id`) is no deletion: it names the survivor (see README.md for what the engine makes of it).
 */
export function noticesOf(event: PipedriveWebhookEvent): ChangeNotice[] {
  const { meta } = event;
  const type = contactTypeOf(meta.entity);
  if (type === null) return [];
  const at = eventMillis(meta.timestamp);
  const notice: ChangeNotice = {
    entity: 'contact',
    id: toContactId(type, meta.entity_id),
    eventId: `pipedrive-${meta.id}`,
    ...(!Number.isNaN(at) && { occurredAt: new Date(at).toISOString() }),
  };
  if (meta.action === 'delete') {
    if (meta.merged_to_id !== undefined) notice.mergedInto = toContactId(type, meta.merged_to_id);
    else notice.deleted = true;
  }
  return [notice];
}

/** The webhook adapter for deliveries carrying `credentials` as basic auth. */
export function pipedriveWebhook(credentials: WebhookCredentials): WebhookAdapter {
  return webhookAdapter({
    verify: (request, now) => basicAuthRefusal(request, credentials) ?? timestampRefusal(request.rawBody, now),
    body: webhookEventSchema,
    bodyName: 'a Pipedrive webhook v2 event',
    // One event per delivery: an array is no v2 delivery at all.
    events: { of: (json): unknown[] => (Array.isArray(json) ? (json as unknown[]) : [json]), max: 1 },
    read: (event) => noticesOf(event),
  });
}
