import { RateLimitedError } from './errors';
import { RequestLimiter, type LimiterClock } from './limiter';

/** A clock that moves only when a caller sleeps. */
function fakeClock(): LimiterClock & { sleeps: number[] } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
      await Promise.resolve();
    },
  };
}

describe('RequestLimiter', () => {
  it('starts at most `max` requests in any window, then waits for the oldest to leave it', async () => {
    const clock = fakeClock();
    const limiter = new RequestLimiter({ requests: { max: 3, perMs: 10_000 } }, clock);
    const started: number[] = [];
    for (let call = 0; call < 5; call++) await limiter.run(async () => started.push(clock.now()));
    expect(started).toEqual([0, 0, 0, 10_000, 10_000]);
    expect(clock.sleeps).toEqual([10_000]);
  });

  it('counts a request in its windows from its answer, not only from its start', async () => {
    const clock = fakeClock();
    const limiter = new RequestLimiter({ requests: { max: 1, perMs: 1000 } }, clock);
    const started: number[] = [];
    // The first call takes 600 ms to be answered: the provider may have counted it at 599.
    await limiter.run(async () => {
      started.push(clock.now());
      await clock.sleep(600);
    });
    await limiter.run(async () => started.push(clock.now()));
    expect(started).toEqual([0, 1600]);
  });

  it('keeps at most `concurrency` calls in flight, handing a slot on when one ends', async () => {
    const limiter = new RequestLimiter({ concurrency: 2 });
    let active = 0;
    let mostActive = 0;
    const releases: (() => void)[] = [];
    const call = () =>
      limiter.run(async () => {
        active++;
        mostActive = Math.max(mostActive, active);
        await new Promise<void>((resolve) => releases.push(resolve));
        active--;
      });
    const calls = [call(), call(), call(), call()];
    await new Promise((resolve) => setImmediate(resolve));
    expect(releases).toHaveLength(2);
    while (releases.length > 0) {
      releases.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(calls);
    expect(mostActive).toBe(2);
  });

  it('frees the slot of a call that failed', async () => {
    const limiter = new RequestLimiter({ concurrency: 1 });
    await expect(limiter.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limiter.run(() => Promise.resolve('next'))).resolves.toBe('next');
  });
  it('keeps every declared window, and hands a wait longer than maxWaitMs to the queue', async () => {
    const clock = fakeClock();
    const limiter = new RequestLimiter(
      {
        requests: [
          { max: 2, perMs: 1000 },
          { max: 3, perMs: 60_000 },
        ],
        maxWaitMs: 5000,
      },
      clock,
    );
    const started: number[] = [];
    for (let call = 0; call < 3; call++) await limiter.run(async () => started.push(clock.now()));
    expect(started).toEqual([0, 0, 1000]);
    const refused = await limiter.run(async () => started.push(clock.now())).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect((refused as RateLimitedError).retryAfterMs).toBe(59_000);
    expect((refused as RateLimitedError).message).toMatch(/limit of 3 requests per 60 s/);
    expect(started).toHaveLength(3);
  });

  it('counts a window as full until its oldest request has left it when the provider says it is nearly used up', async () => {
    const clock = fakeClock();
    const limiter = new RequestLimiter(
      { requests: { max: 60, perMs: 60_000, remainingHeader: 'X-MinLimit-Remaining' }, concurrency: 5 },
      clock,
    );
    await limiter.run(async () => undefined);
    limiter.observe({ 'x-minlimit-remaining': '6' });
    await limiter.run(async () => undefined);
    expect(clock.sleeps).toEqual([]);
    // 5 left, and up to 5 may be in flight: nothing more starts before the first call is a minute old.
    limiter.observe({ 'x-minlimit-remaining': '5' });
    limiter.observe({ 'other-header': '0' });
    await limiter.run(async () => undefined);
    expect(clock.sleeps).toEqual([60_000]);
  });
});
