import { SharedLimiter, sizeBudget, type BudgetAnswer, type BudgetLimits, type BudgetStore } from './budget';
import { RequestLimiter } from './limiter';
import { withPriority } from './priority';

/** A store that records what it is asked and answers from a list (admitted when the list is empty). */
function recordingStore(limits: BudgetLimits, answers: BudgetAnswer[] = []) {
  const calls: string[] = [];
  const store: BudgetStore = {
    limits,
    admit: async (_id, priority) => {
      calls.push(`admit ${priority}`);
      return answers.shift() ?? { admitted: true };
    },
    release: async () => void calls.push('release'),
    answered: async () => void calls.push('answered'),
    pause: async (ms) => void calls.push(`pause ${ms}`),
    exhaust: async (index) => void calls.push(`exhaust ${index}`),
  };
  return { store, calls };
}

const noWait = { now: () => 0, sleep: async () => undefined };

describe('sizeBudget', () => {
  it('takes 90% of every published window unless told less, and the lower concurrency', () => {
    const xero = {
      concurrency: 5,
      requests: [
        { max: 60, perMs: 60_000 },
        { max: 5000, perMs: 86_400_000 },
      ],
    };
    expect(sizeBudget(xero)).toEqual({
      windows: [
        { max: 54, perMs: 60_000 },
        { max: 4500, perMs: 86_400_000 },
      ],
      concurrency: 5,
    });
    expect(sizeBudget({ requests: { max: 190, perMs: 10_000 } }, { share: 0.5, concurrency: 3 })).toEqual({
      windows: [{ max: 95, perMs: 10_000 }],
      concurrency: 3,
    });
    expect(sizeBudget(xero, { share: 1, concurrency: 9 }).concurrency).toBe(5);
    expect(sizeBudget({ requests: { max: 1, perMs: 1000 } }, { share: 0.1 }).windows).toEqual([
      { max: 1, perMs: 1000 },
    ]);
  });

  it('refuses a share outside (0, 1]', () => {
    expect(() => sizeBudget({}, { share: 0 })).toThrow('above 0 and at most 1');
    expect(() => sizeBudget({}, { share: 1.5 })).toThrow('above 0 and at most 1');
  });
});

describe('SharedLimiter', () => {
  it('asks the store with the call’s priority, waits as told, and tells it when the call has its answer', async () => {
    const sleeps: number[] = [];
    const { store, calls } = recordingStore({ windows: [], concurrency: 2 }, [
      { admitted: false, waitMs: 40, reason: 'paused by the provider' },
    ]);
    const limiter = new SharedLimiter({ concurrency: 2 }, store, {
      now: () => 0,
      sleep: async (ms) => void sleeps.push(ms),
    });
    await withPriority('interactive', () => limiter.run(async () => undefined));
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual(['admit interactive', 'admit interactive', 'answered']);
    expect(sleeps).toEqual([40]);
  });

  it('reports Retry-After and a used-up window to the store', () => {
    const { store, calls } = recordingStore({ windows: [{ max: 54, perMs: 60_000 }], concurrency: 5 });
    const limiter = new SharedLimiter(
      { concurrency: 5, requests: [{ max: 60, perMs: 60_000, remainingHeader: 'X-MinLimit-Remaining' }] },
      store,
      noWait,
    );
    limiter.observe({ 'x-minlimit-remaining': '30' });
    limiter.observe({ 'x-minlimit-remaining': '4' });
    limiter.pause(2000);
    expect(calls).toEqual(['exhaust 0', 'pause 2000']);
  });

  it('keeps to the budget in process when the store cannot be reached', async () => {
    const { store } = recordingStore({ windows: [{ max: 2, perMs: 1000 }] });
    store.admit = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    let now = 0;
    const limiter = new SharedLimiter({}, store, { now: () => now, sleep: async (ms) => void (now += ms) });
    const started: number[] = [];
    for (let call = 0; call < 3; call++) await limiter.run(async () => started.push(now));
    expect(started).toEqual([0, 0, 1000]);
  });
});

describe('RequestLimiter priorities and pauses', () => {
  it('hands a free slot to a waiting interactive call first', async () => {
    const limiter = new RequestLimiter({ concurrency: 1 });
    const order: string[] = [];
    let release!: () => void;
    const first = limiter.run(() => new Promise<void>((resolve) => (release = resolve)));
    await new Promise((resolve) => setImmediate(resolve));
    const bulk = limiter.run(async () => void order.push('bulk'));
    const link = withPriority('interactive', () => limiter.run(async () => void order.push('link')));
    release();
    await Promise.all([first, bulk, link]);
    expect(order).toEqual(['link', 'bulk']);
  });

  it('starts nothing during a pause the provider asked for', async () => {
    let now = 0;
    const limiter = new RequestLimiter(
      { requests: { max: 10, perMs: 1000 } },
      { now: () => now, sleep: async (ms) => void (now += ms) },
    );
    limiter.pause(700);
    expect(await limiter.run(async () => now)).toBe(700);
  });
});
