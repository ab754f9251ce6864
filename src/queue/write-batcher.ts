/**
 * Writes of many write jobs, sent as batch calls. Each job still runs its own checks (its fence,
 * its compare, the note of what it carries) and then hands its update here; updates of one
 * entity that arrive within a short window (or until a batch is full) go out in one batchUpdate,
 * and each job gets its own item's result. An update alone goes out as a single update, as before.
 * A failed call fails every job in it, each to be retried by the queue with its checks again; a
 * failed item fails its job only.
 */
import { currentPriority } from '../../connectors/kit/priority';
import type { Connector, RecordUpdate } from '../../connectors/kit/types';
import type { Entity, SyncRecord } from '../core/model';

interface Waiting {
  update: RecordUpdate;
  resolve: (record: SyncRecord) => void;
  reject: (error: unknown) => void;
}

/** Collects one connector's updates per entity and writes them together. */
export class WriteBatcher {
  private readonly pending = new Map<string, { entity: Entity; items: Waiting[]; timer: NodeJS.Timeout }>();

  constructor(
    private readonly connector: Connector,
    /** How long the first update of an entity waits for others. */
    private readonly windowMs: number,
    /** The most updates one call carries (the connector's kit splits bigger batches anyway). */
    private readonly maxItems: number,
  ) {}

  /** Writes the update, alone or with others, and resolves with the record as stored. */
  write(entity: Entity, update: RecordUpdate): Promise<SyncRecord> {
    const { connector } = this;
    if (!connector.batchUpdate || this.windowMs <= 0) return this.single(entity, update);
    // An admin's write never waits in a batch of bulk work (connectors/kit/priority.ts): the batch
    // call runs with the priority of the jobs in it.
    const group = `${entity}|${currentPriority()}`;
    return new Promise((resolve, reject) => {
      let batch = this.pending.get(group);
      if (batch === undefined) {
        batch = { entity, items: [], timer: setTimeout(() => this.flush(group), this.windowMs) };
        this.pending.set(group, batch);
      }
      batch.items.push({ update, resolve, reject });
      if (batch.items.length >= this.maxItems) this.flush(group);
    });
  }

  private async single(entity: Entity, update: RecordUpdate): Promise<SyncRecord> {
    if (this.connector.update) return this.connector.update(entity, update);
    const [result] = await (this.connector.batchUpdate as NonNullable<Connector['batchUpdate']>)(entity, [update]);
    if (result?.ok) return result.record;
    throw result?.error ?? new Error(`${this.connector.name}: no result for ${update.id}`);
  }

  private flush(group: string): void {
    const batch = this.pending.get(group);
    if (batch === undefined) return;
    this.pending.delete(group);
    clearTimeout(batch.timer);
    const { entity, items } = batch;
    if (items.length === 1) {
      const [only] = items as [Waiting];
      this.single(entity, only.update).then(only.resolve, only.reject);
      return;
    }
    (this.connector.batchUpdate as NonNullable<Connector['batchUpdate']>)(
      entity,
      items.map((item) => item.update),
    ).then(
      // One result per update, in order (the kit's batchUpdate answers so).
      (results) =>
        items.forEach((item, index) => {
          const result = results[index];
          if (result?.ok) item.resolve(result.record);
          else item.reject(result?.error ?? new Error(`${this.connector.name}: no result for ${item.update.id}`));
        }),
      (error: unknown) => {
        for (const item of items) item.reject(error);
      },
    );
  }
}
