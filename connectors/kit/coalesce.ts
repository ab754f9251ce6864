/**
 * Reads of single records, coalesced into batch calls. Many planners run at once, each reading
 * its own contact's records one by one; a provider with a batch read answers a hundred ids for
 * the price of one. Reads asked for within a short window (or until a batch is full) go out as one
 * batch call, and each caller gets its own record back. A failed batch call fails every read in
 * it, as each single read would have failed; a record the batch does not return does not exist.
 */

/** Loads many keys of one group in one call; keys it does not return do not exist. */
export type LoadMany<V> = (group: string, keys: string[]) => Promise<ReadonlyMap<string, V>>;

interface Pending<V> {
  keys: Map<string, Array<{ resolve: (value: V | null) => void; reject: (error: unknown) => void }>>;
  timer: NodeJS.Timeout;
}

/** Collects single reads per group and loads them together. */
export class ReadCoalescer<V> {
  private readonly pending = new Map<string, Pending<V>>();

  constructor(
    private readonly loadMany: LoadMany<V>,
    /** How long the first read of a group waits for others. */
    private readonly windowMs: number,
    /** The most keys one call may carry; a full batch goes out at once. */
    private readonly maxKeys: number,
  ) {}

  /** The value of `key` in `group`, or null when the load does not return it. */
  load(group: string, key: string): Promise<V | null> {
    return new Promise((resolve, reject) => {
      let batch = this.pending.get(group);
      if (batch === undefined) {
        batch = { keys: new Map(), timer: setTimeout(() => this.flush(group), this.windowMs) };
        this.pending.set(group, batch);
      }
      const waiting = batch.keys.get(key) ?? [];
      waiting.push({ resolve, reject });
      batch.keys.set(key, waiting);
      if (batch.keys.size >= this.maxKeys) this.flush(group);
    });
  }

  private flush(group: string): void {
    const batch = this.pending.get(group);
    if (batch === undefined) return;
    this.pending.delete(group);
    clearTimeout(batch.timer);
    const keys = [...batch.keys.keys()];
    this.loadMany(group, keys).then(
      (found) => {
        for (const [key, waiting] of batch.keys) for (const { resolve } of waiting) resolve(found.get(key) ?? null);
      },
      (error: unknown) => {
        for (const waiting of batch.keys.values()) for (const { reject } of waiting) reject(error);
      },
    );
  }
}
