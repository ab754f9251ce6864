/**
 * Delivers the sandbox's changes as HubSpot v3 webhook calls: events batched up to 100 per
 * request after a short delay, signed with X-HubSpot-Signature-v3 by the connector's own signer
 * (which webhook.test.ts checks against HubSpot's recipe), retried a few times, then dropped.
 * https://developers.hubspot.com/docs/api/webhooks
 */
import type { RecordChange } from '../../kit/sandbox/records';
import { WebhookOutbox, type WebhookDisorder } from '../../kit/sandbox/webhooks';
import { hubSpotSignatureV3 } from '../webhook';
import type { SandboxObjectType } from './properties';

/** Where and how the sandbox delivers webhooks. */
export interface WebhookTarget {
  targetUrl: string;
  /** The app's client secret that signs each call. */
  clientSecret: string;
  /** How long changes are collected before a call (default 50 ms). */
  batchDelayMs?: number;
  /** Waits before each retry of a failed call; its length is the number of retries (default 100, 250, 500 ms). */
  retryDelaysMs?: number[];
}

/** One event as HubSpot sends it. */
export interface SandboxWebhookEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  occurredAt: number;
  subscriptionType: string;
  attemptNumber: number;
  objectId: number;
  changeSource: string;
  changeFlag?: string;
  propertyName?: string;
  propertyValue?: string;
}

// The sandbox portal and app ids that appear in events.
const SANDBOX_PORTAL_ID = 62515;
export const SANDBOX_APP_ID = 54321;
const MAX_EVENTS_PER_CALL = 100;
// The app's subscriptions: 1001-1003 for companies, 2001-2003 for contacts, one per kind of change.
const KINDS = {
  created: { name: 'creation', subscription: 0, changeFlag: 'CREATED' },
  updated: { name: 'propertyChange', subscription: 1 },
  deleted: { name: 'deletion', subscription: 2, changeFlag: 'DELETED' },
};

/** Turns record changes into events and delivers them, batched and signed, to the current target. */
export function hubspotWebhooks(
  initial: WebhookTarget | undefined,
  log: (message: string) => void,
  /** The portal's clock: the signature's timestamp is HubSpot's time of sending. */
  now: () => number = Date.now,
) {
  let target = initial ?? null;
  let nextEventId = 1;
  const outbox = new WebhookOutbox<SandboxWebhookEvent>(send, () => target?.batchDelayMs ?? 50);

  function send(events: SandboxWebhookEvent[]): void {
    const to = target;
    if (to === null) return;
    for (let start = 0; start < events.length; start += MAX_EVENTS_PER_CALL) {
      const batch = events.slice(start, start + MAX_EVENTS_PER_CALL);
      const call = (attempt: number) => {
        // HubSpot resends the same events with a higher attemptNumber.
        const body = JSON.stringify(batch.map((event) => ({ ...event, attemptNumber: attempt })));
        const timestamp = String(now());
        const signature = hubSpotSignatureV3(to.clientSecret, 'POST', to.targetUrl, body, timestamp);
        const headers = { 'Content-Type': 'application/json', 'X-HubSpot-Signature-Version': 'v3' };
        return {
          body,
          headers: { ...headers, 'X-HubSpot-Signature-v3': signature, 'X-HubSpot-Request-Timestamp': timestamp },
        };
      };
      const retryDelaysMs = to.retryDelaysMs ?? [100, 250, 500];
      void outbox.deliver({ url: to.targetUrl, call, retryDelaysMs }).then((status) => {
        if (status >= 200 && status < 300) return;
        const failure = status === 0 ? 'no answer' : `answered ${status}`;
        log(`hubspot sandbox: dropped ${batch.length} webhook event(s) for ${to.targetUrl}: ${failure}`);
      });
    }
  }

  return {
    /** Turns a change into events (one per changed property) and schedules their delivery. */
    enqueue({ collection, kind, by, record, before }: RecordChange<SandboxObjectType, Record<string, string>>) {
      if (target === null) return;
      const { name, subscription, ...flag } = KINDS[kind];
      const after: Record<string, string> = kind === 'updated' ? record.fields : {};
      const changed = Object.keys({ ...before, ...after }).filter((property) => before?.[property] !== after[property]);
      const properties = kind === 'updated' ? changed : [undefined];
      outbox.add(
        properties.map((propertyName) => ({
          eventId: nextEventId++,
          subscriptionId: (collection === 'companies' ? 1001 : 2001) + subscription,
          portalId: SANDBOX_PORTAL_ID,
          appId: SANDBOX_APP_ID,
          occurredAt: record.updatedAt,
          subscriptionType: `${collection === 'companies' ? 'company' : 'contact'}.${name}`,
          attemptNumber: 0,
          objectId: Number(record.id),
          changeSource: by === 'user' ? 'CRM_UI' : 'INTEGRATION',
          ...flag,
          ...(propertyName === undefined ? {} : { propertyName, propertyValue: after[propertyName] ?? '' }),
        })),
      );
    },
    /** Points deliveries somewhere else, or turns them off (pending events are dropped). */
    setTarget(next: WebhookTarget | null) {
      target = next;
      if (next === null) outbox.clear();
    },
    /** Makes deliveries late (out of order) and duplicated, as HubSpot's sometimes are. */
    disorder: (disorder: WebhookDisorder) => outbox.setDisorder(disorder),
    flush: () => outbox.flush(),
    close: () => outbox.close(),
  };
}
