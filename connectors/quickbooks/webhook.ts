/**
 * Verifies and reads QuickBooks Online's webhook calls: `intuit-signature` is the base64
 * HMAC-SHA256 of the raw body keyed with the app's verifier token. A call names entities of a
 * company by type and id; tandem reads them afterwards, many at a time (batch reads).
 * https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks
 */
import { createHash, createHmac } from 'node:crypto';
import type { AccountKind } from '../../src/core/model';
import type { ChangeNotice, WebhookAdapter } from '../kit/types';
import { headerValue, secretsEqual, webhookAdapter } from '../kit/webhook';
import { webhookBodySchema } from './schemas';

/** Options of the webhook adapter. */
export interface QboWebhookOptions {
  /** The verifier token shown on the app's Webhooks page. */
  verifierToken: string;
  /** Notifications of other companies are passed over. */
  realmId: string;
  /** Hears of each merge: `from` (the entity's deletedId) was merged into `survivor`. */
  onMerge?: (kind: AccountKind, from: string, survivor: string) => void;
}

/** The account kind an entity name stands for; other entities (invoices, ...) are none of tandem's. */
const KIND_OF: Readonly<Record<string, AccountKind>> = {
  Customer: 'customer',
  Vendor: 'vendor',
  Account: 'bankAccount',
};

/** The signature Intuit sends for `rawBody`. */
export function intuitSignature(rawBody: Buffer | string, verifierToken: string): string {
  return createHmac('sha256', verifierToken).update(rawBody).digest('base64');
}

/** Entities a call may name: Intuit documents no ceiling; a call carries one short window's changes. */
const MAX_NOTIFICATIONS = 1000;

// Intuit wants a 200 within 3 seconds; anything else counts as a failed delivery and is retried.
const ACK = { status: 200, emptyBody: true } as const;

/** Creates the adapter for one company. */
export function createQboWebhook({ verifierToken, realmId, onMerge }: QboWebhookOptions): WebhookAdapter {
  return webhookAdapter({
    verify: (request) => {
      const given = headerValue(request.headers, 'intuit-signature');
      if (given === undefined || given === '') return 'intuit-signature is missing';
      return secretsEqual(given, intuitSignature(request.rawBody, verifierToken))
        ? undefined
        : 'intuit-signature does not match';
    },
    body: webhookBodySchema,
    bodyName: 'a QuickBooks event notification',
    events: {
      of: (json) => (json as { eventNotifications?: unknown } | null)?.eventNotifications,
      max: MAX_NOTIFICATIONS,
    },
    read: ({ eventNotifications }) => {
      const notices: ChangeNotice[] = [];
      for (const notification of eventNotifications) {
        if (notification.realmId !== realmId) continue;
        for (const entity of notification.dataChangeEvent.entities) {
          const kind = KIND_OF[entity.name];
          if (kind === undefined) continue;
          const parts = [notification.realmId, entity.name, entity.id, entity.operation, entity.lastUpdated];
          const eventId = `qbo-${createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32)}`;
          const occurredAt = Date.parse(entity.lastUpdated);
          const at = Number.isNaN(occurredAt) ? {} : { occurredAt: new Date(occurredAt).toISOString() };
          // QBO never deletes a name: a "Delete" of an account is read back and seen for what it is.
          notices.push({ entity: kind, id: entity.id, eventId, ...at });
          // A merge removed deletedId: its relation is to move to the survivor, so it is planned too.
          if (entity.operation === 'Merge' && entity.deletedId !== undefined && entity.deletedId !== entity.id) {
            onMerge?.(kind, entity.deletedId, entity.id);
            notices.push({
              entity: kind,
              id: entity.deletedId,
              eventId: `${eventId}-merged`,
              mergedInto: entity.id,
              ...at,
            });
          }
        }
      }
      return { kind: 'notices', notices, ack: ACK };
    },
  });
}
