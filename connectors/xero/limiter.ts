/**
 * Xero's per-tenant limits, kept before Xero has to answer 429: at most 5 calls in flight and 60 in
 * any minute, and a pause until the minute window has passed when X-MinLimit-Remaining runs low.
 * https://developer.xero.com/documentation/guides/oauth2/limits/
 */
import { RateLimitedError } from '../kit/errors';

/** Xero's limits and the margin kept below them. */
export interface RateLimits {
  /** Calls in flight at once (Xero: 5 per tenant). */
  concurrent: number;
  /** Calls per rolling minute (Xero: 60 per tenant). */
  perMinute: number;
  /** Pause when X-MinLimit-Remaining falls to this or below (default: `concurrent`, the calls that may still be in flight). */
  minuteReserve: number;
}

/** Xero's documented limits. */
export const XERO_LIMITS: RateLimits = { concurrent: 5, perMinute: 60, minuteReserve: 5 };

const MINUTE_MS = 60_000;

/** Clock and sleep, injectable so tests need not wait. */
export interface LimiterClock {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

const realClock: LimiterClock = { now: Date.now, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

/** Admits calls under Xero's limits and learns from its rate headers. */
export class XeroRateLimiter {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  /** Start times of the calls of the last minute. */
  private readonly started: number[] = [];
  private pausedUntil = 0;
  private dayExhausted = false;
  private readonly limits: RateLimits;

  constructor(
    limits: Partial<RateLimits> = {},
    private readonly clock: LimiterClock = realClock,
  ) {
    this.limits = { ...XERO_LIMITS, ...limits };
  }

  /** Runs `call` once a slot is free and the minute budget allows it. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.dayExhausted)
      throw new RateLimitedError(
        'xero: the daily call limit of the tenant is used up (X-DayLimit-Remaining: 0)',
        10 * MINUTE_MS,
      );
    await this.acquireSlot();
    try {
      await this.waitForMinuteBudget();
      this.started.push(this.clock.now());
      return await call();
    } finally {
      this.releaseSlot();
    }
  }

  /**
   * Reads Xero's X-MinLimit-Remaining and X-DayLimit-Remaining. When the minute budget is down to
   * the reserve, later calls wait until the oldest call of the window is a minute old.
   */
  observe(headers: Record<string, unknown>): void {
    const minute = Number(headers['x-minlimit-remaining']);
    if (Number.isFinite(minute) && minute <= this.limits.minuteReserve) {
      const oldest = this.recentStarts()[0] ?? this.clock.now();
      this.pausedUntil = Math.max(this.pausedUntil, oldest + MINUTE_MS);
    }
    const day = Number(headers['x-daylimit-remaining']);
    if (Number.isFinite(day)) this.dayExhausted = day <= 0;
  }

  /** When calls resume after a pause (0: not paused), for tests and logs. */
  get resumesAt(): number {
    return this.pausedUntil;
  }

  private recentStarts(): number[] {
    const since = this.clock.now() - MINUTE_MS;
    while (this.started.length > 0 && this.started[0]! <= since) this.started.shift();
    return this.started;
  }

  private async waitForMinuteBudget(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      if (now < this.pausedUntil) {
        await this.clock.sleep(this.pausedUntil - now);
        continue;
      }
      const recent = this.recentStarts();
      if (recent.length < this.limits.perMinute) return;
      await this.clock.sleep(recent[0]! + MINUTE_MS - now);
    }
  }

  private async acquireSlot(): Promise<void> {
    if (this.inFlight < this.limits.concurrent) {
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
