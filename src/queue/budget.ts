/**
 * The request budgets in Redis: one per connector, shared by every process of a deployment (see
 * connectors/kit/budget.ts). Each window of the provider's ceiling is a sliding window kept as a
 * sorted set of start times; concurrency is a sorted set of leases by expiry, so a process that
 * dies holding one frees it when the lease runs out; a pause is one key holding the time it ends.
 *
 * An admission is one script call, on Redis's clock (TIME), so processes whose clocks disagree
 * still count one window. Every key of a budget carries tandem's prefix, a hash tag on a cluster
 * (keyPrefix in ./redis.ts): the script's keys are in one slot.
 */
import {
  sizeBudget,
  type BudgetAnswer,
  type BudgetFactory,
  type BudgetLimits,
  type BudgetSizing,
  type BudgetStore,
} from '../../connectors/kit/budget';
import type { RequestPriority } from '../../connectors/kit/priority';
import type { RedisConnection } from './redis';
import { Script } from './script';

/**
 * Admits one request, or says how long to wait.
 * KEYS: pause, leases, waiting (interactive admissions refused so far), then one per window.
 * ARGV: id, priority, concurrency (0: none), leaseMs, pollMs, marginMs, then max and perMs per window.
 * Answers {0, 'admitted'} or {waitMs, reason}.
 */
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id, interactive = ARGV[1], ARGV[2] == 'interactive'
local concurrency, leaseMs, pollMs, marginMs = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local function refuse(wait, reason)
  wait = math.max(1, math.ceil(wait))
  if interactive then
    redis.call('ZADD', KEYS[3], now + wait + marginMs, id)
    redis.call('PEXPIRE', KEYS[3], wait + marginMs)
  end
  return {wait, reason}
end
local pausedUntil = tonumber(redis.call('GET', KEYS[1]) or '0')
if pausedUntil > now then return refuse(pausedUntil - now, 'paused by the provider') end
local wait, reason = 0, ''
for i = 4, #KEYS do
  local max, per = tonumber(ARGV[7 + (i - 4) * 2]), tonumber(ARGV[8 + (i - 4) * 2])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - per)
  if redis.call('ZCARD', KEYS[i]) >= max then
    local oldest = tonumber(redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')[2])
    if oldest + per - now > wait then
      wait, reason = oldest + per - now, max .. ' per ' .. (per / 1000) .. ' s'
    end
  end
end
if wait > 0 then return refuse(wait, reason) end
if concurrency > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) >= concurrency then
    local expiry = tonumber(redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')[2])
    return refuse(math.min(pollMs, expiry - now), concurrency .. ' in flight')
  end
end
if not interactive then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  if redis.call('ZCARD', KEYS[3]) > 0 then return {pollMs, 'interactive calls first'} end
end
for i = 4, #KEYS do
  redis.call('ZADD', KEYS[i], now, id)
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[8 + (i - 4) * 2]))
end
if concurrency > 0 then
  redis.call('ZADD', KEYS[2], now + leaseMs, id)
  redis.call('PEXPIRE', KEYS[2], leaseMs)
end
if interactive then redis.call('ZREM', KEYS[3], id) end
return {0, 'admitted'}`;

/**
 * Pauses the budget: until `ms` from now, or with a window key, until that window's oldest start
 * leaves it (the provider says the window is used up). A pause already longer stays.
 * KEYS: pause, [window]. ARGV: ms (the window's perMs with a window key).
 */
const PAUSE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ms = tonumber(ARGV[1])
local untilMs = now + ms
if KEYS[2] then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ms)
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')[2]
  if oldest then untilMs = tonumber(oldest) + ms end
end
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMs > current and untilMs > now then redis.call('SET', KEYS[1], untilMs, 'PX', untilMs - now) end
return untilMs - now`;

/** Ends an admission: its lease and its place among the waiting interactive calls. KEYS: leases, waiting. */
const RELEASE = `redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 0`;

/**
 * A request has its answer: its lease and its place among the waiting end, and it counts in each
 * window from now (re-added if it outlasted a window). KEYS: leases, waiting, then one per window.
 * ARGV: id, then perMs per window.
 */
const ANSWERED = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
for i = 3, #KEYS do
  redis.call('ZADD', KEYS[i], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[i - 1]))
end
return 0`;

/** How an admission is kept: how long a lease lasts without release, how often a full budget is asked again. */
export interface BudgetTiming {
  /** A lease a process never released (it died) frees its slot after this; longer than any request (default 45 s). */
  leaseMs: number;
  /** A refusal for concurrency, or behind interactive calls, asks again after this (default 25 ms). */
  pollMs: number;
  /** An interactive refusal holds bulk work back this long past its wait (default 1 s). */
  marginMs: number;
}

const DEFAULT_TIMING: BudgetTiming = { leaseMs: 45_000, pollMs: 25, marginMs: 1000 };

/** The keys of one connector's budget. */
export function budgetKeys(prefix: string, name: string, windows: number) {
  const base = `${prefix}:budget:${name}`;
  return {
    pause: `${base}:pause`,
    leases: `${base}:leases`,
    waiting: `${base}:waiting`,
    windows: Array.from({ length: windows }, (_, index) => `${base}:window:${index}`),
  };
}

const admitScript = new Script(ADMIT);
const pauseScript = new Script(PAUSE);
const releaseScript = new Script(RELEASE);
const answeredScript = new Script(ANSWERED);

/** One connector's budget in Redis. */
export class RedisBudgetStore implements BudgetStore {
  private readonly keys: ReturnType<typeof budgetKeys>;
  private readonly timing: BudgetTiming;

  /** `name` tells the budget apart from the other connector's (the connector's slot). */
  constructor(
    private readonly redis: RedisConnection,
    prefix: string,
    name: string,
    readonly limits: BudgetLimits,
    timing: Partial<BudgetTiming> = {},
  ) {
    this.keys = budgetKeys(prefix, name, limits.windows.length);
    this.timing = { ...DEFAULT_TIMING, ...timing };
  }

  async admit(id: string, priority: RequestPriority): Promise<BudgetAnswer> {
    const { pause, leases, waiting, windows } = this.keys;
    const { leaseMs, pollMs, marginMs } = this.timing;
    const args = [id, priority, this.limits.concurrency ?? 0, leaseMs, pollMs, marginMs];
    for (const window of this.limits.windows) args.push(window.max, window.perMs);
    const [waitMs, reason] = (await admitScript.run(this.redis, [pause, leases, waiting, ...windows], args)) as [
      number,
      string,
    ];
    return waitMs === 0 ? { admitted: true } : { admitted: false, waitMs, reason };
  }

  async release(id: string): Promise<void> {
    await releaseScript.run(this.redis, [this.keys.leases, this.keys.waiting], [id]);
  }

  async answered(id: string): Promise<void> {
    const { leases, waiting, windows } = this.keys;
    const perMs = this.limits.windows.map((window) => window.perMs);
    await answeredScript.run(this.redis, [leases, waiting, ...windows], [id, ...perMs]);
  }

  async pause(ms: number): Promise<void> {
    if (ms > 0) await pauseScript.run(this.redis, [this.keys.pause], [Math.ceil(ms)]);
  }

  async exhaust(index: number): Promise<void> {
    const window = this.limits.windows[index];
    const key = this.keys.windows[index];
    if (window === undefined || key === undefined) return;
    await pauseScript.run(this.redis, [this.keys.pause, key], [window.perMs]);
  }
}

/**
 * The budgets of a deployment's connectors in one Redis: each sized from the limits its connector
 * declares and the share its config gives, named by its slot under tandem's key prefix.
 */
export function redisBudgets(
  redis: RedisConnection,
  prefix: string,
  timing: Partial<BudgetTiming> = {},
): (slot: string, sizing: BudgetSizing) => BudgetFactory {
  return (slot, sizing) => (limits) => new RedisBudgetStore(redis, prefix, slot, sizeBudget(limits, sizing), timing);
}
