/**
 * Webhook side of the sandbox: the validationToken handshake and batched change notifications,
 * delivered the way BC delivers them (after a delay, one POST per notification URL, `collection`
 * when too many records changed, a few retries for 408/429/5xx, and the subscription deleted when
 * the subscriber answers with any other error).
 */
import { randomBytes } from 'node:crypto';
import { WebhookOutbox } from '../../kit/sandbox/webhooks';
import type { RecordChange, StoredSubscription } from './store';

/** How notifications are batched and delivered. */
export interface NotifierOptions {
  /** Wait after the first change before sending (BC: 30 s). */
  delayMs: number;
  /** More pending changes than this for one subscription become one `collection` item (BC: 1000). */
  collectionThreshold: number;
  /** Delivery attempts in all (BC retries over 36 hours; the sandbox over milliseconds). */
  deliveryAttempts: number;
  /** First retry delay, doubled each time. */
  retryDelayMs: number;
}

/** A notification item as BC sends it. */
export interface NotificationItem {
  subscriptionId: string;
  clientState: string;
  expirationDateTime: string;
  resource: string;
  changeType: 'created' | 'updated' | 'deleted' | 'collection';
  lastModifiedDateTime: string;
}

/** What the notifier needs from the server. */
export interface NotifierHost {
  companyId: string;
  subscriptions(): StoredSubscription[];
  removeSubscription(id: string): void;
}

/** Splits a subscription resource such as /api/v2.0/companies(<id>)/customers. */
export function parseSubscriptionResource(resource: string): { companyId: string; collection: string } | null {
  const [, companyId, collection] = /^\/?api\/v2\.0\/companies\(([^)]+)\)\/([A-Za-z]+)\/?$/.exec(resource.trim()) ?? [];
  if (companyId === undefined || collection === undefined) return null;
  return { companyId: companyId.replace(/^'(.*)'$/, '$1').toLowerCase(), collection };
}

/**
 * Performs BC's handshake: calls the notification URL with ?validationToken= and accepts it only
 * if the answer is 200 with the token as body.
 */
export async function validateNotificationUrl(notificationUrl: string, signal?: AbortSignal): Promise<boolean> {
  const token = randomBytes(16).toString('hex');
  const url = new URL(notificationUrl);
  url.searchParams.set('validationToken', token);
  try {
    const response = await fetch(url, { method: 'POST', signal: signal ?? AbortSignal.timeout(5000) });
    const body = await response.text();
    return response.status === 200 && body.trim() === token;
  } catch {
    return false;
  }
}

/** Collects changes and delivers them to subscribers. */
export class Notifier {
  /** Every delivery attempt, for tests: URL, HTTP status (0 = no answer) and item count. */
  readonly deliveries: Array<{ notificationUrl: string; status: number; items: number }> = [];
  private readonly outbox = new WebhookOutbox<RecordChange>(
    (changes) => this.dispatch(changes),
    () => this.options.delayMs,
  );

  constructor(
    private readonly host: NotifierHost,
    readonly options: NotifierOptions,
  ) {}

  /** Records a change; the first one of a quiet period starts the delay. */
  enqueue(change: RecordChange): void {
    this.outbox.add([change]);
  }

  /** Sends what is pending now and resolves when every delivery has finished. */
  flush(): Promise<void> {
    return this.outbox.flush();
  }

  /** Stops timers and cancels deliveries in flight. */
  close(): Promise<void> {
    return this.outbox.close();
  }

  private dispatch(changes: RecordChange[]): void {
    const byUrl = new Map<string, NotificationItem[]>();
    for (const subscription of this.host.subscriptions()) {
      if (Date.parse(subscription.expirationDateTime) <= Date.now()) continue;
      const target = parseSubscriptionResource(subscription.resource);
      if (target === null || target.companyId !== this.host.companyId) continue;
      const relevant = changes.filter((change) => change.collection.toLowerCase() === target.collection.toLowerCase());
      if (relevant.length === 0) continue;
      const items = byUrl.get(subscription.notificationUrl) ?? [];
      items.push(...this.itemsFor(subscription, target.collection, relevant));
      byUrl.set(subscription.notificationUrl, items);
    }
    const { deliveryAttempts, retryDelayMs } = this.options;
    const retryDelaysMs = Array.from(
      { length: Math.max(0, deliveryAttempts - 1) },
      (_, index) => retryDelayMs * 2 ** index,
    );
    const retryable = (status: number) => status === 0 || status === 408 || status === 429 || status >= 500;
    for (const [url, items] of byUrl) {
      const call = () => ({ headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ value: items }) });
      const onAttempt = (status: number) => this.deliveries.push({ notificationUrl: url, status, items: items.length });
      void this.outbox.deliver({ url, call, retryDelaysMs, retryable, onAttempt }).then((status) => {
        // BC deletes a subscription whose endpoint refuses a notification with another code.
        if ((status >= 200 && status < 300) || retryable(status)) return;
        for (const id of new Set(items.map((item) => item.subscriptionId))) this.host.removeSubscription(id);
      });
    }
  }

  private itemsFor(subscription: StoredSubscription, collection: string, changes: RecordChange[]): NotificationItem[] {
    const base = {
      subscriptionId: subscription.subscriptionId,
      clientState: subscription.clientState,
      expirationDateTime: subscription.expirationDateTime,
    };
    const prefix = `api/v2.0/companies(${this.host.companyId})/${collection}`;
    // One item per record: BC sends a record once even if it changed several times in the delay.
    const latest = new Map<string, RecordChange>();
    for (const change of changes) {
      const earlier = latest.get(change.id);
      const changeType =
        earlier?.changeType === 'created' && change.changeType === 'updated' ? 'created' : change.changeType;
      latest.set(change.id, { ...change, changeType });
    }
    if (latest.size > this.options.collectionThreshold) {
      const times = changes.map((change) => change.lastModifiedDateTime).sort();
      const since = new Date(Date.parse(times[0] ?? '') - 1).toISOString();
      const resource = `/${prefix}?$filter=lastModifiedDateTime%20gt%20${since}`;
      return [{ ...base, resource, changeType: 'collection', lastModifiedDateTime: times.at(-1) ?? since }];
    }
    return [...latest.values()].map((change) => ({
      ...base,
      resource: `${prefix}(${change.id})`,
      changeType: change.changeType,
      lastModifiedDateTime: change.lastModifiedDateTime,
    }));
  }
}
