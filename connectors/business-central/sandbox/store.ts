/**
 * The sandbox's data: one company's records and the tenant's webhook subscriptions, with BC's
 * etags, number series and lastModifiedDateTime, optionally persisted to a JSON file. Every
 * collection is served by the same code, from its entry in COLLECTIONS.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { loadState, saveState } from '../../kit/sandbox/persistence';
import { checkProperties, COLLECTIONS, singular, type CollectionName, type StoredRecord } from './collections';
import { compileOrderBy, etagOf, notFound, refusal } from './odata';
import type { BusinessCentralSandboxSeed as Seed } from './seed';

/** A direct-access helper set for one collection: edits behave like a user working in BC. */
export interface SandboxCollectionAccess {
  readonly create: (fields: Record<string, unknown>) => Record<string, unknown>;
  readonly update: (id: string, fields: Record<string, unknown>) => Record<string, unknown>;
  readonly delete: (id: string) => void;
  readonly get: (id: string) => Record<string, unknown> | undefined;
  readonly list: () => Array<Record<string, unknown>>;
}

/**
 * An entity set as the routes serve it: BC's views of its records and the writes (the routes
 * check If-Match first). Collections, the companies and the subscriptions alike.
 */
export interface EntitySet {
  list(): Array<Record<string, unknown>>;
  get(id: string): Record<string, unknown> | undefined;
  create(fields: Record<string, unknown>): Record<string, unknown> | Promise<Record<string, unknown>>;
  update(id: string, fields: Record<string, unknown>): Record<string, unknown> | Promise<Record<string, unknown>>;
  delete(id: string): void;
}

/** One change to a record, as the notifier needs it. */
export interface RecordChange {
  collection: CollectionName;
  id: string;
  changeType: 'created' | 'updated' | 'deleted';
  lastModifiedDateTime: string;
}

const subscriptionSchema = z.object({
  subscriptionId: z.string(),
  notificationUrl: z.string(),
  resource: z.string(),
  clientState: z.string(),
  expirationDateTime: z.string(),
  lastModifiedDateTime: z.string(),
  userId: z.string(),
  version: z.number(),
});
export type StoredSubscription = z.infer<typeof subscriptionSchema>;

const recordSchema = z.looseObject({
  id: z.string(),
  number: z.string(),
  lastModifiedDateTime: z.string(),
  version: z.number(),
});
/** Everything the sandbox keeps, as it is written to its file. */
const stateSchema = z.object({
  version: z.number(),
  lastTimestamp: z.number(),
  numbers: z.record(z.string(), z.number()),
  records: z.record(z.string(), z.array(recordSchema)),
  subscriptions: z.array(subscriptionSchema),
});
type State = z.infer<typeof stateSchema>;

/** A record or subscription as BC shows it: an etag in place of the row version. */
export function view(record: StoredRecord | StoredSubscription): Record<string, unknown> {
  const { version, ...properties } = record;
  return { '@odata.etag': etagOf(version, 'id' in record ? record.id : record.subscriptionId), ...properties };
}

const duplicate = (message: string) => refusal(400, 'Internal_EntityWithSameKeyExists', message);

/** The store: seeded (silently) when there is no file yet; `onChange` hears of every later write. */
export function openStore(file: string | undefined, seed: Seed, onChange: (change: RecordChange) => void) {
  const saved = loadState(file, stateSchema);
  const state: State = saved ?? { version: 0, lastTimestamp: 0, numbers: {}, records: {}, subscriptions: [] };
  const records = (collection: CollectionName): StoredRecord[] => (state.records[collection] ??= []);
  const find = (collection: CollectionName, id: string) =>
    records(collection).find((record) => record.id === id.toLowerCase());
  // Numbers compare without case, as BC's Code fields do.
  const taken = (collection: CollectionName, number: string) =>
    records(collection).some((record) => record.number.toLowerCase() === number.toLowerCase());
  const get = (collection: CollectionName, id: string): StoredRecord => {
    const record = find(collection, id);
    if (record === undefined)
      throw notFound(`The ${singular(collection)} does not exist. Identification fields and values: Id='${id}'`);
    return record;
  };
  const save = () => saveState(file, () => state);
  const nextVersion = () => ++state.version;
  // A modification time that never goes backwards, even when two writes share a millisecond.
  const nextTimestamp = () => {
    state.lastTimestamp = Math.max(Date.now(), state.lastTimestamp + 1);
    return new Date(state.lastTimestamp).toISOString();
  };
  const changed = (change: RecordChange, notify = true) => {
    save();
    if (notify) onChange(change);
  };
  const derive = (collection: CollectionName, record: StoredRecord) =>
    COLLECTIONS[collection].derive?.(record, (other, matches) => records(other).find(matches));

  /** The next free number of the collection's series, stepping over numbers chosen by hand. */
  const nextNumber = (collection: CollectionName): string => {
    let next = state.numbers[collection] ?? 0;
    let number: string;
    do {
      next += 10;
      number = `${COLLECTIONS[collection].prefix}${String(next).padStart(5, '0')}`;
    } while (taken(collection, number));
    state.numbers[collection] = next;
    return number;
  };

  /** Creates a record from BC properties; `id` and `number` may be given (seeds, chosen numbers). */
  const create = (collection: CollectionName, body: Record<string, unknown>, notify = true): StoredRecord => {
    const { id: givenId, number: givenNumber, ...properties } = body;
    const id = typeof givenId === 'string' && givenId !== '' ? givenId.toLowerCase() : randomUUID();
    if (find(collection, id)) throw duplicate(`The record already exists. Id='${id}'`);
    const chosen = typeof givenNumber === 'string' && givenNumber !== '' ? givenNumber : undefined;
    if (chosen !== undefined && taken(collection, chosen))
      throw duplicate(`The ${singular(collection)} already exists. Identification fields and values: No.='${chosen}'`);
    const record: StoredRecord = {
      id,
      number: chosen ?? nextNumber(collection),
      ...COLLECTIONS[collection].defaults,
      ...checkProperties(collection, properties),
      lastModifiedDateTime: nextTimestamp(),
      version: nextVersion(),
    };
    derive(collection, record);
    records(collection).push(record);
    changed({ collection, id, changeType: 'created', lastModifiedDateTime: record.lastModifiedDateTime }, notify);
    return record;
  };

  /** Updates a record; the properties are checked and derived before any of them is written. */
  const update = (collection: CollectionName, id: string, body: Record<string, unknown>): StoredRecord => {
    const record = get(collection, id);
    const next = { ...record, ...checkProperties(collection, body), lastModifiedDateTime: nextTimestamp() };
    derive(collection, next);
    Object.assign(record, next, { version: nextVersion() });
    changed({ collection, id: record.id, changeType: 'updated', lastModifiedDateTime: record.lastModifiedDateTime });
    return record;
  };

  const remove = (collection: CollectionName, id: string): void => {
    const record = get(collection, id);
    state.records[collection] = records(collection).filter((other) => other !== record);
    changed({ collection, id: record.id, changeType: 'deleted', lastModifiedDateTime: nextTimestamp() });
  };

  if (saved === undefined) {
    for (const collection of ['customers', 'vendors', 'bankAccounts', 'contacts'] as const)
      for (const record of seed[collection] ?? []) create(collection, record, false);
  }

  return {
    state,
    save,
    nextVersion,
    /** The direct-access helpers of a collection, which the routes use too. */
    collection: (name: CollectionName): SandboxCollectionAccess => ({
      create: (fields) => view(create(name, fields)),
      update: (id, fields) => view(update(name, id, fields)),
      delete: (id) => remove(name, id),
      get: (id) => {
        const record = find(name, id);
        return record === undefined ? undefined : view(record);
      },
      // BC's default order is the primary key.
      list: () => [...records(name)].sort(compileOrderBy('number')).map(view),
    }),
  };
}

/** The store of one sandbox. */
export type SandboxStore = ReturnType<typeof openStore>;
