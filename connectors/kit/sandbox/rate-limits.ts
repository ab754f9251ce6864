/**
 * The providers' published rate limits, enforced the way the providers enforce them: a token
 * bucket per limit holds `limit` calls and refills evenly over `windowMs`, so a burst up to the
 * limit passes and so does a steady pace below it; a call that finds a bucket empty is refused
 * with the provider's own 429 and Retry-After. A concurrency limit counts the calls in flight.
 */

/** An answer in a provider's own shape: status, headers and a JSON (or text) body. */
export interface SandboxAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** The numbers of one limit. */
export interface RateLimitNumbers {
  /** Calls a bucket holds, or calls in flight at once when `windowMs` is absent. */
  limit: number;
  /** The time in which a bucket refills `limit` calls; absent for a concurrency limit. */
  windowMs?: number;
}

/** One published limit: its numbers, which calls it counts, and how the provider refuses and reports. */
export interface RateLimit extends RateLimitNumbers {
  /** Whether a call counts against this limit (default: every API call). */
  counts?: (call: { method: string; path: string }) => boolean;
  /** The provider's 429 for this limit (body and headers besides Retry-After), told how many seconds to wait. */
  refuse: (retryAfterSeconds: number) => Omit<SandboxAnswer, 'status'>;
  /** Headers the provider reports the limit in on every answer it counts. */
  report?: (remaining: number, numbers: RateLimitNumbers) => Record<string, string>;
}

/** The knob of a sandbox: false turns every limit off (unit tests); an entry sets other numbers, or false turns one off. */
export type RateLimitsOption<Name extends string> = false | Partial<Record<Name, Partial<RateLimitNumbers> | false>>;

/** A sandbox's limits with its knob applied. */
export function applyRateLimitsOption<Name extends string>(
  published: Record<Name, RateLimit>,
  option: RateLimitsOption<Name> | undefined,
): RateLimit[] {
  if (option === false) return [];
  return (Object.entries(published) as [Name, RateLimit][]).flatMap(([name, limit]) => {
    const override = option?.[name];
    return override === false ? [] : [{ ...limit, ...override }];
  });
}

/** What the limiter says to one call: refused with the provider's 429, or admitted with headers to add. */
export type Admission =
  { admitted: false; answer: SandboxAnswer } | { admitted: true; headers: Record<string, string>; release: () => void };

interface LimitState {
  limit: RateLimit;
  tokens: number;
  updatedAt: number;
  inFlight: number;
}

/** Admits calls under a set of limits; `now` is injectable so tests can move time. */
export class RateLimiter {
  private readonly states: LimitState[];

  constructor(
    limits: readonly RateLimit[],
    private readonly now: () => number = Date.now,
  ) {
    this.states = limits.map((limit) => ({ limit, tokens: limit.limit, updatedAt: now(), inFlight: 0 }));
  }

  /**
   * Takes a token from every limit the call counts against, or none when one of them is empty:
   * then the call is refused by the limit that frees up last, with Retry-After in whole seconds.
   */
  admit(call: { method: string; path: string }): Admission {
    const counted = this.states.filter((state) => state.limit.counts?.(call) ?? true);
    let refusing: { state: LimitState; waitMs: number } | undefined;
    for (const state of counted) {
      const waitMs = this.waitMs(state);
      if (waitMs > 0 && waitMs > (refusing?.waitMs ?? 0)) refusing = { state, waitMs };
    }
    if (refusing !== undefined) {
      const { limit } = refusing.state;
      const retryAfterSeconds = Math.max(1, Math.ceil(refusing.waitMs / 1000));
      const answer = limit.refuse(retryAfterSeconds);
      const headers = { 'Retry-After': String(retryAfterSeconds), ...limit.report?.(0, limit), ...answer.headers };
      return { admitted: false, answer: { ...answer, status: 429, headers } };
    }
    const headers: Record<string, string> = {};
    for (const state of counted) {
      if (state.limit.windowMs === undefined) state.inFlight++;
      else state.tokens -= 1;
      const remaining = state.limit.windowMs === undefined ? state.limit.limit - state.inFlight : state.tokens;
      Object.assign(headers, state.limit.report?.(Math.floor(remaining), state.limit));
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      for (const state of counted) if (state.limit.windowMs === undefined) state.inFlight--;
    };
    return { admitted: true, headers, release };
  }

  // How long until the limit admits one more call (0: now), refilling the bucket on the way.
  private waitMs(state: LimitState): number {
    const { limit, windowMs } = state.limit;
    if (windowMs === undefined) return state.inFlight < limit ? 0 : 1000;
    const now = this.now();
    state.tokens = Math.min(limit, state.tokens + ((now - state.updatedAt) * limit) / windowMs);
    state.updatedAt = now;
    return state.tokens >= 1 ? 0 : Math.ceil(((1 - state.tokens) * windowMs) / limit);
  }
}
