/**
 * A provider's published limits, kept on our side before the provider has to answer 429: at most
 * `concurrency` requests in flight, at most `requests.max` started in any `requests.perMs` window.
 * The HTTP client runs every attempt through the limiter of its connector (see ./define.ts).
 */

/** Request limits, as a connector declares them. */
export interface RequestLimits {
  /** At most `max` requests started in any `perMs` window (HubSpot private apps: 190 per 10 s). */
  requests?: { max: number; perMs: number };
  /** Requests in flight at once (Xero: 5 per tenant). */
  concurrency?: number;
}

/** Clock and sleep, injectable so tests need not wait. */
export interface LimiterClock {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

const realClock: LimiterClock = { now: Date.now, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

/** Admits calls within the declared limits; one per connector instance. */
export class RequestLimiter {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  /** Start times within the current window, oldest first. */
  private readonly started: number[] = [];

  constructor(
    private readonly limits: RequestLimits,
    private readonly clock: LimiterClock = realClock,
  ) {}

  /** Runs `call` once a slot is free and the window has room for one more request. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    await this.acquireSlot();
    try {
      await this.waitForWindow();
      return await call();
    } finally {
      this.releaseSlot();
    }
  }

  private async waitForWindow(): Promise<void> {
    const window = this.limits.requests;
    if (window === undefined) return;
    for (;;) {
      const now = this.clock.now();
      while (this.started.length > 0 && (this.started[0] ?? now) <= now - window.perMs) this.started.shift();
      const oldest = this.started[0];
      if (oldest === undefined || this.started.length < window.max) {
        this.started.push(now);
        return;
      }
      await this.clock.sleep(oldest + window.perMs - now);
    }
  }

  private async acquireSlot(): Promise<void> {
    if (this.inFlight < (this.limits.concurrency ?? Number.POSITIVE_INFINITY)) {
      this.inFlight++;
      return;
    }
    // The releasing call hands its slot over directly, so inFlight stays counted.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private releaseSlot(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }
}
