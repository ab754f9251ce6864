/**
 * The sandbox's data, kept in the kit's RecordStore: one company's records and the tenant's
 * webhook subscriptions, shown with BC's number series, etags and lastModifiedDateTime. Every
 * collection is served by the same code, from its entry in COLLECTIONS.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { type ChangedBy, type RecordChange, RecordStore, type StoredRecord } from '../../kit/sandbox/records';
import { checkProperties, COLLECTION_NAMES, COLLECTIONS, singular } from './collections';
import type { CollectionName, Row } from './collections';
import { compileOrderBy, etagOf, notFound, refusal } from './odata';
import { SEEDED_COLLECTIONS, type BusinessCentralSandboxSeed as Seed } from './seed';

/** The store's collections: the company's records and the tenant's webhook subscriptions. */
export type StoreCollection = CollectionName | 'subscriptions';
/** A stored record: its properties, without the id and time the store keeps beside them. */
export type Stored = StoredRecord<Row>;
export type Change = RecordChange<StoreCollection, Row>;

/**
 * An entity set as the routes serve it: BC's views of its records and the writes (the routes
 * check If-Match first). Collections, the companies and the subscriptions alike.
 */
export interface EntitySet<Written = Row | Promise<Row>> {
  list(): Row[];
  get(id: string): Row | undefined;
  create(fields: Row): Written;
  update(id: string, fields: Row): Written;
  delete(id: string): void;
}

/** A direct-access helper set for one collection: edits behave like a user working in BC. */
export type SandboxCollectionAccess = EntitySet<Row>;

/**
 * A record as BC shows it: the id under `key`, its properties, and the time of its last change.
 * The store gives every change a millisecond of its own, so the etag made from that time is new
 * on every write, as BC's row version is.
 */
export function view({ id, updatedAt, fields }: Stored, key = 'id'): Row {
  const lastModifiedDateTime = new Date(updatedAt).toISOString();
  return { '@odata.etag': etagOf(updatedAt, id), [key]: id, ...fields, lastModifiedDateTime };
}

/** The file of a sandbox from before the kit's store: BC's records whole, the subscriptions apart. */
const legacyRecord = z.looseObject({ lastModifiedDateTime: z.string(), version: z.number() });
const legacyState = z.object({
  lastTimestamp: z.number(),
  numbers: z.record(z.string(), z.number()),
  records: z.record(z.string(), z.array(legacyRecord.extend({ id: z.string() }))),
  subscriptions: z.array(legacyRecord.extend({ subscriptionId: z.string() })),
});

/** Reads such a file into the store's shape (its number series count in tens); any other file as it is. */
function upgradeState(saved: unknown): unknown {
  const legacy = legacyState.safeParse(saved);
  if (!legacy.success) return saved;
  const { lastTimestamp, numbers, records, subscriptions } = legacy.data;
  const stored = (id: string, { lastModifiedDateTime, version: _version, ...fields }: z.infer<typeof legacyRecord>) => {
    const at = Date.parse(lastModifiedDateTime);
    return { id, createdAt: at, updatedAt: at, fields };
  };
  const collections = Object.fromEntries(
    Object.entries(records).map(([name, list]) => [name, list.map(({ id, ...record }) => stored(id, record))]),
  );
  collections.subscriptions = subscriptions.map(({ subscriptionId, ...rest }) => stored(subscriptionId, rest));
  const counters = Object.fromEntries(Object.entries(numbers).map(([name, last]) => [name, last / 10]));
  return { lastTime: lastTimestamp, nextIds: {}, counters, collections };
}

const duplicate = (message: string) => refusal(400, 'Internal_EntityWithSameKeyExists', message);

/** The store: seeded (silently) when there is no file yet; `onChange` hears of every later write. */
export function openStore(
  file: string | undefined,
  seed: Seed,
  onChange: (change: Change) => void,
  /** The tenant's clock (epoch ms), that record times come from. */
  now: () => number = Date.now,
) {
  const fresh = file === undefined || !existsSync(file);
  let listener: (change: Change) => void = () => undefined;
  // Numbers compare without case, as BC's Code fields do. Each collection's numbers in use are
  // kept as a count per number, following every write (a scan per create was quadratic).
  const numbers = new Map<StoreCollection, Map<string, number>>();
  const numberOf = (fields: Row | undefined) =>
    typeof fields?.number === 'string' ? fields.number.toLowerCase() : undefined;
  const count = (collection: StoreCollection, number: string | undefined, by: number) => {
    if (number === undefined) return;
    const inUse = numbers.get(collection) ?? new Map<string, number>();
    numbers.set(collection, inUse);
    const left = (inUse.get(number) ?? 0) + by;
    if (left > 0) inUse.set(number, left);
    else inUse.delete(number);
  };
  const records = new RecordStore<StoreCollection, Row>({
    collections: [...COLLECTION_NAMES, 'subscriptions'],
    fields: z.record(z.string(), z.unknown()),
    file,
    distinctTimes: true,
    now,
    upgrade: upgradeState,
    onChange: (change) => {
      const { collection, kind, record, before } = change;
      if (kind !== 'created') count(collection, numberOf(kind === 'updated' ? before : record.fields), -1);
      if (kind !== 'deleted') count(collection, numberOf(record.fields), 1);
      listener(change);
    },
  });
  for (const collection of COLLECTION_NAMES)
    for (const record of records.list(collection)) count(collection, numberOf(record.fields), 1);
  const taken = (collection: CollectionName, number: string) =>
    (numbers.get(collection)?.get(number.toLowerCase()) ?? 0) > 0;
  const get = (collection: CollectionName, id: string): Stored => {
    const record = records.get(collection, id.toLowerCase());
    if (record === undefined)
      throw notFound(`The ${singular(collection)} does not exist. Identification fields and values: Id='${id}'`);
    return record;
  };
  const derive = (collection: CollectionName, fields: Row) =>
    COLLECTIONS[collection].derive?.(fields, (other, matches) =>
      records
        .list(other)
        .map((record) => shown(other, record))
        .find(matches),
    );

  /** The next free number of the collection's series (C00010, C00020, ...), stepping over numbers chosen by hand. */
  const nextNumber = (collection: CollectionName): string => {
    let number: string;
    do {
      number = `${COLLECTIONS[collection].prefix}${String(records.count(collection) * 10).padStart(5, '0')}`;
    } while (taken(collection, number));
    return number;
  };

  const alreadyExists = (collection: CollectionName, number: string) =>
    duplicate(`The ${singular(collection)} already exists. Identification fields and values: No.='${number}'`);

  /**
   * Creates a record from BC properties; a direct edit may give its `id` (seeds), and `number` may
   * be chosen where BC lets a client choose it.
   */
  const create = (collection: CollectionName, body: Row, by: ChangedBy): Stored => {
    const { number: chosenNumber, ...properties } = checkProperties(collection, body, { by, method: 'POST' });
    const givenId = by === 'api' ? undefined : body.id;
    const id = typeof givenId === 'string' && givenId !== '' ? givenId.toLowerCase() : randomUUID();
    if (records.get(collection, id)) throw duplicate(`The record already exists. Id='${id}'`);
    const chosen = typeof chosenNumber === 'string' && chosenNumber !== '' ? chosenNumber : undefined;
    if (chosen !== undefined && taken(collection, chosen)) throw alreadyExists(collection, chosen);
    const fields = { ...COLLECTIONS[collection].defaults, number: chosen ?? nextNumber(collection), ...properties };
    derive(collection, fields);
    return records.create(collection, fields, by, id);
  };

  /**
   * Updates a record; the properties are checked and derived before any of them is written. A new
   * number renames the record, as BC's page does, unless another record has it.
   */
  const update = (collection: CollectionName, id: string, body: Row, by: ChangedBy): Stored => {
    const record = get(collection, id);
    const checked = checkProperties(collection, body, { by, method: 'PATCH' });
    const renamed = typeof checked.number === 'string' ? checked.number : undefined;
    if (renamed !== undefined && renamed.toLowerCase() !== numberOf(record.fields) && taken(collection, renamed))
      throw alreadyExists(collection, renamed);
    const fields = { ...record.fields, ...checked };
    derive(collection, fields);
    return records.update(collection, record, fields, by);
  };

  /** A record as BC shows it, with the defaults of properties added since it was saved. */
  const shown = (collection: CollectionName, record: Stored): Row =>
    view({ ...record, fields: { ...COLLECTIONS[collection].defaults, ...record.fields } });

  if (fresh) {
    for (const collection of SEEDED_COLLECTIONS)
      for (const record of seed[collection] ?? []) create(collection, record, 'user');
  }
  listener = onChange;

  return {
    records,
    /** A collection's entity set: the routes' (`by: 'api'`) or the direct-access helpers'. */
    collection: (name: CollectionName, by: ChangedBy = 'user'): SandboxCollectionAccess => ({
      create: (fields) => shown(name, create(name, fields, by)),
      update: (id, fields) => shown(name, update(name, id, fields, by)),
      delete: (id) => {
        records.delete(name, get(name, id).id, by);
      },
      get: (id) => {
        const record = records.get(name, id.toLowerCase());
        return record === undefined ? undefined : shown(name, record);
      },
      // BC's default order is the primary key.
      list: () =>
        records
          .list(name)
          .map((record) => shown(name, record))
          .sort(compileOrderBy('number')),
    }),
  };
}

/** The store of one sandbox. */
export type SandboxStore = ReturnType<typeof openStore>;
