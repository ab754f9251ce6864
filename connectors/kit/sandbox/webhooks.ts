/**
 * Webhook delivery for the sandboxes: changes collect for a short delay, then the sandbox turns
 * them into calls; each call is retried as its provider retries, and every delivery is tracked so
 * `flush` can wait for all of them and `close` can cut them short.
 */

/** One attempt of a webhook call; built anew per attempt, since signatures and attempt numbers change. */
export interface WebhookCall {
  headers: Record<string, string>;
  body: string;
}

/** How a provider retries a failed call. */
export interface WebhookRetries {
  /** The wait before each retry; its length is the number of retries. */
  delaysMs: readonly number[];
  /** Which answers are worth a retry (status 0: no answer); default every failure. */
  retryable?: (status: number) => boolean;
}

const DELIVERY_TIMEOUT_MS = 5000;

/** Collects changes, hands them to `dispatch` after a delay, and tracks the deliveries it starts. */
export class WebhookOutbox<Change> {
  private pending: Change[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly abort = new AbortController();

  constructor(
    /** Turns collected changes into deliveries (through `deliver`). */
    private readonly dispatch: (changes: Change[]) => void,
    /** The delay before collected changes are dispatched. */
    private readonly delayMs: () => number,
  ) {}

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

  /**
   * POSTs a call to `url`, retrying as told, and resolves with the last status (0: no answer).
   * `onAttempt` hears of every attempt.
   */
  deliver(
    url: string,
    call: (attempt: number) => WebhookCall,
    retries: WebhookRetries,
    onAttempt?: (status: number) => void,
  ): Promise<number> {
    const delivery = this.attempts(url, call, retries, onAttempt);
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
    return delivery;
  }

  private dispatchPending(): void {
    const changes = this.pending;
    this.clear();
    if (changes.length > 0) this.dispatch(changes);
  }

  private async attempts(
    url: string,
    call: (attempt: number) => WebhookCall,
    retries: WebhookRetries,
    onAttempt?: (status: number) => void,
  ): Promise<number> {
    const retryable = retries.retryable ?? (() => true);
    for (let attempt = 0; ; attempt++) {
      const status = await this.post(url, call(attempt));
      onAttempt?.(status);
      const delay = retries.delaysMs[attempt];
      if ((status >= 200 && status < 300) || !retryable(status) || delay === undefined) return status;
      if (!(await this.wait(delay))) return status;
    }
  }

  private async post(url: string, { headers, body }: WebhookCall): Promise<number> {
    try {
      const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(DELIVERY_TIMEOUT_MS)]);
      const response = await fetch(url, { method: 'POST', headers, body, signal });
      // Drain the body so the connection can be reused.
      await response.arrayBuffer();
      return response.status;
    } catch {
      return 0;
    }
  }

  // Resolves true after `ms`, or false at once when the outbox closes (before or during the wait).
  private wait(ms: number): Promise<boolean> {
    const signal = this.abort.signal;
    return new Promise((resolve) => {
      if (signal.aborted) {
        resolve(false);
        return;
      }
      const timer = setTimeout(() => resolve(true), ms);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve(false);
        },
        { once: true },
      );
    });
  }
}
