/**
 * Delivers the sandbox's changes as HubSpot v3 webhook calls: events batched up to 100 per
 * request after a short delay, signed with X-HubSpot-Signature-v3, retried a few times, then dropped.
 * https://developers.hubspot.com/docs/api/webhooks
 */
import { createHmac } from 'node:crypto';
import { WebhookOutbox } from '../../kit/sandbox/webhooks';
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
// The app's subscriptions: 1001-1003 for companies, 2001-2003 for contacts, in this order of kinds.
const KINDS: readonly StoreChange['kind'][] = ['creation', 'propertyChange', 'deletion'];

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

/** Turns store changes into events and delivers them, batched and signed, to the current target. */
export class WebhookDispatcher {
  private nextEventId = 1;
  private readonly outbox = new WebhookOutbox<SandboxWebhookEvent>(
    (events) => this.send(events),
    () => this.target?.batchDelayMs ?? 50,
  );
  /** Sends what is queued now and waits for every delivery in progress. */
  readonly flush = () => this.outbox.flush();
  /** Stops delivering: pending events are dropped, calls in progress are aborted. */
  readonly close = () => this.outbox.close();

  constructor(
    private target: WebhookTarget | null,
    private readonly log: (message: string) => void,
  ) {}

  /** Points deliveries somewhere else, or turns them off (pending events are dropped). */
  setTarget(target: WebhookTarget | null): void {
    this.target = target;
    if (target === null) this.outbox.clear();
  }

  /** Turns store changes into events and schedules their delivery. */
  enqueue(changes: StoreChange[]): void {
    if (this.target !== null) this.outbox.add(changes.map((change) => this.toEvent(change)));
  }

  private toEvent(change: StoreChange): SandboxWebhookEvent {
    const isCompany = change.objectType === 'companies';
    const { kind, propertyName, propertyValue = '' } = change;
    const changeFlag = { creation: 'CREATED', deletion: 'DELETED', propertyChange: undefined }[kind];
    return {
      eventId: this.nextEventId++,
      subscriptionId: (isCompany ? 1001 : 2001) + KINDS.indexOf(kind),
      portalId: SANDBOX_PORTAL_ID,
      appId: SANDBOX_APP_ID,
      occurredAt: change.occurredAt,
      subscriptionType: `${isCompany ? 'company' : 'contact'}.${kind}`,
      attemptNumber: 0,
      objectId: Number(change.objectId),
      changeSource: change.changeSource,
      ...(changeFlag === undefined ? {} : { changeFlag }),
      ...(propertyName === undefined ? {} : { propertyName, propertyValue }),
    };
  }

  private send(events: SandboxWebhookEvent[]): void {
    const target = this.target;
    if (target === null) return;
    for (let start = 0; start < events.length; start += MAX_EVENTS_PER_CALL) {
      const batch = events.slice(start, start + MAX_EVENTS_PER_CALL);
      const call = (attempt: number) => {
        // HubSpot resends the same events with a higher attemptNumber.
        const body = JSON.stringify(batch.map((event) => ({ ...event, attemptNumber: attempt })));
        const timestamp = String(Date.now());
        const signature = signWebhookCall(target.clientSecret, 'POST', target.targetUrl, body, timestamp);
        const headers = { 'Content-Type': 'application/json', 'X-HubSpot-Signature-Version': 'v3' };
        return {
          body,
          headers: { ...headers, 'X-HubSpot-Signature-v3': signature, 'X-HubSpot-Request-Timestamp': timestamp },
        };
      };
      const retryDelaysMs = target.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
      void this.outbox.deliver({ url: target.targetUrl, call, retryDelaysMs }).then((status) => {
        if (status >= 200 && status < 300) return;
        const failure = status === 0 ? 'no answer' : `answered ${status}`;
        this.log(`hubspot sandbox: dropped ${batch.length} webhook event(s) for ${target.targetUrl}: ${failure}`);
      });
    }
  }
}
