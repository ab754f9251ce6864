import { AsyncMutex } from './async-mutex';

const tick = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('AsyncMutex', () => {
  it('runs callers one at a time, in arrival order', async () => {
    const mutex = new AsyncMutex();
    const events: string[] = [];
    const work = (name: string, ms: number) =>
      mutex.run(async () => {
        events.push(`${name} start`);
        await tick(ms);
        events.push(`${name} end`);
        return name;
      });

    const results = await Promise.all([work('a', 20), work('b', 1), work('c', 5)]);

    expect(results).toEqual(['a', 'b', 'c']);
    expect(events).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
  });

  it('releases the lock when a caller throws', async () => {
    const mutex = new AsyncMutex();
    await expect(mutex.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(mutex.run(() => Promise.resolve('next'))).resolves.toBe('next');
  });
});
