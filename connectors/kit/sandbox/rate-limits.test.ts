import { applyRateLimitsOption, RateLimiter, type RateLimit } from './rate-limits';

const call = { method: 'GET', path: '/things' };
const search = { method: 'POST', path: '/things/search' };

function bucket(limit: number, windowMs: number, extra: Partial<RateLimit> = {}): RateLimit {
  return {
    limit,
    windowMs,
    refuse: (retryAfterSeconds) => ({ body: { limited: true, retryAfterSeconds }, headers: { 'X-Problem': 'bucket' } }),
    report: (remaining, numbers) => ({ 'X-Remaining': String(remaining), 'X-Max': String(numbers.limit) }),
    ...extra,
  };
}

describe('RateLimiter', () => {
  let clock = 0;
  const now = () => clock;
  beforeEach(() => {
    clock = 1_000_000;
  });

  it('admits a burst up to the limit, then refuses with Retry-After and the provider’s body and headers', () => {
    const limiter = new RateLimiter([bucket(3, 10_000)], now);
    const admitted = [1, 2, 3].map(() => limiter.admit(call));
    expect(admitted.map((admission) => admission.admitted && admission.headers['X-Remaining'])).toEqual([
      '2',
      '1',
      '0',
    ]);
    const refused = limiter.admit(call);
    // One token comes back every 10 000 / 3 ms: the client is told to wait 4 whole seconds.
    expect(refused).toEqual({
      admitted: false,
      answer: {
        status: 429,
        headers: { 'Retry-After': '4', 'X-Remaining': '0', 'X-Max': '3', 'X-Problem': 'bucket' },
        body: { limited: true, retryAfterSeconds: 4 },
      },
    });
  });

  it('never refuses a pace at the refill rate, and refills no further than the limit', () => {
    const limiter = new RateLimiter([bucket(5, 1000)], now);
    for (let index = 0; index < 50; index++) {
      expect(limiter.admit(call).admitted).toBe(true);
      clock += 200;
    }
    clock += 60_000;
    const burst = Array.from({ length: 6 }, () => limiter.admit(call).admitted);
    expect(burst).toEqual([true, true, true, true, true, false]);
  });

  it('counts a call only against the limits it falls under, and takes no token when one limit refuses', () => {
    const general = bucket(2, 1000, { counts: (counted) => !counted.path.endsWith('/search') });
    const searches = bucket(1, 1000, { counts: (counted) => counted.path.endsWith('/search') });
    const limiter = new RateLimiter([general, searches], now);
    expect(limiter.admit(search).admitted).toBe(true);
    expect(limiter.admit(search).admitted).toBe(false);
    expect([limiter.admit(call).admitted, limiter.admit(call).admitted, limiter.admit(call).admitted]).toEqual([
      true,
      true,
      false,
    ]);
    const short = bucket(1, 1000, { report: (remaining) => ({ 'X-Short': String(remaining) }) });
    const long = bucket(5, 1_000_000_000, { report: (remaining) => ({ 'X-Long': String(remaining) }) });
    const both = new RateLimiter([short, long], now);
    expect(both.admit(call)).toMatchObject({ admitted: true, headers: { 'X-Short': '0', 'X-Long': '4' } });
    expect(both.admit(call)).toMatchObject({ admitted: false, answer: { headers: { 'X-Short': '0' } } });
    clock += 1000;
    // The refused call took nothing from the long bucket.
    expect(both.admit(call)).toMatchObject({ admitted: true, headers: { 'X-Short': '0', 'X-Long': '3' } });
  });

  it('holds a concurrency limit until calls are released, each release counted once', () => {
    const limiter = new RateLimiter([{ limit: 2, refuse: () => ({ headers: { 'X-Problem': 'concurrent' } }) }], now);
    const first = limiter.admit(call);
    const second = limiter.admit(call);
    const third = limiter.admit(call);
    expect(third).toEqual({
      admitted: false,
      answer: { status: 429, headers: { 'Retry-After': '1', 'X-Problem': 'concurrent' } },
    });
    if (!first.admitted || !second.admitted) throw new Error('the first two calls should pass');
    first.release();
    first.release();
    expect(limiter.admit(call).admitted).toBe(true);
    expect(limiter.admit(call).admitted).toBe(false);
  });
});

describe('applyRateLimitsOption', () => {
  const published = { burst: bucket(190, 10_000), search: bucket(5, 1000) };

  it('keeps the published numbers by default, turns all off with false, and sets or drops single limits', () => {
    expect(applyRateLimitsOption(published, undefined).map(({ limit, windowMs }) => [limit, windowMs])).toEqual([
      [190, 10_000],
      [5, 1000],
    ]);
    expect(applyRateLimitsOption(published, false)).toEqual([]);
    const tuned = applyRateLimitsOption(published, { burst: { limit: 10 }, search: false });
    expect(tuned.map(({ limit, windowMs }) => [limit, windowMs])).toEqual([[10, 10_000]]);
  });
});
