import { ReadCoalescer } from './coalesce';

/** A batch load that records each call's keys and answers when released. */
function recordingLoad() {
  const calls: string[][] = [];
  const releases: Array<() => void> = [];
  const load = (_group: string, keys: string[]) => {
    calls.push(keys);
    return new Promise<ReadonlyMap<string, string>>((resolve) =>
      releases.push(() => resolve(new Map(keys.filter((key) => key !== 'missing').map((key) => [key, `v-${key}`])))),
    );
  };
  const releaseAll = () => releases.splice(0).forEach((release) => release());
  return { calls, load, releaseAll };
}

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ReadCoalescer', () => {
  it('sends the reads of one window as one call, each caller getting its own value', async () => {
    const { calls, load, releaseAll } = recordingLoad();
    const reads = new ReadCoalescer(load, 5, 10);
    const pending = Promise.all(['a', 'b', 'a', 'missing'].map((key) => reads.load('g', key)));
    await tick(20);
    expect(calls).toEqual([['a', 'b', 'missing']]);
    releaseAll();
    await expect(pending).resolves.toEqual(['v-a', 'v-b', 'v-a', null]);
  });

  it('sends a full batch at once, without waiting for its window', async () => {
    const { calls, load, releaseAll } = recordingLoad();
    const reads = new ReadCoalescer(load, 60_000, 2);
    const pending = Promise.all(['a', 'b'].map((key) => reads.load('g', key)));
    await tick();
    expect(calls).toEqual([['a', 'b']]);
    releaseAll();
    await expect(pending).resolves.toEqual(['v-a', 'v-b']);
  });

  it('holds a due batch while the group’s calls are all in flight, and it fills up meanwhile', async () => {
    const { calls, load, releaseAll } = recordingLoad();
    const reads = new ReadCoalescer(load, 1, 3, 1);
    const first = reads.load('g', 'a');
    await tick(10);
    expect(calls).toEqual([['a']]);
    // The first call is still out: these wait past their window and go together, full.
    const later = ['b', 'c', 'd', 'e'].map((key) => reads.load('g', key));
    await tick(10);
    expect(calls).toEqual([['a']]);
    releaseAll();
    await tick(10);
    expect(calls).toEqual([['a'], ['b', 'c', 'd']]);
    releaseAll();
    await tick(10);
    expect(calls).toEqual([['a'], ['b', 'c', 'd'], ['e']]);
    releaseAll();
    await expect(Promise.all([first, ...later])).resolves.toEqual(['v-a', 'v-b', 'v-c', 'v-d', 'v-e']);
  });

  it('keeps groups apart, each with its own calls in flight', async () => {
    const { calls, load, releaseAll } = recordingLoad();
    const reads = new ReadCoalescer(load, 1, 10, 1);
    const pending = Promise.all([reads.load('bulk', 'a'), reads.load('interactive', 'b')]);
    await tick(10);
    expect(calls).toEqual([['a'], ['b']]);
    releaseAll();
    await expect(pending).resolves.toEqual(['v-a', 'v-b']);
  });

  it('fails every read of a failed call, and only those', async () => {
    let call = 0;
    const reads = new ReadCoalescer<string>(
      (_group, keys) =>
        ++call === 1 ? Promise.reject(new Error('503')) : Promise.resolve(new Map(keys.map((key) => [key, key]))),
      1,
      10,
      1,
    );
    const failed = Promise.allSettled([reads.load('g', 'a'), reads.load('g', 'b')]);
    await tick(10);
    const later = reads.load('g', 'c');
    expect((await failed).map((result) => result.status)).toEqual(['rejected', 'rejected']);
    await expect(later).resolves.toBe('c');
  });
});
