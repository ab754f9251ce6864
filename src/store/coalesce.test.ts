import { StoreUnavailableError } from '../app/ports/store';
import { Coalescer } from './coalesce';

/** A runMany that records the items of each run and answers each item doubled. */
function recording(options: { fail?: (items: readonly number[]) => Error | undefined; delayMs?: number } = {}) {
  const runs: number[][] = [];
  const runMany = async (items: readonly number[]): Promise<number[]> => {
    runs.push([...items]);
    if (options.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    const failure = options.fail?.(items);
    if (failure !== undefined) throw failure;
    return items.map((item) => item * 2);
  };
  return { runs, runMany };
}

describe('Coalescer', () => {
  it('runs calls made together as one, each answered its own', async () => {
    const { runs, runMany } = recording();
    const coalescer = new Coalescer(runMany, { maxItems: 10, parallel: 1 });
    await expect(Promise.all([1, 2, 3].map((item) => coalescer.submit(item)))).resolves.toEqual([2, 4, 6]);
    expect(runs).toEqual([[1, 2, 3]]);
  });

  it('gathers the calls made while a run is in flight into the next run, at most maxItems each', async () => {
    // The first run is held until the later calls are made, however the machine schedules timers.
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const runs: number[][] = [];
    const coalescer = new Coalescer(
      async (items: readonly number[]) => {
        runs.push([...items]);
        if (runs.length === 1) await gate;
        return items.map((item) => item * 2);
      },
      { maxItems: 3, parallel: 1 },
    );
    const first = coalescer.submit(1);
    while (runs.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const later = [2, 3, 4, 5, 6].map((item) => coalescer.submit(item));
    open();
    await expect(Promise.all([first, ...later])).resolves.toEqual([2, 4, 6, 8, 10, 12]);
    expect(runs).toEqual([[1], [2, 3, 4], [5, 6]]);
  });

  it('never lets calls naming one key share a run or overtake each other, even with runs in parallel', async () => {
    const { runs, runMany } = recording({ delayMs: 10 });
    const coalescer = new Coalescer(runMany, { maxItems: 10, parallel: 4, keys: (item) => [String(item % 2)] });
    const order: number[] = [];
    await Promise.all([1, 3, 2, 5].map((item) => coalescer.submit(item).then(() => order.push(item))));
    // 1 and 2 first; 3 waits for 1 and 5 for 3, though runs could go in parallel.
    expect(runs).toEqual([[1, 2], [3], [5]]);
    expect(order.indexOf(1)).toBeLessThan(order.indexOf(3));
    expect(order.indexOf(3)).toBeLessThan(order.indexOf(5));
  });

  it('keeps a failure to the call that causes it: a failed run is run again one call at a time', async () => {
    const bad = new Error('item 2 is bad');
    const { runs, runMany } = recording({ fail: (items) => (items.includes(2) ? bad : undefined) });
    const coalescer = new Coalescer(runMany, { maxItems: 10, parallel: 1 });
    const results = await Promise.allSettled([1, 2, 3].map((item) => coalescer.submit(item)));
    expect(results).toEqual([
      { status: 'fulfilled', value: 2 },
      { status: 'rejected', reason: bad },
      { status: 'fulfilled', value: 6 },
    ]);
    expect(runs).toEqual([[1, 2, 3], [1], [2], [3]]);
  });

  it('fails every call of a run at once when the store cannot be reached', async () => {
    const down = new StoreUnavailableError('PostgreSQL unreachable', {
      endpoint: '127.0.0.1:5432',
      since: new Date(0).toISOString(),
      reason: 'ECONNREFUSED',
      outcomeUnknown: false,
    });
    const { runs, runMany } = recording({ fail: () => down });
    const coalescer = new Coalescer(runMany, { maxItems: 10, parallel: 1 });
    const results = await Promise.allSettled([1, 2].map((item) => coalescer.submit(item)));
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(runs).toEqual([[1, 2]]);
  });
});
