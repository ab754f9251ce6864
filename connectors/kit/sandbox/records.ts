/**
 * The records a sandbox serves: named collections with ids, creation and modification times from
 * a clock that never goes backwards, every change told to one listener (webhooks), and the whole
 * state kept in a JSON file when the sandbox is given one.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

/** A stored record: the kit's id and times (epoch ms) around the provider's own fields. */
export interface StoredRecord<Fields> {
  id: string;
  createdAt: number;
  updatedAt: number;
  fields: Fields;
}

/** Who made a change: a user in the provider's own UI (the direct-edit helpers), or a client of the API. */
export type ChangedBy = 'user' | 'api';

/**
 * A record's fields, or how to make them from the change's time (epoch ms) for fields that carry
 * it, such as a per-property history. Fields are never functions themselves (they are JSON).
 */
export type FieldsAt<Fields> = Fields | ((at: number) => Fields);

/** One change, with the record after it. */
export interface RecordChange<Name extends string, Fields> {
  collection: Name;
  kind: 'created' | 'updated' | 'deleted';
  by: ChangedBy;
  record: StoredRecord<Fields>;
  /** The fields before an update. */
  before?: Fields;
}

/** How a sandbox keeps its records. */
export interface RecordStoreOptions<Name extends string, Fields> {
  collections: readonly Name[];
  /** The first id of each collection's numeric id sequence; without, ids are random UUIDs. */
  firstIds?: Record<Name, number>;
  /** Reads the fields of a record from the state file. */
  fields: z.ZodType<Fields>;
  /** A JSON file to load the records from at start and to write after every change. */
  file?: string;
  /** Every change gets a millisecond of its own, not only a time that never goes backwards. */
  distinctTimes?: boolean;
  /** Turns a state file of an older shape into this one's, for files written before the sandbox used the store. */
  upgrade?: (saved: unknown) => unknown;
  onChange?: (change: RecordChange<Name, Fields>) => void;
  /** The provider's clock (epoch ms) that change times come from; default the real one. */
  now?: () => number;
}

/** Collections of records; each lists in creation order. */
export class RecordStore<Name extends string, Fields> {
  private readonly records = new Map<Name, Map<string, StoredRecord<Fields>>>();
  private nextIds: Partial<Record<Name, number>>;
  private counters: Record<string, number> = {};
  private lastTime = 0;

  constructor(private readonly options: RecordStoreOptions<Name, Fields>) {
    for (const name of options.collections) this.records.set(name, new Map());
    this.nextIds = { ...options.firstIds };
    const record = z.object({ id: z.string(), createdAt: z.number(), updatedAt: z.number(), fields: options.fields });
    const state = z.object({
      lastTime: z.number(),
      nextIds: z.record(z.string(), z.number()),
      // Files written before the store had counters have none.
      counters: z.record(z.string(), z.number()).default({}),
      collections: z.record(z.string(), z.array(record)),
    });
    const saved = loadState(options.file, z.preprocess(options.upgrade ?? ((file: unknown) => file), state));
    if (saved === undefined) return;
    this.lastTime = saved.lastTime;
    this.nextIds = { ...this.nextIds, ...saved.nextIds };
    this.counters = saved.counters;
    for (const [name, records] of this.records)
      for (const stored of saved.collections[name] ?? []) records.set(stored.id, stored);
  }

  get(collection: Name, id: string): StoredRecord<Fields> | undefined {
    return this.collection(collection).get(id);
  }

  list(collection: Name): StoredRecord<Fields>[] {
    return [...this.collection(collection).values()];
  }

  /** The records modified at or after `since` (epoch ms; all without it), least recently modified first. */
  changedSince(collection: Name, since?: number): StoredRecord<Fields>[] {
    return this.list(collection)
      .filter((record) => since === undefined || Number.isNaN(since) || record.updatedAt >= since)
      .sort((a, b) => a.updatedAt - b.updatedAt);
  }

  /** True when no collection holds a record. */
  isEmpty(): boolean {
    return [...this.records.values()].every((records) => records.size === 0);
  }

  /**
   * Adds a record under the next id of the collection's sequence, a random UUID, or `id` when the
   * sandbox gives one (a seed's, or one a client chose; the caller makes sure it is free).
   */
  create(collection: Name, fields: FieldsAt<Fields>, by: ChangedBy, id?: string): StoredRecord<Fields> {
    const next = id === undefined ? this.nextIds[collection] : undefined;
    if (next !== undefined) this.nextIds[collection] = next + 1;
    const at = this.tick();
    const newId = id ?? (next === undefined ? randomUUID() : String(next));
    const record = { id: newId, createdAt: at, updatedAt: at, fields: fieldsAt(fields, at) };
    this.collection(collection).set(record.id, record);
    this.changed({ collection, kind: 'created', by, record });
    return record;
  }

  /** Replaces the fields of a stored record and moves its modification time. */
  update(
    collection: Name,
    record: StoredRecord<Fields>,
    fields: FieldsAt<Fields>,
    by: ChangedBy,
  ): StoredRecord<Fields> {
    const before = record.fields;
    const at = this.tick();
    Object.assign(record, { fields: fieldsAt(fields, at), updatedAt: at });
    this.changed({ collection, kind: 'updated', by, record, before });
    return record;
  }

  /** Removes a record; undefined when the id is unknown. */
  delete(collection: Name, id: string, by: ChangedBy): StoredRecord<Fields> | undefined {
    const record = this.get(collection, id);
    if (record === undefined) return undefined;
    this.collection(collection).delete(id);
    this.changed({ collection, kind: 'deleted', by, record: { ...record, updatedAt: this.tick() } });
    return record;
  }

  /** The next value (1, 2, ...) of a named counter, such as a number series; written with the next change. */
  count(counter: string): number {
    this.counters[counter] = (this.counters[counter] ?? 0) + 1;
    return this.counters[counter];
  }

  private collection(name: Name): Map<string, StoredRecord<Fields>> {
    const records = this.records.get(name);
    if (records === undefined) throw new Error(`sandbox: no collection ${name}`);
    return records;
  }

  private tick(): number {
    this.lastTime = Math.max(
      (this.options.now ?? Date.now)(),
      this.lastTime + (this.options.distinctTimes === true ? 1 : 0),
    );
    return this.lastTime;
  }

  private changed(change: RecordChange<Name, Fields>): void {
    saveState(this.options.file, () => ({
      lastTime: this.lastTime,
      nextIds: this.nextIds,
      counters: this.counters,
      collections: Object.fromEntries([...this.records].map(([name, records]) => [name, [...records.values()]])),
    }));
    this.options.onChange?.(change);
  }
}

function fieldsAt<Fields>(fields: FieldsAt<Fields>, at: number): Fields {
  return typeof fields === 'function' ? (fields as (at: number) => Fields)(at) : fields;
}

/** The state in `file`, parsed by `schema`; undefined without a file or before the first write. */
export function loadState<T>(file: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (file === undefined || !existsSync(file)) return undefined;
  return schema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/**
 * Writes the state to `file` (when there is one; `state` is only asked for then): to a temporary
 * file first, then renamed over, so a crash never leaves half a file.
 */
export function saveState(file: string | undefined, state: () => unknown): void {
  if (file === undefined) return;
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, JSON.stringify(state(), null, 2));
  renameSync(temporary, file);
}
