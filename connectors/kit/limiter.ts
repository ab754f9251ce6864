/**
 * A provider's published limits, kept on our side before it has to answer 429: `concurrency`
 * requests in flight, and in each window at most `max` started in any `perMs`, counting what the
 * provider says is left of a window (calls other apps make on the same account count too).
 */
import { RateLimitedError } from './errors';
import { currentPriority } from './priority';

/** One window of a provider's limit: at most `max` requests started in any `perMs`. */
export interface RequestWindow {
  max: number;
  perMs: number;
  /**
   * The response header in which the provider counts the requests left in this window (Xero's
   * X-MinLimit-Remaining). When it is down to the requests that may still be in flight, the window
   * counts as full until its oldest request has left it.
   */
  remainingHeader?: string;
}

/** Request limits, as a connector declares them. */
export interface RequestLimits {
  /** One window (HubSpot private apps: 190 per 10 s) or several (Xero: 60 a minute and 5,000 a day). */
  requests?: RequestWindow | readonly RequestWindow[];
  /** Requests in flight at once (Xero: 5 per tenant). */
  concurrency?: number;
  /** A wait for a window longer than this is not slept: RateLimitedError hands it to the queue. */
  maxWaitMs?: number;
}

/** What the HTTP client asks of a limiter: this in-process one, or a budget shared by every process (./budget.ts). */
export interface Limiter {
  /** Runs `call` once the limits admit it; RateLimitedError when the wait would exceed `maxWaitMs`. */
  run<T>(call: () => Promise<T>): Promise<T>;
  /** Reads the provider's count of the requests left in a window from a response's headers. */
  observe(headers: Readonly<Record<string, unknown>>): void;
  /** The provider answered 429 and asked for `ms` of quiet (Retry-After): no request starts before. */
  pause(ms: number): void;
}

/** Clock and sleep, injectable so tests need not wait. */
export interface LimiterClock {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

/** The real clock and sleep. */
export const REAL_CLOCK: LimiterClock = {
  now: Date.now,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** The published windows of a connector's limits, as a list. */
export function windowsOf(limits: RequestLimits): readonly RequestWindow[] {
  const { requests } = limits;
  return requests === undefined ? [] : 'max' in requests ? [requests] : requests;
}

/**
 * The indexes of the windows a response's headers report as used up: down to the requests that
 * may still be in flight, which may take what is left.
 */
export function exhaustedWindows(limits: RequestLimits, headers: Readonly<Record<string, unknown>>): number[] {
  return windowsOf(limits).flatMap(({ remainingHeader }, index) => {
    const remaining = remainingHeader === undefined ? Number.NaN : Number(headers[remainingHeader.toLowerCase()]);
    return remaining <= (limits.concurrency ?? 0) ? [index] : [];
  });
}

interface WindowState {
  window: RequestWindow;
  /** Start times within the window, oldest first. */
  started: number[];
  /** The provider said the window is used up: no request starts before this. */
  fullUntil: number;
}

/**
 * Admits calls within the declared limits; one per connector instance. A free slot goes to a
 * waiting interactive call before any waiting bulk call (see ./priority.ts).
 */
export class RequestLimiter implements Limiter {
  private inFlight = 0;
  private readonly waiting: Record<'interactive' | 'bulk', (() => void)[]> = { interactive: [], bulk: [] };
  private readonly windows: WindowState[];
  /** The provider asked for quiet (Retry-After): no request starts before this. */
  private pausedUntil = 0;

  constructor(
    private readonly limits: RequestLimits,
    private readonly clock: LimiterClock = REAL_CLOCK,
  ) {
    this.windows = windowsOf(limits).map((window) => ({ window, started: [], fullUntil: 0 }));
  }

  /** Runs `call` once a slot is free and every window has room for one more request. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    await this.acquireSlot();
    let admittedAt: number | undefined;
    try {
      admittedAt = await this.waitForWindows();
      return await call();
    } finally {
      if (admittedAt !== undefined) this.answered(admittedAt);
      this.releaseSlot();
    }
  }

  observe(headers: Readonly<Record<string, unknown>>): void {
    const now = this.clock.now();
    for (const index of exhaustedWindows(this.limits, headers)) {
      const state = this.windows[index] as WindowState;
      state.fullUntil = Math.max(state.fullUntil, (this.recent(state, now)[0] ?? now) + state.window.perMs);
    }
  }

  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
  }

  /**
   * A request admitted at `admittedAt` has its answer: it counts in every window from now, since
   * the provider counted it when it arrived, at some time up to its answer (see BudgetStore.answered).
   */
  private answered(admittedAt: number): void {
    const now = this.clock.now();
    for (const state of this.windows) {
      const index = state.started.indexOf(admittedAt);
      if (index >= 0) state.started.splice(index, 1);
      state.started.push(now);
    }
  }

  /** Waits until every window has room, and counts the request in each; answers when it did. */
  private async waitForWindows(): Promise<number> {
    const maxWaitMs = this.limits.maxWaitMs ?? Number.POSITIVE_INFINITY;
    for (;;) {
      const now = this.clock.now();
      let waitMs = this.pausedUntil - now;
      let reason = 'the provider asked for a pause';
      for (const state of waitMs > 0 ? [] : this.windows) {
        const { max, perMs } = state.window;
        const started = this.recent(state, now);
        const full = started.length >= max ? (started[0] ?? 0) + perMs : 0;
        const wait = Math.max(full, state.fullUntil) - now;
        if (wait > waitMs) [waitMs, reason] = [wait, `the limit of ${max} requests per ${perMs / 1000} s is reached`];
      }
      if (waitMs <= 0) {
        for (const state of this.windows) state.started.push(now);
        return now;
      }
      if (waitMs > maxWaitMs) throw new RateLimitedError(`${reason} (next in ${waitMs} ms)`, waitMs);
      await this.clock.sleep(waitMs);
    }
  }

  /** The window's start times, after dropping those that have left it. */
  private recent(state: WindowState, now: number): number[] {
    while ((state.started[0] ?? now) <= now - state.window.perMs) state.started.shift();
    return state.started;
  }

  private async acquireSlot(): Promise<void> {
    if (this.inFlight < (this.limits.concurrency ?? Number.POSITIVE_INFINITY)) {
      this.inFlight++;
      return;
    }
    // The releasing call hands its slot over directly, so inFlight stays counted.
    await new Promise<void>((resolve) => this.waiting[currentPriority()].push(resolve));
  }

  private releaseSlot(): void {
    const next = this.waiting.interactive.shift() ?? this.waiting.bulk.shift();
    if (next) next();
    else this.inFlight--;
  }
}
