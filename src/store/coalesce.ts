/**
 * Store calls of many planners, run as one statement. Hundreds of contacts are planned at once in
 * a burst, each asking the store the same few questions (its relations, its shadow, what was
 * last seen of its records); one statement answering a hundred of them costs little more than
 * one answering a single one, and PGlite runs one statement at a time.
 *
 * No timer: a call that finds nothing in flight goes out at once (after the current tick, so
 * calls made together go together); calls made while earlier ones are in flight wait for them
 * and then go out together. A quiet system sees no added latency; a busy one gets big batches.
 */
import { StoreUnavailableError } from '../app/ports/store';

/** Runs many items in one go: one result per item, in order. */
export type RunMany<I, O> = (items: readonly I[]) => Promise<readonly O[]>;

export interface CoalescerOptions<I> {
  /** The most items one run carries. */
  maxItems: number;
  /**
   * The most rows one run carries, counted by `weight` (say, the records of an observation): a
   * run stays a size the database handles well. An item heavier than that runs alone.
   */
  maxWeight?: number;
  weight?: (item: I) => number;
  /** Runs in flight at once (1 on PGlite, which runs one statement at a time anyway). */
  parallel: number;
  /**
   * The rows an item touches. An item sharing one with an item gathered or in flight waits for
   * a later run, so that calls naming one row are answered in the order they were made.
   */
  keys?: (item: I) => readonly string[];
}

interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

/** Gathers items submitted one by one and runs them many at a time. */
export class Coalescer<I, O> {
  private waiting: Waiting<I, O>[] = [];
  private inFlight = 0;
  private scheduled = false;
  /** The keys of the items in flight. */
  private readonly busy = new Set<string>();

  constructor(
    private readonly runMany: RunMany<I, O>,
    private readonly options: CoalescerOptions<I>,
  ) {}

  /** The item's result, from a run it shares with whatever else is waiting. */
  submit(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.parallel || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.start();
    });
  }

  private start(): void {
    while (this.inFlight < this.options.parallel && this.waiting.length > 0) {
      const batch = this.take();
      // What waits names keys in flight: it goes when they are done.
      if (batch.length === 0) return;
      this.inFlight++;
      void this.run(batch).finally(() => {
        for (const entry of batch) for (const key of this.options.keys?.(entry.item) ?? []) this.busy.delete(key);
        this.inFlight--;
        this.schedule();
      });
    }
  }

  /** The waiting items that go together next, oldest first; those that do not fit wait for the next run. */
  private take(): Waiting<I, O>[] {
    const { maxItems, keys, maxWeight = Number.POSITIVE_INFINITY, weight = () => 1 } = this.options;
    const batch: Waiting<I, O>[] = [];
    const rest: Waiting<I, O>[] = [];
    let carried = 0;
    // A key passed over stays taken, so a later item naming it cannot overtake the earlier one.
    const taken = new Set(this.busy);
    let scanned = 0;
    // Once the run is full the rest waits as it is, in order, unscanned.
    for (; scanned < this.waiting.length && batch.length < maxItems && carried < maxWeight; scanned++) {
      const entry = this.waiting[scanned] as Waiting<I, O>;
      const itemKeys = keys?.(entry.item) ?? [];
      const free = !itemKeys.some((key) => taken.has(key));
      itemKeys.forEach((key) => taken.add(key));
      const heavy = weight(entry.item);
      if (free && (batch.length === 0 || carried + heavy <= maxWeight)) {
        carried += heavy;
        batch.push(entry);
        itemKeys.forEach((key) => this.busy.add(key));
      } else rest.push(entry);
    }
    this.waiting = scanned === this.waiting.length ? rest : rest.concat(this.waiting.slice(scanned));
    return batch;
  }

  private async run(batch: Waiting<I, O>[]): Promise<void> {
    try {
      const results = await this.runMany(batch.map((entry) => entry.item));
      batch.forEach((entry, index) => entry.resolve(results[index] as O));
    } catch (error) {
      // A store that cannot be reached fails every call alike; anything else is kept to the item
      // that caused it by running each again alone.
      if (batch.length === 1 || error instanceof StoreUnavailableError) {
        for (const entry of batch) entry.reject(error);
        return;
      }
      await Promise.all(
        batch.map((entry) =>
          this.runMany([entry.item]).then((results) => entry.resolve(results[0] as O), entry.reject),
        ),
      );
    }
  }
}
