/**
 * Delivers the sandbox's changes as HubSpot v3 webhook calls: events batched up to 100 per
 * request after a short delay, signed with X-HubSpot-Signature-v3, retried a few times, then dropped.
 * https://developers.hubspot.com/docs/api/webhooks
 */
import { createHmac } from 'node:crypto';
import type { StoreChange } from './store';

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

/** The sandbox portal and app ids that appear in events. */
export const SANDBOX_PORTAL_ID = 62515;
export const SANDBOX_APP_ID = 54321;

const MAX_EVENTS_PER_CALL = 100;
const DEFAULT_RETRY_DELAYS_MS = [100, 250, 500];
const SUBSCRIPTION_IDS: Record<string, number> = {
  'company.creation': 1001,
  'company.propertyChange': 1002,
  'company.deletion': 1003,
  'contact.creation': 2001,
  'contact.propertyChange': 2002,
  'contact.deletion': 2003,
};

/** Signs a call the way HubSpot does (signature v3), with the URI characters HubSpot decodes. */
export function signWebhookCall(
  clientSecret: string,
  method: string,
  url: string,
  body: string,
  timestamp: string,
): string {
  const uri = url.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (code) => decodeURIComponent(code));
  return createHmac('sha256', clientSecret).update(`${method}${uri}${body}${timestamp}`, 'utf8').digest('base64');
}

/** Queues, batches, signs and sends webhook events. */
export class WebhookDispatcher {
  private queue: SandboxWebhookEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private nextEventId = 1;
  private closed = false;

  constructor(
    private target: WebhookTarget | null,
    private readonly log: (message: string) => void,
  ) {}

  /** Points deliveries somewhere else, or turns them off (pending events are dropped). */
  setTarget(target: WebhookTarget | null): void {
    this.target = target;
    if (target === null) {
      this.queue = [];
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** Turns store changes into events and schedules their delivery. */
  enqueue(changes: StoreChange[]): void {
    if (this.target === null || this.closed) return;
    for (const change of changes) this.queue.push(this.toEvent(change));
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.sendQueued();
    }, this.target.batchDelayMs ?? 50);
  }

  /** Sends what is queued now and waits for every delivery in progress. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.sendQueued();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Stops delivering: pending events are dropped, calls in progress are aborted. */
  async close(): Promise<void> {
    this.closed = true;
    this.setTarget(null);
    this.abort.abort();
    await Promise.allSettled([...this.inFlight]);
  }

  private toEvent(change: StoreChange): SandboxWebhookEvent {
    const subscriptionType = `${change.objectType === 'companies' ? 'company' : 'contact'}.${change.kind}`;
    return {
      eventId: this.nextEventId++,
      subscriptionId: SUBSCRIPTION_IDS[subscriptionType] ?? 0,
      portalId: SANDBOX_PORTAL_ID,
      appId: SANDBOX_APP_ID,
      occurredAt: change.occurredAt,
      subscriptionType,
      attemptNumber: 0,
      objectId: Number(change.objectId),
      changeSource: change.changeSource,
      ...(change.kind === 'creation' ? { changeFlag: 'CREATED' } : {}),
      ...(change.kind === 'deletion' ? { changeFlag: 'DELETED' } : {}),
      ...(change.propertyName === undefined
        ? {}
        : { propertyName: change.propertyName, propertyValue: change.propertyValue ?? '' }),
    };
  }

  private sendQueued(): void {
    const target = this.target;
    if (target === null) return;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_EVENTS_PER_CALL);
      const delivery = this.deliver(target, batch).finally(() => this.inFlight.delete(delivery));
      this.inFlight.add(delivery);
    }
  }

  private async deliver(target: WebhookTarget, events: SandboxWebhookEvent[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      // HubSpot resends the same events with a higher attemptNumber.
      const body = JSON.stringify(events.map((event) => ({ ...event, attemptNumber: attempt })));
      const timestamp = String(Date.now());
      let failure: string;
      try {
        const response = await fetch(target.targetUrl, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'X-HubSpot-Signature-v3': signWebhookCall(target.clientSecret, 'POST', target.targetUrl, body, timestamp),
            'X-HubSpot-Request-Timestamp': timestamp,
            'X-HubSpot-Signature-Version': 'v3',
          },
          body,
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(5_000)]),
        });
        // Drain the body so the connection can be reused.
        await response.arrayBuffer();
        if (response.ok) return;
        failure = `answered ${response.status}`;
      } catch (error) {
        failure = error instanceof Error ? error.message : String(error);
      }
      const delay = (target.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS)[attempt];
      if (delay === undefined || this.abort.signal.aborted) {
        this.log(`hubspot sandbox: dropped ${events.length} webhook event(s) for ${target.targetUrl}: ${failure}`);
        return;
      }
      // Closing the sandbox cuts the wait short; the next loop then drops the events.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.abort.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
  }
}
