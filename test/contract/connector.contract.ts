/**
 * The contract every connector must pass, run against a real system or its sandbox. It talks to
 * the connector only through the Connector interface; the subject supplies what the interface
 * cannot do: change and create records out of band, the way a user would in the system's own UI.
 *
 * The rules, in the order the suite checks them:
 * - `get` exists; an optional method is either a function or absent (the engine asks for a method
 *   to know whether the connector can do it); `webhook` exists exactly when the subject configures
 *   webhooks.
 * - `entities` contains the tested entity and `fields[entity]` lists the tested field.
 * - `get` of an existing record returns the canonical shape: the asked entity and id, `modifiedAt`
 *   as ISO 8601 with a zone, only listed fields, values normalised (null or trimmed non-empty
 *   text, never ''). `get` of an unknown id returns null.
 * - `listChanged(entity, null)` includes the record, and every page carries a string cursor.
 *   Polling again from the last cursor must not return a record that has not changed since (the
 *   cursor has moved past it); a record changed after that cursor must be returned, with the new
 *   value, and a poll from the cursor after that must not return it again.
 * - `update` returns the record with the new value and a `modifiedAt` not earlier than before; a
 *   later `get` reads the same value. Where records carry a `version`, an update with a stale
 *   `ifMatch` raises PreconditionFailedError and leaves the value alone. An update of an unknown
 *   id raises NotFoundError.
 * - `batchGet` (when present) returns the requested records and leaves out unknown ids.
 * - `batchUpdate` (when present) returns one result per item, in order: the known record ok with
 *   the new value, the unknown id not ok with a NotFoundError.
 * - `create` (when present) returns the canonical record with the written value. Only where the
 *   subject says the connector documents idempotent create: a second create with the same
 *   idempotencyKey (and options) returns the same record instead of a new one.
 * - `createDocument` exists exactly when `documents` lists a type. For each listed type, a document
 *   started for an account of the type's kind (`DOCUMENT_ACCOUNT_KIND`, supplied by the subject's
 *   `documentAccount`) comes back with a non-empty id, that type and that accountId; the same
 *   idempotencyKey again returns the same id, another key starts another document. A type that is
 *   not listed is refused.
 * - `search` (when present; the subject then supplies `namedRecord`) finds a record by its whole
 *   name and by its words in another order and case, returns canonical records of the entity, at
 *   most the limit, nothing for a text no record holds, and refuses an empty text before any call.
 * - The webhook adapter (when present) rejects an unsigned request with 401 and a malformed
 *   request with 400 or 401.
 */
import type { Entity, FieldValue, SyncRecord } from '../../src/core/model';
import { NotFoundError, PreconditionFailedError } from '../../connectors/kit/errors';
import {
  DOCUMENT_ACCOUNT_KIND,
  DOCUMENT_TYPES,
  type ChangedPage,
  type Connector,
  type InboundRequest,
} from '../../connectors/kit/types';

/** What a connector's contract run needs besides the connector itself. */
export interface ContractSubject {
  connector: Connector;
  /** The entity under test, e.g. 'contact' for HubSpot companies, 'customer' for Business Central. */
  entity: Entity;
  /** A canonical field the connector lists for `entity` and can write. */
  field: string;
  /** A well-formed id of `entity` that the system does not have. */
  missingId: string;
  /** Creates a record out of band with `field` set to `value`; returns its canonical id. */
  createRecord(value: string): Promise<string>;
  /** Changes `field` of a record out of band (as a user would) to `value`. */
  changeRecord(id: string, value: string): Promise<void>;
  /**
   * Set only where the connector documents idempotent create: the create options (besides the
   * key) under which a repeated create with the same idempotencyKey returns the first record.
   */
  idempotentCreate?: (idempotencyKey: string) => { extra?: Record<string, unknown> };
  /**
   * Where the connector lists `documents`: creates a customer or vendor out of band (as a user
   * would) and returns its id, for documents to be started for.
   */
  documentAccount?: (kind: 'customer' | 'vendor') => Promise<string>;
  /** Where the connector can `search`: creates a record out of band with this name; returns its canonical id. */
  namedRecord?: (name: string) => Promise<string>;
  /** Where webhooks are configured: the URL requests arrive on and a well-formed but unsigned body. */
  webhook?: { url: string; unsignedBody: string };
  /** Stops the sandbox and releases the connector. */
  cleanup(): Promise<void>;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const OPTIONAL_METHODS = [
  'listChanged',
  'batchGet',
  'search',
  'create',
  'update',
  'batchUpdate',
  'ensureSubscriptions',
  'createDocument',
  'checkHealth',
  'close',
] as const satisfies readonly (keyof Connector)[];

/** Registers the connector contract suite for one connector. */
export function describeConnectorContract(name: string, makeSubject: () => Promise<ContractSubject>): void {
  describe(`connector contract: ${name}`, () => {
    let subject: ContractSubject;
    let connector: Connector;
    /** Set once the subject exists: a failed setup has nothing to clean up. */
    let cleanup: (() => Promise<void>) | undefined;
    let counter = 0;
    /** A value no earlier call produced, so every write is a real change. */
    const freshValue = () => `contract ${name} ${Date.now()} ${++counter}`;

    beforeAll(async () => {
      subject = await makeSubject();
      connector = subject.connector;
      cleanup = () => subject.cleanup();
    });
    afterAll(async () => {
      await cleanup?.();
    });

    const fieldOf = (record: SyncRecord): FieldValue | undefined =>
      (record.fields as Record<string, FieldValue | undefined>)[subject.field];

    function expectCanonical(record: SyncRecord, id: string): void {
      expect(record.entity).toBe(subject.entity);
      expect(record.id).toBe(id);
      expect(record.modifiedAt).toMatch(ISO_8601);
      expect(Number.isNaN(Date.parse(record.modifiedAt))).toBe(false);
      const listed = new Set(connector.fields[subject.entity] ?? []);
      for (const [field, value] of Object.entries(record.fields)) {
        expect({ field, listed: listed.has(field) }).toEqual({ field, listed: true });
        if (value !== null) expect({ field, value }).toEqual({ field, value: expect.stringMatching(/^\S(.*\S)?$/s) });
      }
    }

    async function poll(cursor: string | null): Promise<{ records: SyncRecord[]; cursor: string | null }> {
      const pages: ChangedPage[] = [];
      for await (const page of connector.listChanged!(subject.entity, cursor)) pages.push(page);
      for (const page of pages) expect(typeof page.cursor).toBe('string');
      return { records: pages.flatMap((page) => page.records), cursor: pages.at(-1)?.cursor ?? cursor };
    }

    function inbound(body: string, headers: Record<string, string> = {}): InboundRequest {
      return {
        method: 'POST',
        url: subject.webhook!.url,
        headers: { 'content-type': 'application/json', ...headers },
        rawBody: Buffer.from(body, 'utf8'),
      };
    }

    test('offers get, each optional method as a function or not at all, and webhook when configured', () => {
      expect(typeof connector.get).toBe('function');
      for (const method of OPTIONAL_METHODS) {
        if (method in connector)
          expect({ method, type: typeof connector[method] }).toEqual({ method, type: 'function' });
      }
      expect({ webhook: connector.webhook !== undefined }).toEqual({ webhook: subject.webhook !== undefined });
    });

    test('serves the entity and lists the field under test', () => {
      expect(connector.entities).toContain(subject.entity);
      expect(connector.fields[subject.entity]).toContain(subject.field);
    });

    test('get returns an existing record in canonical shape, and null for an unknown id', async () => {
      const value = freshValue();
      const id = await subject.createRecord(value);
      const record = await connector.get(subject.entity, id);
      expect(record).not.toBeNull();
      expectCanonical(record!, id);
      expect(fieldOf(record!)).toBe(value);
      expect(await connector.get(subject.entity, subject.missingId)).toBeNull();
    });

    test('listChanged returns a record once, then again only after it changed', async () => {
      if (!connector.listChanged) return;
      const id = await subject.createRecord(freshValue());

      const first = await poll(null);
      const listed = first.records.find((record) => record.id === id);
      expect(listed).toBeDefined();
      expectCanonical(listed!, id);

      // Nothing changed: the cursor has moved past the record.
      const quiet = await poll(first.cursor);
      expect(quiet.records.map((record) => record.id)).not.toContain(id);

      const value = freshValue();
      await subject.changeRecord(id, value);
      const changed = await poll(quiet.cursor);
      const again = changed.records.filter((record) => record.id === id);
      expect(again).toHaveLength(1);
      expect(fieldOf(again[0]!)).toBe(value);

      const after = await poll(changed.cursor);
      expect(after.records.map((record) => record.id)).not.toContain(id);
    });

    test('update writes the value and returns the record as stored', async () => {
      if (!connector.update) return;
      const id = await subject.createRecord(freshValue());
      const before = (await connector.get(subject.entity, id))!;
      const value = freshValue();
      const updated = await connector.update!(subject.entity, { id, fields: { [subject.field]: value } });
      expectCanonical(updated, id);
      expect(fieldOf(updated)).toBe(value);
      expect(Date.parse(updated.modifiedAt)).toBeGreaterThanOrEqual(Date.parse(before.modifiedAt));
      expect(fieldOf((await connector.get(subject.entity, id))!)).toBe(value);
    });

    test('update with a stale ifMatch is refused where records carry versions', async () => {
      if (!connector.update) return;
      const id = await subject.createRecord(freshValue());
      const read = (await connector.get(subject.entity, id))!;
      if (read.version === undefined) return;
      const theirs = freshValue();
      await subject.changeRecord(id, theirs);
      await expect(
        connector.update!(subject.entity, { id, fields: { [subject.field]: freshValue() }, ifMatch: read.version }),
      ).rejects.toBeInstanceOf(PreconditionFailedError);
      expect(fieldOf((await connector.get(subject.entity, id))!)).toBe(theirs);
    });

    test('update of an unknown id raises NotFoundError', async () => {
      if (!connector.update) return;
      await expect(
        connector.update!(subject.entity, { id: subject.missingId, fields: { [subject.field]: freshValue() } }),
      ).rejects.toBeInstanceOf(NotFoundError);
    });

    test('batchGet returns the requested records and leaves out unknown ids', async () => {
      if (!connector.batchGet) return;
      const values = [freshValue(), freshValue()];
      const ids = await Promise.all(values.map((value) => subject.createRecord(value)));
      const records = await connector.batchGet!(subject.entity, [ids[0]!, subject.missingId, ids[1]!]);
      expect(records.map((record) => record.id).sort()).toEqual([...ids].sort());
      for (const record of records) {
        expectCanonical(record, record.id);
        expect(fieldOf(record)).toBe(values[ids.indexOf(record.id)]);
      }
    });

    test('search finds a record by its name and by its words in any order and case, at most the limit', async () => {
      if (!connector.search) return;
      expect({ namedRecord: subject.namedRecord !== undefined }).toEqual({ namedRecord: true });
      // Words no other record of the run holds: a stamp, then a rare word.
      const stamp = `Zq${Date.now().toString(36)}${++counter}`;
      const name = `${stamp} Quillfeather Trading`;
      const id = await subject.namedRecord!(name);
      const twin = await subject.namedRecord!(`${stamp} Quillfeather Metals`);
      const ids = async (text: string, limit = 10) => {
        const found = await connector.search!(subject.entity, text, limit);
        for (const record of found) expectCanonical(record, record.id);
        expect(found.length).toBeLessThanOrEqual(limit);
        return found.map((record) => record.id);
      };
      expect(await ids(name)).toEqual([id]);
      expect(await ids(`trading ${stamp.toLowerCase()}`)).toEqual([id]);
      expect((await ids(stamp)).sort()).toEqual([id, twin].sort());
      expect(await ids(stamp, 1)).toHaveLength(1);
      expect(await ids(`${stamp} Nonexistent`)).toEqual([]);
      await expect(connector.search!(subject.entity, '  ', 10)).rejects.toThrow(/search needs some text/);
    });

    test('batchUpdate returns one result per item, in order', async () => {
      if (!connector.batchUpdate) return;
      const id = await subject.createRecord(freshValue());
      const value = freshValue();
      const results = await connector.batchUpdate!(subject.entity, [
        { id, fields: { [subject.field]: value } },
        { id: subject.missingId, fields: { [subject.field]: freshValue() } },
      ]);
      expect(results.map((result) => [result.id, result.ok])).toEqual([
        [id, true],
        [subject.missingId, false],
      ]);
      const [written, missing] = results;
      if (written?.ok) {
        expectCanonical(written.record, id);
        expect(fieldOf(written.record)).toBe(value);
      }
      if (missing && !missing.ok) expect(missing.error).toBeInstanceOf(NotFoundError);
      expect(fieldOf((await connector.get(subject.entity, id))!)).toBe(value);
    });

    test('create returns the canonical record, once per idempotencyKey where documented', async () => {
      if (!connector.create) return;
      const key = `contract-${Date.now()}-${++counter}`;
      const value = freshValue();
      const options = { idempotencyKey: key, ...(subject.idempotentCreate?.(key) ?? {}) };
      const created = await connector.create!(subject.entity, { [subject.field]: value }, options);
      expectCanonical(created, created.id);
      expect(fieldOf(created)).toBe(value);
      expect(fieldOf((await connector.get(subject.entity, created.id))!)).toBe(value);
      if (!subject.idempotentCreate) return;
      const repeated = await connector.create!(subject.entity, { [subject.field]: value }, options);
      expect(repeated.id).toBe(created.id);
    });

    test('createDocument starts each listed document type once per idempotencyKey, and refuses the others', async () => {
      const documents = connector.documents ?? [];
      expect({ createDocument: typeof connector.createDocument === 'function' }).toEqual({
        createDocument: documents.length > 0,
      });
      if (documents.length === 0) return;
      expect(subject.documentAccount).toBeDefined();
      for (const type of documents) {
        const accountId = await subject.documentAccount!(DOCUMENT_ACCOUNT_KIND[type]);
        const key = `contract-document-${type}-${Date.now()}-${++counter}`;
        const first = await connector.createDocument!(type, { accountId, idempotencyKey: key });
        expect({ type: first.type, hasId: first.id !== '', accountId: first.accountId.toLowerCase() }).toEqual({
          type,
          hasId: true,
          accountId: accountId.toLowerCase(),
        });
        if (first.date !== null) expect(first.date).toMatch(/^\d{4}-\d{2}-\d{2}/);
        const repeated = await connector.createDocument!(type, { accountId, idempotencyKey: key });
        expect({ type, id: repeated.id }).toEqual({ type, id: first.id });
        const other = await connector.createDocument!(type, { accountId, idempotencyKey: `${key}-other` });
        expect({ type, differs: other.id !== first.id }).toEqual({ type, differs: true });
      }
      for (const type of DOCUMENT_TYPES.filter((candidate) => !documents.includes(candidate))) {
        await expect(
          connector.createDocument!(type, { accountId: subject.missingId, idempotencyKey: `contract-refused-${type}` }),
        ).rejects.toThrow();
      }
    });

    test('the webhook adapter rejects unsigned and malformed requests', () => {
      if (!connector.webhook) return;
      expect(subject.webhook).toBeDefined();
      const adapter = connector.webhook!;
      const unsigned = adapter.handle(inbound(subject.webhook!.unsignedBody), new Date());
      expect(unsigned).toMatchObject({ kind: 'rejected', status: 401 });
      const malformed = adapter.handle(inbound('{"value": [ this is not json'), new Date());
      expect(malformed).toEqual({ kind: 'rejected', status: expect.any(Number), reason: expect.any(String) });
      if (malformed.kind === 'rejected') expect([400, 401]).toContain(malformed.status);
    });
  });
}
