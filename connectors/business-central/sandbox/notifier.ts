/**
 * Webhook side of the sandbox: the validationToken handshake and batched change notifications,
 * delivered the way BC delivers them (after a delay, one POST per notification URL, `collection`
 * when too many records changed, a few retries for 408/429/5xx, and the subscription deleted when
 * the subscriber answers with any other error).
 */
import { randomBytes } from 'node:crypto';
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
  const match = /^\/?api\/v2\.0\/companies\(([^)]+)\)\/([A-Za-z]+)\/?$/.exec(resource.trim());
  if (match === null) return null;
  return { companyId: match[1]!.replace(/^'(.*)'$/, '$1').toLowerCase(), collection: match[2]! };
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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Collects changes and delivers them to subscribers. */
export class Notifier {
  private pending: RecordChange[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  /** Every delivery attempt, for tests: URL, HTTP status (0 = no answer) and item count. */
  readonly deliveries: Array<{ notificationUrl: string; status: number; items: number }> = [];

  constructor(
    private readonly host: NotifierHost,
    readonly options: NotifierOptions,
  ) {}

  /** Records a change; the first one of a quiet period starts the delay. */
  enqueue(change: RecordChange): void {
    if (this.abort.signal.aborted) return;
    this.pending.push(change);
    this.timer ??= setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.options.delayMs);
  }

  /** Sends what is pending now and resolves when every delivery has finished. */
  async flush(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const changes = this.pending;
    this.pending = [];
    const byUrl = new Map<string, NotificationItem[]>();
    const now = Date.now();
    for (const subscription of this.host.subscriptions()) {
      if (Date.parse(subscription.expirationDateTime) <= now) continue;
      const target = parseSubscriptionResource(subscription.resource);
      if (target === null || target.companyId !== this.host.companyId) continue;
      const relevant = changes.filter((change) => change.collection.toLowerCase() === target.collection.toLowerCase());
      if (relevant.length === 0) continue;
      const items = byUrl.get(subscription.notificationUrl) ?? [];
      items.push(...this.itemsFor(subscription, target.collection, relevant));
      byUrl.set(subscription.notificationUrl, items);
    }
    const deliveries = [...byUrl].map(([url, items]) => this.track(this.deliver(url, items)));
    await Promise.all([...deliveries, ...this.inFlight]);
  }

  /** Stops timers and cancels deliveries in flight. */
  async close(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.pending = [];
    this.abort.abort();
    await Promise.allSettled([...this.inFlight]);
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
      const since = new Date(
        Math.min(...changes.map((change) => Date.parse(change.lastModifiedDateTime))) - 1,
      ).toISOString();
      const last = changes
        .map((change) => change.lastModifiedDateTime)
        .sort()
        .at(-1)!;
      return [
        {
          ...base,
          resource: `/${prefix}?$filter=lastModifiedDateTime%20gt%20${since}`,
          changeType: 'collection',
          lastModifiedDateTime: last,
        },
      ];
    }
    return [...latest.values()].map((change) => ({
      ...base,
      resource: `${prefix}(${change.id})`,
      changeType: change.changeType,
      lastModifiedDateTime: change.lastModifiedDateTime,
    }));
  }

  private track(delivery: Promise<void>): Promise<void> {
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
    return delivery;
  }

  private async deliver(notificationUrl: string, items: NotificationItem[]): Promise<void> {
    for (let attempt = 1; attempt <= this.options.deliveryAttempts; attempt++) {
      if (this.abort.signal.aborted) return;
      let status = 0;
      try {
        const response = await fetch(notificationUrl, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ value: items }),
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(5000)]),
        });
        status = response.status;
        await response.arrayBuffer();
      } catch {
        status = 0;
      }
      this.deliveries.push({ notificationUrl, status, items: items.length });
      if (status >= 200 && status < 300) return;
      const retryable = status === 0 || status === 408 || status === 429 || status >= 500;
      if (!retryable) {
        // BC deletes a subscription whose endpoint refuses a notification with another code.
        for (const id of new Set(items.map((item) => item.subscriptionId))) this.host.removeSubscription(id);
        return;
      }
      if (attempt < this.options.deliveryAttempts) await sleep(this.options.retryDelayMs * 2 ** (attempt - 1));
    }
  }
}
