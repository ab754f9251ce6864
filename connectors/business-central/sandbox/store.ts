/**
 * The sandbox's data: one company's records and the tenant's webhook subscriptions, with BC's
 * etags, number series and lastModifiedDateTime, optionally persisted to a JSON file.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { loadState, saveState } from '../../kit/sandbox/persistence';
import {
  CODE_LENGTHS,
  COLLECTION_NAMES,
  DEFAULTS,
  EMPTY_GUID,
  NUMBER_PREFIX,
  OPTIONS,
  type CollectionName,
} from './collections';
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** An OData failure the sandbox answers with `{ error: { code, message } }`, as BC does. */
export class SandboxError extends Error {
  override readonly name = 'SandboxError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const badRequest = (message: string) => new SandboxError(400, 'BadRequest', message);
const duplicate = (message: string) => new SandboxError(400, 'Internal_EntityWithSameKeyExists', message);

/** A stored record: BC's properties plus the row version behind its etag. */
export interface StoredRecord {
  id: string;
  number: string;
  lastModifiedDateTime: string;
  version: number;
  [property: string]: unknown;
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
/** A stored webhook subscription. */
export type StoredSubscription = z.infer<typeof subscriptionSchema>;

const recordSchema = z.looseObject({
  id: z.string(),
  number: z.string(),
  lastModifiedDateTime: z.string(),
  version: z.number(),
});
const persistedSchema = z.object({
  version: z.number(),
  lastTimestamp: z.number(),
  numbers: z.record(z.string(), z.number()),
  records: z.record(z.string(), z.array(recordSchema)),
  subscriptions: z.array(subscriptionSchema),
});

/** BC-style weak etag: W/"<base64 of 'version;...;'>", new on every write. */
export function etagOf(version: number, id: string): string {
  return `W/"${Buffer.from(`'${version};${id.replace(/-/g, '').slice(0, 12)};00;'`).toString('base64')}"`;
}

/** Does an If-Match header accept the current etag? `*` accepts any. */
export function ifMatchAccepts(header: string, version: number, id: string): boolean {
  const current = etagOf(version, id);
  return header
    .split(',')
    .map((part) => part.trim())
    .some((part) => part === '*' || part === current);
}

/** One company's records and the tenant's subscriptions. */
export class SandboxStore {
  private readonly records = new Map<CollectionName, Map<string, StoredRecord>>(
    COLLECTION_NAMES.map((name) => [name, new Map()]),
  );
  readonly subscriptions = new Map<string, StoredSubscription>();
  private version = 0;
  private lastTimestamp = 0;
  private readonly numbers = new Map<CollectionName, number>();

  constructor(
    private readonly onChange: (change: RecordChange) => void,
    private readonly file?: string,
  ) {
    const data = loadState(file, persistedSchema);
    if (data === undefined) return;
    this.version = data.version;
    this.lastTimestamp = data.lastTimestamp;
    for (const name of COLLECTION_NAMES) {
      this.numbers.set(name, data.numbers[name] ?? 0);
      for (const record of data.records[name] ?? []) this.collection(name).set(record.id, record);
    }
    for (const subscription of data.subscriptions) this.subscriptions.set(subscription.subscriptionId, subscription);
  }

  /** The next row version, for subscriptions as well as records. */
  nextVersion(): number {
    return ++this.version;
  }

  /** A modification time that never goes backwards, even when two writes share a millisecond. */
  nextTimestamp(): string {
    this.lastTimestamp = Math.max(Date.now(), this.lastTimestamp + 1);
    return new Date(this.lastTimestamp).toISOString();
  }

  /** All records of a collection in number order (BC's default order is the primary key). */
  list(collection: CollectionName): StoredRecord[] {
    return [...this.collection(collection).values()].sort((a, b) =>
      a.number < b.number ? -1 : a.number > b.number ? 1 : 0,
    );
  }

  /** One record, or undefined. */
  find(collection: CollectionName, id: string): StoredRecord | undefined {
    return this.collection(collection).get(id.toLowerCase());
  }

  /** One record, or BC's 404. */
  get(collection: CollectionName, id: string): StoredRecord {
    const record = this.find(collection, id);
    if (record === undefined) {
      throw new SandboxError(
        404,
        'BadRequest_NotFound',
        `The ${singular(collection)} does not exist. Identification fields and values: Id='${id}'`,
      );
    }
    return record;
  }

  /** Creates a record from BC properties; `id` and `number` may be given (seeds, chosen numbers). */
  create(collection: CollectionName, body: Record<string, unknown>, options: { silent?: boolean } = {}): StoredRecord {
    const { id: givenId, number: givenNumber, ...properties } = stripReadOnly(body);
    const id = typeof givenId === 'string' && givenId !== '' ? givenId.toLowerCase() : randomUUID();
    if (this.collection(collection).has(id)) throw duplicate(`The record already exists. Id='${id}'`);
    const chosen = typeof givenNumber === 'string' && givenNumber !== '' ? givenNumber : undefined;
    if (chosen && this.list(collection).some((record) => record.number.toLowerCase() === chosen.toLowerCase()))
      throw duplicate(`The ${singular(collection)} already exists. Identification fields and values: No.='${chosen}'`);
    const number = chosen ?? this.nextNumber(collection);
    const record: StoredRecord = {
      id,
      number,
      ...DEFAULTS[collection],
      ...this.checkProperties(collection, properties),
      lastModifiedDateTime: this.nextTimestamp(),
      version: this.nextVersion(),
    };
    this.derive(collection, record);
    this.collection(collection).set(id, record);
    this.changed(
      { collection, id, changeType: 'created', lastModifiedDateTime: record.lastModifiedDateTime },
      options.silent,
    );
    return record;
  }

  /** Updates a record. `ifMatch` null skips the etag check (a user editing in the client). */
  update(collection: CollectionName, id: string, body: Record<string, unknown>, ifMatch: string | null): StoredRecord {
    const record = this.get(collection, id);
    this.checkIfMatch(record, ifMatch);
    const { id: _id, ...rest } = stripReadOnly(body);
    const properties = this.checkProperties(collection, rest);
    Object.assign(record, properties, { lastModifiedDateTime: this.nextTimestamp(), version: this.nextVersion() });
    this.derive(collection, record);
    this.changed({
      collection,
      id: record.id,
      changeType: 'updated',
      lastModifiedDateTime: record.lastModifiedDateTime,
    });
    return record;
  }

  /** Deletes a record. `ifMatch` null skips the etag check. */
  delete(collection: CollectionName, id: string, ifMatch: string | null): void {
    const record = this.get(collection, id);
    this.checkIfMatch(record, ifMatch);
    this.collection(collection).delete(record.id);
    this.changed({ collection, id: record.id, changeType: 'deleted', lastModifiedDateTime: this.nextTimestamp() });
  }

  /** Writes the data file, when there is one. */
  save(): void {
    saveState(this.file, () => ({
      version: this.version,
      lastTimestamp: this.lastTimestamp,
      numbers: Object.fromEntries(this.numbers),
      records: Object.fromEntries([...this.records].map(([name, records]) => [name, [...records.values()]])),
      subscriptions: [...this.subscriptions.values()],
    }));
  }

  private collection(name: CollectionName): Map<string, StoredRecord> {
    const records = this.records.get(name) ?? new Map<string, StoredRecord>();
    this.records.set(name, records);
    return records;
  }

  private changed(change: RecordChange, silent = false): void {
    this.save();
    if (!silent) this.onChange(change);
  }

  private checkIfMatch(record: StoredRecord, ifMatch: string | null): void {
    if (ifMatch === null) return;
    if (!ifMatchAccepts(ifMatch, record.version, record.id)) {
      throw new SandboxError(412, 'Request_EntityChanged', 'Another user has already changed the record.');
    }
  }

  private nextNumber(collection: CollectionName): string {
    const prefix = NUMBER_PREFIX[collection];
    let next = this.numbers.get(collection) ?? 0;
    let number: string;
    do {
      next += 10;
      number = `${prefix}${String(next).padStart(5, '0')}`;
    } while (this.list(collection).some((record) => record.number === number));
    this.numbers.set(collection, next);
    return number;
  }

  /**
   * Refuses properties the entity does not have, values of the wrong type, GUIDs that are not
   * GUIDs, option values outside the option's list and codes that are too long, as BC does; codes
   * come back upper-cased.
   */
  private checkProperties(collection: CollectionName, properties: Record<string, unknown>): Record<string, unknown> {
    const defaults = DEFAULTS[collection];
    const checked: Record<string, unknown> = {};
    for (const [property, value] of Object.entries(properties)) {
      if (!(property in defaults)) {
        throw badRequest(
          `The property '${property}' does not exist on type 'Microsoft.NAV.${singular(collection)}'. Make sure to only use property names that are defined by the type.`,
        );
      }
      if (typeof value !== typeof defaults[property]) {
        throw badRequest(`Cannot convert the literal '${String(value)}' to the expected type of '${property}'.`);
      }
      if (defaults[property] === EMPTY_GUID && !GUID.test(String(value))) {
        throw badRequest(`Cannot convert the literal '${String(value)}' to the expected type 'Edm.Guid'.`);
      }
      const options = OPTIONS[collection]?.[property];
      if (options !== undefined && !options.includes(String(value))) {
        throw badRequest(`The value '${String(value)}' is not valid for '${property}'.`);
      }
      const length = CODE_LENGTHS[property];
      if (length !== undefined && typeof value === 'string') {
        if (value.length > length) {
          throw badRequest(
            `The length of the string is ${value.length}, but it must be less than or equal to ${length} characters. Value: ${value}`,
          );
        }
        checked[property] = value.toUpperCase();
        continue;
      }
      checked[property] = value;
    }
    return checked;
  }

  /** Fills the properties BC derives from others (document party names, contact company). */
  private derive(collection: CollectionName, record: StoredRecord): void {
    if (collection === 'contacts') {
      if (record.type === 'Company') {
        record.companyNumber = record.number;
        record.companyName = record.displayName;
      } else if (typeof record.companyNumber === 'string' && record.companyNumber !== '') {
        const company = this.list('contacts').find(
          (contact) => contact.number === record.companyNumber && contact.type === 'Company',
        );
        if (company === undefined) throw badRequest(`The contact company '${record.companyNumber}' does not exist.`);
        record.companyName = company.displayName;
      }
      record.searchName = String(record.displayName).toUpperCase();
    }
    const party =
      collection === 'purchaseOrders'
        ? ('vendor' as const)
        : collection === 'salesQuotes' || collection === 'salesOrders'
          ? ('customer' as const)
          : undefined;
    if (party !== undefined) {
      // Like BC: the party is named by id or, failing that, by number; one of them is required.
      const id = record[`${party}Id`];
      const number = record[`${party}Number`];
      const source = party === 'vendor' ? 'vendors' : 'customers';
      const byId = typeof id === 'string' && id !== '';
      if (!byId && (typeof number !== 'string' || number === '')) {
        throw badRequest(`A "${party}Number" or a "${party}Id" must be provided.`);
      }
      const owner = byId
        ? this.find(source, id)
        : this.list(source).find((candidate) => candidate.number.toLowerCase() === String(number).toLowerCase());
      if (owner === undefined)
        throw badRequest(`The ${party} with ${byId ? `id '${id}'` : `number '${String(number)}'`} does not exist.`);
      record[`${party}Id`] = owner.id;
      record[`${party}Number`] = owner.number;
      record[`${party}Name`] = owner.displayName;
      const dateProperty = collection === 'salesQuotes' ? 'documentDate' : 'orderDate';
      if (record[dateProperty] === '') record[dateProperty] = record.lastModifiedDateTime.slice(0, 10);
    }
  }
}

/** Drops what a client may send back but never writes: OData annotations and the timestamp. */
function stripReadOnly(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(body).filter(([key]) => !key.startsWith('@odata.') && key !== 'lastModifiedDateTime'),
  );
}

function singular(collection: CollectionName): string {
  return collection.replace(/s$/, '');
}
