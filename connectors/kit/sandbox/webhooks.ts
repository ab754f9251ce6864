/**
 * Webhook delivery for the sandboxes: changes collect for a short delay, then the sandbox turns
 * them into calls; each call is retried as its provider retries, and every delivery is tracked so
 * `flush` can wait for all of them and `close` can cut them short.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

/** One webhook delivery: the call of each attempt, and how its provider retries a failure. */
export interface WebhookDelivery {
  url: string;
  /** The call of an attempt, built anew each time: signatures and attempt numbers change. */
  call: (attempt: number) => { headers: Record<string, string>; body: string };
  /** The wait before each retry; its length is the number of retries. */
  retryDelaysMs: readonly number[];
  /** Which answers are worth a retry (status 0: no answer); default every failure. */
  retryable?: (status: number) => boolean;
  /** Hears of every attempt's status. */
  onAttempt?: (status: number) => void;
}

const DELIVERY_TIMEOUT_MS = 5000;

/**
 * Deliveries as a real provider sometimes makes them: late, so a later call overtakes an earlier
 * one, and twice. Off by default.
 */
export interface WebhookDisorder {
  /** Share (0..1) of deliveries made a second time, after their own random delay. */
  duplicateRate?: number;
  /** Each delivery (and each duplicate) waits a random time up to this before its first attempt. */
  maxDelayMs?: number;
}

/** Collects changes, hands them to `dispatch` after a delay, and tracks the deliveries it starts. */
export class WebhookOutbox<Change> {
  private pending: Change[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly abort = new AbortController();
  private disorder: Required<WebhookDisorder> = { duplicateRate: 0, maxDelayMs: 0 };

  constructor(
    /** Turns collected changes into deliveries (through `deliver`). */
    private readonly dispatch: (changes: Change[]) => void,
    /** The delay before collected changes are dispatched. */
    private readonly delayMs: () => number,
  ) {
    // Every delivery in flight (late ones, with the disorder knob, many) listens for the close.
    setMaxListeners(10_000, this.abort.signal);
  }

  /** Collects changes; the first of a quiet period starts the delay. Ignored once closed. */
  add(changes: readonly Change[]): void {
    if (this.abort.signal.aborted) return;
    this.pending.push(...changes);
    this.timer ??= setTimeout(() => this.dispatchPending(), this.delayMs());
  }

  /** Drops the changes not dispatched yet. */
  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }

  /** Dispatches what is pending now and waits until every delivery has finished. */
  async flush(): Promise<void> {
    this.dispatchPending();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Stops: pending changes are dropped, deliveries in progress are aborted. */
  async close(): Promise<void> {
    this.clear();
    this.abort.abort();
    await Promise.allSettled([...this.inFlight]);
  }

  /** Makes later deliveries late and duplicated (see WebhookDisorder); `{}` puts them back in order. */
  setDisorder(disorder: WebhookDisorder): void {
    this.disorder = { duplicateRate: disorder.duplicateRate ?? 0, maxDelayMs: disorder.maxDelayMs ?? 0 };
  }

  /**
   * POSTs the delivery's calls until one succeeds or retries run out; resolves with the last status
   * (0: no answer). A duplicate made by the disorder knob is tracked for `flush` but not awaited here.
   */
  deliver(delivery: WebhookDelivery): Promise<number> {
    const { duplicateRate, maxDelayMs } = this.disorder;
    if (Math.random() < duplicateRate) void this.track(this.attempts(delivery, Math.random() * maxDelayMs));
    return this.track(this.attempts(delivery, Math.random() * maxDelayMs));
  }

  private track(attempts: Promise<number>): Promise<number> {
    this.inFlight.add(attempts);
    void attempts.finally(() => this.inFlight.delete(attempts));
    return attempts;
  }

  private dispatchPending(): void {
    const changes = this.pending;
    this.clear();
    if (changes.length > 0) this.dispatch(changes);
  }

  private async attempts(
    { url, call, retryDelaysMs, retryable, onAttempt }: WebhookDelivery,
    lateByMs: number,
  ): Promise<number> {
    const signal = this.abort.signal;
    if (lateByMs > 0 && !(await sleep(lateByMs, true, { signal }).catch(() => false))) return 0;
    for (let attempt = 0; ; attempt++) {
      let status = 0;
      try {
        const response = await fetch(url, {
          method: 'POST',
          ...call(attempt),
          signal: AbortSignal.any([signal, AbortSignal.timeout(DELIVERY_TIMEOUT_MS)]),
        });
        await response.arrayBuffer(); // drained, so the connection can be reused
        status = response.status;
      } catch {
        // No answer: refused, timed out, or the outbox closed.
      }
      onAttempt?.(status);
      const delay = retryDelaysMs[attempt];
      if ((status >= 200 && status < 300) || !(retryable?.(status) ?? true) || delay === undefined) return status;
      // Closing the outbox cuts the wait short and ends the delivery.
      const waited = await sleep(delay, true, { signal }).catch(() => false);
      if (!waited) return status;
    }
  }
}
