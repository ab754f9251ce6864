/**
 * A provider's request budget shared by every process of a deployment: the api, worker and
 * scheduler roles, and within them every kind of call (reads, writes, polls, matching, the drift
 * sweep), spend one budget, so that together they stay under the provider's ceiling instead of
 * each keeping the whole of it and answering 429 between them.
 *
 * The kit holds the waiting (SharedLimiter); the shared state lives behind BudgetStore, which the
 * app hands in through the connector's context (Redis in the daemon, see src/queue/budget.ts).
 * Without one a connector keeps its limits in process (./limiter.ts), as in unit tests.
 */
import { randomUUID } from 'node:crypto';
import { RateLimitedError } from './errors';
import {
  exhaustedWindows,
  REAL_CLOCK,
  RequestLimiter,
  windowsOf,
  type Limiter,
  type LimiterClock,
  type RequestLimits,
} from './limiter';
import { currentPriority, type RequestPriority } from './priority';

/** The share of a provider's published ceiling a budget spends unless the config says less. */
export const DEFAULT_BUDGET_SHARE = 0.9;

/** What the config says of a connector's budget. */
export interface BudgetSizing {
  /** The share of each published window the budget admits (0 < share <= 1). */
  share: number;
  /** Requests in flight at once, across every process; at most the provider's own limit. */
  concurrency?: number;
}

/** The numbers a shared budget admits by, sized from the provider's published limits. */
export interface BudgetLimits {
  /** One per published window, in the order the connector declares them. */
  windows: readonly { max: number; perMs: number }[];
  /** Requests in flight at once across every process, when the provider or the config limits it. */
  concurrency?: number;
}

/**
 * A budget sized from the provider's published limits: `share` of each window, rounded down but
 * at least one request; the concurrency is the provider's, or the config's when that is lower.
 */
export function sizeBudget(
  limits: RequestLimits,
  sizing: BudgetSizing = { share: DEFAULT_BUDGET_SHARE },
): BudgetLimits {
  if (!(sizing.share > 0 && sizing.share <= 1))
    throw new RangeError(`a budget's share must be above 0 and at most 1, not ${sizing.share}`);
  const windows = windowsOf(limits).map(({ max, perMs }) => ({
    max: Math.max(1, Math.floor(max * sizing.share)),
    perMs,
  }));
  const bounds = [limits.concurrency, sizing.concurrency].filter((value) => value !== undefined);
  return { windows, ...(bounds.length > 0 && { concurrency: Math.min(...bounds) }) };
}

/** The shared budget's answer to one admission. */
export type BudgetAnswer = { admitted: true } | { admitted: false; waitMs: number; reason: string };

/**
 * The shared side of a budget, where every process sees it. Each method is one atomic step, so
 * two processes admitting at the same instant cannot both take the last request of a window.
 */
export interface BudgetStore {
  readonly limits: BudgetLimits;
  /**
   * Admits one request: counted in every window, holding a concurrency lease (which expires if
   * the process dies) when the budget limits concurrency. Or refuses it with how long to wait;
   * an interactive refusal is remembered for that long, and bulk admissions wait behind it.
   * `id` names this admission (unique across processes); a refused one asks again with the same.
   */
  admit(id: string, priority: RequestPriority): Promise<BudgetAnswer>;
  /** Ends admission `id`: its concurrency lease, and its place ahead of bulk work if it was refused. */
  release(id: string): Promise<void>;
  /**
   * Admission `id`'s request has its answer: it ends as `release` does, and the request counts in
   * every window from now on. The provider counted it when it arrived, at some time between its
   * admission and its answer; a request held up on the way (a busy process, a slow network) must
   * not let the next window's requests reach the provider while it still counts this one.
   */
  answered(id: string): Promise<void>;
  /** No request starts anywhere for `ms` from now (the provider's Retry-After). */
  pause(ms: number): Promise<void>;
  /** The provider says window `index` is used up: no request starts until its oldest request has left it. */
  exhaust(index: number): Promise<void>;
}

/** Builds a connector's shared budget from the limits it declares (what the app puts in ConnectorContext). */
export type BudgetFactory = (limits: RequestLimits) => BudgetStore;

/**
 * A limiter over a shared budget. In process it still orders its own waiting calls (interactive
 * first) and holds no more than the budget's concurrency; across processes the store decides.
 * When the store cannot be reached, calls are kept to the budget in this process alone rather
 * than failed: Redis being away must not stop interactive work the provider would accept.
 */
export class SharedLimiter implements Limiter {
  private readonly gate: RequestLimiter;
  private readonly fallback: RequestLimiter;
  private readonly process = randomUUID();
  private sequence = 0;

  constructor(
    private readonly declared: RequestLimits,
    private readonly store: BudgetStore,
    private readonly clock: LimiterClock = REAL_CLOCK,
  ) {
    const { windows, concurrency } = store.limits;
    this.gate = new RequestLimiter(concurrency === undefined ? {} : { concurrency }, clock);
    this.fallback = new RequestLimiter({ requests: windows, maxWaitMs: declared.maxWaitMs }, clock);
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    return this.gate.run(async () => {
      const id = `${this.process}:${++this.sequence}`;
      try {
        await this.admit(id);
      } catch (error) {
        if (error instanceof RateLimitedError) throw error;
        return this.fallback.run(call);
      }
      try {
        return await call();
      } finally {
        // Not told, the store keeps the request at its admission, and a lease expires on its own.
        this.store.answered(id).catch(() => undefined);
      }
    });
  }

  observe(headers: Readonly<Record<string, unknown>>): void {
    this.fallback.observe(headers);
    for (const index of exhaustedWindows(this.declared, headers)) this.store.exhaust(index).catch(() => undefined);
  }

  pause(ms: number): void {
    this.fallback.pause(ms);
    this.store.pause(ms).catch(() => undefined);
  }

  /** Asks the store until it admits; a wait longer than `maxWaitMs` goes back to the queue. */
  private async admit(id: string): Promise<void> {
    const priority = currentPriority();
    for (;;) {
      const answer = await this.store.admit(id, priority);
      if (answer.admitted) return;
      if (answer.waitMs > (this.declared.maxWaitMs ?? Number.POSITIVE_INFINITY)) {
        // No longer waiting: bulk work need not stay behind it.
        await this.store.release(id).catch(() => undefined);
        throw new RateLimitedError(
          `the shared request budget is spent (${answer.reason}, next in ${answer.waitMs} ms)`,
          answer.waitMs,
        );
      }
      await this.clock.sleep(answer.waitMs);
    }
  }
}
