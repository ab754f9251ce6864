/**
 * Verifies and parses Xero's webhook calls: x-xero-signature is the base64 HMAC-SHA256 of the raw
 * body keyed with the webhook key. Xero first sends an "intent to receive" check, some with a bad
 * signature on purpose: the endpoint must answer 200 with an empty body for a good signature and
 * 401 for a bad one, and it must do the same for every later delivery.
 * https://developer.xero.com/documentation/guides/webhooks/configuring-your-server/
 */
import { createHash, createHmac } from 'node:crypto';
import type { AccountKind, Entity } from '../../src/core/model';
import type { ChangeNotice, WebhookAdapter } from '../kit/types';
import { headerValue, secretsEqual, webhookAdapter } from '../kit/webhook';
import { CONTACT_KINDS } from './mappers';
import { parseXeroDate, webhookBodySchema, type WebhookEvent } from './schemas';

/** Options of the webhook adapter. */
export interface XeroWebhookOptions {
  /** The webhook key shown on the app's Webhooks page. */
  key: string;
  /** Events of other organisations are ignored. */
  tenantId: string;
  /**
   * The kinds a contact is known to be (from the connector's reads); undefined when it has not
   * been seen. Known contacts become notices of those kinds.
   */
  knownKinds?: (contactId: string) => readonly AccountKind[] | undefined;
}

/** The signature Xero sends for `rawBody`. */
export function xeroSignature(rawBody: Buffer | string, key: string): string {
  return createHmac('sha256', key).update(rawBody).digest('base64');
}

/** A notice's event id: the same for Xero's redeliveries of one event, distinct per kind. */
export function webhookEventId(event: WebhookEvent, kind: AccountKind): string {
  const parts = [event.tenantId, event.eventCategory, event.resourceId, event.eventType, event.eventDateUtc];
  const digest = createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);
  return `${digest}-${kind}`;
}

// Xero counts anything but 200 as a failed delivery and turns webhooks off after repeated failures.
const ACK = { status: 200, emptyBody: true } as const;

/** Creates the adapter for one organisation. */
export function createXeroWebhook(options: XeroWebhookOptions): WebhookAdapter {
  const tenantId = options.tenantId.toLowerCase();
  return webhookAdapter({
    verify: (request) =>
      secretsEqual(headerValue(request.headers, 'x-xero-signature') ?? '', xeroSignature(request.rawBody, options.key))
        ? undefined
        : 'x-xero-signature does not match',
    body: webhookBodySchema,
    bodyName: 'a Xero webhook payload',
    // Xero documents no maximum; a payload carries the events of one short window, never near this.
    events: { of: (json) => (json as { events?: unknown } | null)?.events, max: 1000 },
    read: ({ events }) => {
      // The intent-to-receive check carries no events and wants exactly 200 with an empty body.
      if (events.length === 0) return { kind: 'respond', status: 200, contentType: 'text/plain', body: '' };
      const notices: ChangeNotice[] = [];
      const pollEntities = new Set<Entity>();
      for (const event of events) {
        if (event.eventCategory !== 'CONTACT' || event.tenantId.toLowerCase() !== tenantId) continue;
        const known = options.knownKinds?.(event.resourceId)?.filter((kind) => CONTACT_KINDS.some((k) => k === kind));
        if (known === undefined || known.length === 0) {
          // Which kind a new contact is only a read can tell: both kinds' pollers look (one
          // If-Modified-Since call each) and report it under the kinds it has.
          for (const kind of CONTACT_KINDS) pollEntities.add(kind);
          continue;
        }
        const occurredAt = parseXeroDate(event.eventDateUtc);
        for (const kind of known)
          notices.push({
            entity: kind,
            id: event.resourceId,
            eventId: webhookEventId(event, kind),
            ...(occurredAt === null ? {} : { occurredAt }),
          });
      }
      return { kind: 'notices', notices, ack: ACK, ...(pollEntities.size > 0 && { pollEntities: [...pollEntities] }) };
    },
  });
}
