/**
 * The request budget in Redis: two stores on two connections stand for two processes sharing one
 * provider's budget.
 */
import { SharedLimiter, type BudgetLimits } from '../../connectors/kit/budget';
import { withPriority } from '../../connectors/kit/priority';
import { RateLimitedError } from '../../connectors/kit/errors';
import { clearPrefix, REDIS_URL, uniquePrefix } from '../../test/support/fakes';
import { RateLimiter } from '../../connectors/kit/sandbox/rate-limits';
import { RedisBudgetStore, type BudgetTiming } from './budget';
import { createRedis, type RedisConnection } from './redis';

const connections: RedisConnection[] = [];
const prefixes: string[] = [];

/** Two "processes": a store each, on a connection each, over the same keys. */
function twoProcesses(limits: BudgetLimits, timing: Partial<BudgetTiming> = {}) {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  const open = () => {
    const redis = createRedis(REDIS_URL);
    connections.push(redis);
    return new RedisBudgetStore(redis, prefix, 'crm', limits, timing);
  };
  return [open(), open()] as const;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterAll(async () => {
  connections.forEach((redis) => redis.disconnect());
  for (const prefix of prefixes) await clearPrefix(prefix);
});

describe('RedisBudgetStore', () => {
  it('admits no more than a window holds, however two processes share it', async () => {
    const [a, b] = twoProcesses({ windows: [{ max: 10, perMs: 60_000 }] });
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, index) => (index % 2 === 0 ? a : b).admit(`call-${index}`, 'bulk')),
    );
    expect(answers.filter((answer) => answer.admitted)).toHaveLength(10);
    const refused = answers.find((answer) => !answer.admitted);
    expect(refused).toMatchObject({ admitted: false, reason: '10 per 60 s' });
    expect(refused && !refused.admitted && refused.waitMs).toBeGreaterThan(59_000);
  });

  it('keeps every window of a provider with several (a minute and a day)', async () => {
    const [a, b] = twoProcesses({
      windows: [
        { max: 5, perMs: 60_000 },
        { max: 3, perMs: 86_400_000 },
      ],
    });
    const answers = [];
    for (let index = 0; index < 6; index++) answers.push(await (index % 2 ? a : b).admit(`call-${index}`, 'bulk'));
    expect(answers.map((answer) => answer.admitted)).toEqual([true, true, true, false, false, false]);
    expect(answers[3]).toMatchObject({ reason: '3 per 86400 s' });
  });

  it('pauses every process when one of them is told to wait (Retry-After)', async () => {
    const [a, b] = twoProcesses({ windows: [{ max: 100, perMs: 1000 }] });
    await a.pause(400);
    const answer = await b.admit('after-pause', 'bulk');
    expect(answer).toMatchObject({ admitted: false, reason: 'paused by the provider' });
    expect(!answer.admitted && answer.waitMs).toBeGreaterThan(300);
    // A shorter pause does not cut a longer one short.
    await b.pause(50);
    expect(await a.admit('still-paused', 'bulk')).toMatchObject({ admitted: false });
  });

  it('waits out a window the provider says is used up until its oldest request leaves it', async () => {
    const [a, b] = twoProcesses({ windows: [{ max: 100, perMs: 600 }] });
    expect(await a.admit('first', 'bulk')).toEqual({ admitted: true });
    await sleep(200);
    await a.exhaust(0);
    const answer = await b.admit('second', 'bulk');
    expect(answer).toMatchObject({ admitted: false, reason: 'paused by the provider' });
    // The oldest request started ~200 ms ago and leaves the 600 ms window ~400 ms from now.
    expect(!answer.admitted && answer.waitMs).toBeGreaterThan(250);
    expect(!answer.admitted && answer.waitMs).toBeLessThanOrEqual(420);
  });

  it('shares concurrency: a lease ends when released, and on its own when its process died', async () => {
    const [a, b] = twoProcesses({ windows: [], concurrency: 2 }, { leaseMs: 300 });
    expect(await a.admit('a1', 'bulk')).toEqual({ admitted: true });
    expect(await b.admit('b1', 'bulk')).toEqual({ admitted: true });
    expect(await b.admit('b2', 'bulk')).toMatchObject({ admitted: false, reason: '2 in flight' });
    await a.release('a1');
    expect(await b.admit('b2', 'bulk')).toEqual({ admitted: true });
    // Nobody releases b1 or b2 (their process "died"): the slots come back when the leases run out.
    expect(await a.admit('a2', 'bulk')).toMatchObject({ admitted: false });
    await sleep(350);
    expect(await a.admit('a2', 'bulk')).toEqual({ admitted: true });
  });

  it('counts a request in its windows from its answer, however long it took to get there', async () => {
    const [a, b] = twoProcesses({ windows: [{ max: 1, perMs: 300 }], concurrency: 1 });
    expect(await a.admit('slow', 'bulk')).toEqual({ admitted: true });
    // Held up for 250 ms on its way; the provider may have counted it only just now.
    await sleep(250);
    await a.answered('slow');
    await sleep(100);
    // 350 ms after its admission, but 100 ms after its answer: the window still holds it.
    const answer = await b.admit('next', 'bulk');
    expect(answer).toMatchObject({ admitted: false, reason: '1 per 0.3 s' });
    expect(!answer.admitted && answer.waitMs).toBeGreaterThan(150);
    // Its lease ended with the answer.
    await sleep(220);
    expect(await b.admit('next', 'bulk')).toEqual({ admitted: true });
  });

  it('holds bulk admissions back while an interactive one waits, in any process', async () => {
    const [a, b] = twoProcesses({ windows: [{ max: 1, perMs: 300 }] }, { marginMs: 5000 });
    expect(await a.admit('poll-1', 'bulk')).toEqual({ admitted: true });
    expect(await a.admit('link', 'interactive')).toMatchObject({ admitted: false, reason: '1 per 0.3 s' });
    await sleep(320);
    // The window has room again, but the interactive call asked first.
    expect(await b.admit('poll-2', 'bulk')).toMatchObject({ admitted: false, reason: 'interactive calls first' });
    expect(await a.admit('link', 'interactive')).toEqual({ admitted: true });
    await sleep(320);
    expect(await b.admit('poll-2', 'bulk')).toEqual({ admitted: true });
  });

  it('lets bulk go again when a waiting interactive call gives up', async () => {
    const [a] = twoProcesses({ windows: [{ max: 1, perMs: 200 }] }, { marginMs: 5000 });
    await a.admit('poll-1', 'bulk');
    await a.admit('link', 'interactive');
    await a.release('link');
    await sleep(220);
    expect(await a.admit('poll-2', 'bulk')).toEqual({ admitted: true });
  });
});

describe('SharedLimiter over Redis', () => {
  it('two processes together start no more than the window allows in any window', async () => {
    const perMs = 500;
    const [a, b] = twoProcesses({ windows: [{ max: 5, perMs }] });
    const limiters = [new SharedLimiter({}, a), new SharedLimiter({}, b)];
    const started: number[] = [];
    await Promise.all(
      Array.from({ length: 15 }, (_, index) => limiters[index % 2]!.run(async () => started.push(Date.now()))),
    );
    started.sort((x, y) => x - y);
    expect(started).toHaveLength(15);
    // Any six consecutive starts span more than a window (small allowance for the two clocks).
    for (let index = 5; index < started.length; index++)
      expect(started[index]! - started[index - 5]!).toBeGreaterThanOrEqual(perMs - 20);
  });

  it('keeps a provider’s token bucket from refusing the next window when calls were held up on their way', async () => {
    // The provider: a bucket of 10 calls refilling over 1 s, as the sandboxes enforce limits.
    const provider = new RateLimiter([{ limit: 10, windowMs: 1000, refuse: () => ({}) }]);
    const [a, b] = twoProcesses({ windows: [{ max: 9, perMs: 1000 }] });
    const limiters = [new SharedLimiter({}, a), new SharedLimiter({}, b)];
    // The first nine reach the provider 400 ms after their admission (a stalled process, a slow
    // link); counted from their admission, the next nine would arrive while the bucket holds 5.
    let sent = 0;
    const answers = await Promise.all(
      Array.from({ length: 18 }, (_, index) =>
        limiters[index % 2]!.run(async () => {
          if (++sent <= 9) await sleep(400);
          return provider.admit({ method: 'GET', path: 'customers' }).admitted;
        }),
      ),
    );
    expect(answers.filter((admitted) => !admitted)).toHaveLength(0);
  });

  it('a 429 in one process makes the other wait', async () => {
    const [a, b] = twoProcesses({ windows: [{ max: 100, perMs: 1000 }] });
    const first = new SharedLimiter({}, a);
    const second = new SharedLimiter({}, b);
    first.pause(300);
    await sleep(20);
    const asked = Date.now();
    const startedAt = await second.run(async () => Date.now());
    expect(startedAt - asked).toBeGreaterThanOrEqual(250);
  });

  it('starts a waiting interactive call before a bulk call that waited longer', async () => {
    const [a, b] = twoProcesses({ windows: [{ max: 1, perMs: 300 }] });
    const bulk = new SharedLimiter({}, a);
    const api = new SharedLimiter({}, b);
    const order: string[] = [];
    await bulk.run(async () => order.push('poll'));
    const drift = bulk.run(async () => order.push('drift'));
    await sleep(50);
    const link = withPriority('interactive', () => api.run(async () => order.push('link')));
    await Promise.all([drift, link]);
    expect(order).toEqual(['poll', 'link', 'drift']);
  });

  it('hands a wait longer than maxWaitMs to the queue', async () => {
    const [a] = twoProcesses({ windows: [{ max: 1, perMs: 60_000 }] });
    const limiter = new SharedLimiter({ maxWaitMs: 1000 }, a);
    await limiter.run(async () => undefined);
    await expect(limiter.run(async () => undefined)).rejects.toBeInstanceOf(RateLimitedError);
  });
});
