/**
 * Reads of single records, coalesced into batch calls. Many planners run at once, each reading
 * its own contact's records one by one; a provider with a batch read answers a hundred ids for
 * the price of one. Reads asked for within a short window (or until a batch is full) go out as one
 * batch call, and each caller gets its own record back. A failed batch call fails every read in
 * it, as each single read would have failed; a record the batch does not return does not exist.
 *
 * A group has only so many calls in flight. A batch whose window has passed waits for one of
 * them to end and takes more reads meanwhile: behind a provider's ceiling, where every call
 * waits for the budget, the reads that pile up go out in full batches instead of many partial
 * ones queued behind each other.
 */

/** Loads many keys of one group in one call; keys it does not return do not exist. */
export type LoadMany<V> = (group: string, keys: string[]) => Promise<ReadonlyMap<string, V>>;

interface Waiter<V> {
  resolve: (value: V | null) => void;
  reject: (error: unknown) => void;
}

interface Batch<V> {
  keys: Map<string, Array<Waiter<V>>>;
  /** The window has passed (or the batch is full): it goes as soon as a call may start. */
  due: boolean;
  timer: NodeJS.Timeout;
}

interface Group<V> {
  /** Batches not sent yet, oldest first; only the last takes new reads. */
  waiting: Array<Batch<V>>;
  inFlight: number;
}

/** Calls of one group in flight at once, by default. */
export const READS_IN_FLIGHT = 4;

/** Collects single reads per group and loads them together. */
export class ReadCoalescer<V> {
  private readonly groups = new Map<string, Group<V>>();

  constructor(
    private readonly loadMany: LoadMany<V>,
    /** How long the first read of a batch waits for others. */
    private readonly windowMs: number,
    /** The most keys one call may carry; a full batch goes out at once (a call being free). */
    private readonly maxKeys: number,
    /** The most calls of one group in flight. */
    private readonly maxInFlight = READS_IN_FLIGHT,
  ) {}

  /** The value of `key` in `group`, or null when the load does not return it. */
  load(group: string, key: string): Promise<V | null> {
    return new Promise((resolve, reject) => {
      let state = this.groups.get(group);
      if (state === undefined) {
        state = { waiting: [], inFlight: 0 };
        this.groups.set(group, state);
      }
      let batch = state.waiting.at(-1);
      if (batch === undefined || batch.keys.size >= this.maxKeys) {
        const opened: Batch<V> = {
          keys: new Map(),
          due: false,
          timer: setTimeout(() => {
            opened.due = true;
            this.drain(group);
          }, this.windowMs),
        };
        state.waiting.push(opened);
        batch = opened;
      }
      const waiting = batch.keys.get(key) ?? [];
      waiting.push({ resolve, reject });
      batch.keys.set(key, waiting);
      if (batch.keys.size >= this.maxKeys) batch.due = true;
      this.drain(group);
    });
  }

  /** Sends the group's due batches, oldest first, while calls are free. */
  private drain(group: string): void {
    const state = this.groups.get(group);
    if (state === undefined) return;
    while (state.inFlight < this.maxInFlight && state.waiting[0]?.due) {
      const batch = state.waiting.shift() as Batch<V>;
      clearTimeout(batch.timer);
      state.inFlight++;
      void this.send(group, batch).finally(() => {
        state.inFlight--;
        if (state.inFlight === 0 && state.waiting.length === 0) this.groups.delete(group);
        else this.drain(group);
      });
    }
  }

  private async send(group: string, batch: Batch<V>): Promise<void> {
    try {
      const found = await this.loadMany(group, [...batch.keys.keys()]);
      for (const [key, waiting] of batch.keys) for (const { resolve } of waiting) resolve(found.get(key) ?? null);
    } catch (error) {
      for (const waiting of batch.keys.values()) for (const { reject } of waiting) reject(error);
    }
  }
}
