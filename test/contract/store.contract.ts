/**
 * The behaviour every `Store` backend must show. A backend's test file calls
 * `describeStoreContract` with a factory; the suite opens one store per backend, empties the
 * tables between tests, and closes it at the end.
 */
import type { Account, BusinessRelation } from '../../src/core/model';
import { InvalidAuditQueryError } from '../../src/app/ports/store';
import type { SqlExecutor } from '../../src/store/sql-executor';
import {
  RelationConflictError,
  type NewAuditEntry,
  type NewRelation,
  type ShadowEntry,
  type Store,
} from '../../src/app/ports/store';

/** A store under test, the SQL it runs on (for checks the Store API cannot express), teardown. */
export interface StoreHarness {
  store: Store;
  sql: SqlExecutor;
  cleanup(): Promise<void>;
}

const TABLES =
  'business_relation, relation_shadow, connector_cursor, processed_event, audit_log, interaction, relation_operation, match_rejection, config_version, rotated_secret, record_observation';

const [T1, T2, T3] = ['2026-03-01T10:00:00.000Z', '2026-03-01T10:05:00.000Z', '2026-03-01T10:09:00.000Z'];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function newRelation(overrides: Partial<NewRelation> = {}): NewRelation {
  return {
    contactId: 'C-1',
    accountKind: 'customer',
    accountId: 'CUST-1',
    relationCode: 'CUST',
    origin: 'linked',
    ...overrides,
  };
}

function shadowEntry(relationId: string, overrides: Partial<ShadowEntry> = {}): ShadowEntry {
  return {
    relationId,
    side: 'contact',
    field: 'name',
    value: 'Acme',
    sourceModifiedAt: '2024-05-01T10:00:00.000Z',
    syncedAt: '2024-05-01T10:00:05.000Z',
    ...overrides,
  };
}

/** Registers the store contract tests for one backend. */
export function describeStoreContract(name: string, makeStore: () => Promise<StoreHarness>): void {
  describe(`Store contract: ${name}`, () => {
    let harness: StoreHarness | undefined;
    const store = (): Store => {
      if (harness === undefined) throw new Error('store not opened');
      return harness.store;
    };
    const sql = (): SqlExecutor => {
      if (harness === undefined) throw new Error('store not opened');
      return harness.sql;
    };

    beforeAll(async () => {
      harness = await makeStore();
    });

    afterAll(async () => {
      await harness?.cleanup();
    });

    beforeEach(async () => {
      await sql().query(`TRUNCATE ${TABLES} RESTART IDENTITY`);
    });

    describe('business relations', () => {
      it('creates a relation with a generated id and creation time', async () => {
        const before = Date.now();
        const created = await store().createRelation(newRelation());

        expect(created).toEqual({
          id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          contactId: 'C-1',
          accountKind: 'customer',
          accountId: 'CUST-1',
          relationCode: 'CUST',
          origin: 'linked',
          createdAt: expect.stringMatching(ISO_INSTANT),
        });
        expect(Date.parse(created.createdAt)).toBeGreaterThanOrEqual(before - 1000);
        await expect(store().getRelation(created.id)).resolves.toEqual(created);
        await expect(store().getRelation('no-such-relation')).resolves.toBeNull();
      });

      it('finds relations by contact and by account', async () => {
        const customer = await store().createRelation(newRelation());
        const vendor = await store().createRelation(
          newRelation({ accountKind: 'vendor', accountId: 'V-1', relationCode: 'VEND' }),
        );
        await store().createRelation(newRelation({ contactId: 'C-2', accountId: 'CUST-2' }));

        const ofContact = await store().findRelationsByContact('C-1');
        expect(ofContact.map((r) => r.id).sort()).toEqual([customer.id, vendor.id].sort());
        await expect(store().findRelationsByContact('C-9')).resolves.toEqual([]);

        await expect(store().findRelationByAccount('vendor', 'V-1')).resolves.toEqual(vendor);
        // The same id under another kind is a different account.
        await expect(store().findRelationByAccount('customer', 'V-1')).resolves.toBeNull();
      });

      it('lists relations, optionally by kind, with limit and offset', async () => {
        const created: BusinessRelation[] = [];
        for (let i = 1; i <= 3; i += 1) {
          created.push(await store().createRelation(newRelation({ contactId: `C-${i}`, accountId: `CUST-${i}` })));
        }
        const bank = await store().createRelation(
          newRelation({ accountKind: 'bankAccount', accountId: 'BANK-1', origin: 'automatic' }),
        );

        const all = await store().listRelations();
        expect(all.map((r) => r.id).sort()).toEqual([...created, bank].map((r) => r.id).sort());

        const customers = await store().listRelations({ kind: 'customer' });
        expect(customers.map((r) => r.id).sort()).toEqual(created.map((r) => r.id).sort());

        const page1 = await store().listRelations({ kind: 'customer', limit: 2 });
        const page2 = await store().listRelations({ kind: 'customer', limit: 2, offset: 2 });
        expect(page1).toHaveLength(2);
        expect(page2).toHaveLength(1);
        expect([...page1, ...page2].map((r) => r.id).sort()).toEqual(created.map((r) => r.id).sort());
      });

      it('deletes a relation once', async () => {
        const created = await store().createRelation(newRelation());

        await expect(store().deleteRelation(created.id)).resolves.toBe(true);
        await expect(store().deleteRelation(created.id)).resolves.toBe(false);
        await expect(store().getRelation(created.id)).resolves.toBeNull();
        // The pair is free again.
        await expect(store().createRelation(newRelation())).resolves.toMatchObject({
          contactId: 'C-1',
        });
      });

      it('replaces a relation in one transaction: the old one and its shadow go, the new one and the audit entry come', async () => {
        const old = await store().createRelation(newRelation());
        await store().recordSync([shadowEntry(old.id)], []);
        const moved = await store().replaceRelation(old.id, newRelation({ accountId: 'CUST-9' }), {
          kind: 'link',
          relationId: old.id,
          contactId: 'C-1',
          details: { reason: 'merged', previousRelationId: old.id },
        });
        expect(moved).toMatchObject({ contactId: 'C-1', accountId: 'CUST-9', origin: 'linked' });
        expect(moved?.id).not.toBe(old.id);
        await expect(store().getRelation(old.id)).resolves.toBeNull();
        await expect(store().getShadow(old.id)).resolves.toEqual([]);
        await expect(store().findRelationsByContact('C-1')).resolves.toEqual([moved]);
        const [entry] = await store().queryAudit({ contactId: 'C-1' });
        expect(entry).toMatchObject({ kind: 'link', relationId: moved?.id });
        // Without a replacement the relation is removed, with its audit entry.
        await expect(
          store().replaceRelation(moved!.id, null, { kind: 'unlink', relationId: moved!.id, contactId: 'C-1' }),
        ).resolves.toBeNull();
        await expect(store().findRelationsByContact('C-1')).resolves.toEqual([]);
        expect((await store().queryAudit({ contactId: 'C-1' })).map((e) => e.kind).sort()).toEqual(['link', 'unlink']);
      });

      it('keeps the old relation and writes no audit entry when the replacement clashes', async () => {
        const old = await store().createRelation(newRelation());
        await store().createRelation(newRelation({ contactId: 'C-2', accountId: 'CUST-9' }));
        const attempt = store().replaceRelation(old.id, newRelation({ accountId: 'CUST-9' }), {
          kind: 'link',
          relationId: old.id,
          contactId: 'C-1',
        });
        await expect(attempt).rejects.toThrow('customer CUST-9 is already linked to contact C-2');
        await expect(store().getRelation(old.id)).resolves.toEqual(old);
        await expect(store().queryAudit({ contactId: 'C-1' })).resolves.toEqual([]);
      });

      it('rejects a second relation of one kind for a contact, naming the rule', async () => {
        await store().createRelation(newRelation());

        const attempt = store().createRelation(newRelation({ accountId: 'CUST-2' }));

        await expect(attempt).rejects.toBeInstanceOf(RelationConflictError);
        await expect(attempt).rejects.toMatchObject({
          code: 'RELATION_CONFLICT',
          message: 'contact C-1 already has a customer relation',
        });
        // Another kind for the same contact is fine.
        await expect(
          store().createRelation(newRelation({ accountKind: 'vendor', accountId: 'CUST-2' })),
        ).resolves.toMatchObject({ accountKind: 'vendor' });
      });

      it('rejects linking an account to a second contact, naming the first', async () => {
        await store().createRelation(newRelation({ contactId: 'C-1', accountId: 'CUST-7' }));

        const attempt = store().createRelation(newRelation({ contactId: 'C-2', accountId: 'CUST-7' }));

        await expect(attempt).rejects.toBeInstanceOf(RelationConflictError);
        await expect(attempt).rejects.toThrow('customer CUST-7 is already linked to contact C-1');
      });

      it('creates relations asked for at once, failing only the one that clashes', async () => {
        const [first, clash, other] = await Promise.allSettled([
          store().createRelation(newRelation({ contactId: 'C-1', accountId: 'CUST-1' })),
          store().createRelation(newRelation({ contactId: 'C-2', accountId: 'CUST-1' })),
          store().createRelation(newRelation({ contactId: 'C-3', accountId: 'CUST-3' })),
        ]);
        expect(first).toMatchObject({ status: 'fulfilled', value: { contactId: 'C-1', accountId: 'CUST-1' } });
        expect(clash).toMatchObject({ status: 'rejected', reason: expect.any(RelationConflictError) });
        expect(other).toMatchObject({ status: 'fulfilled', value: { contactId: 'C-3', accountId: 'CUST-3' } });
        const ids = [first, other].map((result) => (result.status === 'fulfilled' ? result.value.id : ''));
        expect(new Set(ids).size).toBe(2);
        await expect(store().findRelationsByContact('C-2')).resolves.toEqual([]);
      });

      it('words bank accounts for people in conflict messages', async () => {
        await store().createRelation(newRelation({ accountKind: 'bankAccount', accountId: 'B-1' }));

        await expect(
          store().createRelation(newRelation({ accountKind: 'bankAccount', accountId: 'B-2' })),
        ).rejects.toThrow('contact C-1 already has a bank account relation');
        await expect(
          store().createRelation(newRelation({ contactId: 'C-2', accountKind: 'bankAccount', accountId: 'B-1' })),
        ).rejects.toThrow('bank account B-1 is already linked to contact C-1');
      });
    });

    describe('shadow', () => {
      it('upserts shadow entries and reads them per relation', async () => {
        const relation = await store().createRelation(newRelation());
        const name = shadowEntry(relation.id);
        const city = shadowEntry(relation.id, { side: 'account', field: 'city', value: null });

        await store().recordSync([name, city], []);
        await expect(store().getShadow(relation.id)).resolves.toEqual(expect.arrayContaining([name, city]));

        const renamed = shadowEntry(relation.id, {
          value: 'Acme Ltd',
          sourceModifiedAt: '2024-05-02T08:00:00.000Z',
          syncedAt: '2024-05-02T08:00:01.000Z',
        });
        await store().recordSync([renamed], []);

        const shadow = await store().getShadow(relation.id);
        expect(shadow).toHaveLength(2);
        expect(shadow).toEqual(expect.arrayContaining([renamed, city]));
      });

      it('keeps the last of several entries for one field in one call', async () => {
        const relation = await store().createRelation(newRelation());

        await store().recordSync(
          [shadowEntry(relation.id, { value: 'first' }), shadowEntry(relation.id, { value: 'last' })],
          [],
        );

        await expect(store().getShadow(relation.id)).resolves.toEqual([shadowEntry(relation.id, { value: 'last' })]);
      });

      it('keeps values that look like array syntax or SQL as the text they are', async () => {
        const relation = await store().createRelation(newRelation());
        const awkward = ['NULL', 'a "quoted", {braced} value', 'back\\slash', '', '  spaced  ', 'é ☎ 中文'];
        const entries = awkward.map((value, index) => shadowEntry(relation.id, { field: `field${index}`, value }));
        const missing = shadowEntry(relation.id, { field: 'missing', value: null });

        await store().recordSync([...entries, missing], []);

        const shadow = await store().getShadow(relation.id);
        expect(shadow).toHaveLength(entries.length + 1);
        expect(shadow).toEqual(expect.arrayContaining([...entries, missing]));
      });

      it('reads the shadows of several relations keyed by relation id', async () => {
        const first = await store().createRelation(newRelation());
        const second = await store().createRelation(newRelation({ contactId: 'C-2', accountId: 'CUST-2' }));
        const bare = await store().createRelation(newRelation({ contactId: 'C-3', accountId: 'CUST-3' }));
        await store().recordSync(
          [
            shadowEntry(first.id),
            shadowEntry(first.id, { side: 'account' }),
            shadowEntry(second.id, { field: 'email', value: 'a@example.com' }),
          ],
          [],
        );

        const shadows = await store().getShadows([first.id, second.id, bare.id]);

        expect(shadows.get(first.id)).toHaveLength(2);
        expect(shadows.get(second.id)).toEqual([shadowEntry(second.id, { field: 'email', value: 'a@example.com' })]);
        expect(shadows.has(bare.id)).toBe(false);
        await expect(store().getShadows([])).resolves.toEqual(new Map());
      });

      it('drops the shadow with its relation but keeps the audit rows', async () => {
        const relation = await store().createRelation(newRelation());
        await store().recordSync(
          [shadowEntry(relation.id)],
          [{ kind: 'link', relationId: relation.id, contactId: 'C-1' }],
        );

        await store().deleteRelation(relation.id);

        await expect(store().getShadow(relation.id)).resolves.toEqual([]);
        const audit = await store().queryAudit({ relationId: relation.id });
        expect(audit.map((entry) => entry.kind)).toEqual(['link']);
      });

      it('rolls the shadow back when an audit entry of the sync cannot be written', async () => {
        const relation = await store().createRelation(newRelation());
        const original = shadowEntry(relation.id, { value: 'before' });
        await store().recordSync([original], []);
        // Deliberately outside the type: the database's CHECK constraint must refuse it.
        const invalid = { kind: 'rewrite' } as unknown as NewAuditEntry;

        await expect(
          store().recordSync(
            [shadowEntry(relation.id, { value: 'after' }), shadowEntry(relation.id, { field: 'city' })],
            [{ kind: 'fieldChange', relationId: relation.id, field: 'name' }, invalid],
          ),
        ).rejects.toThrow();

        await expect(store().getShadow(relation.id)).resolves.toEqual([original]);
        await expect(store().queryAudit({})).resolves.toEqual([]);
      });
    });

    describe('connector cursors', () => {
      it('stores one cursor per connector and entity', async () => {
        await expect(store().getCursor('crm', 'contact')).resolves.toBeNull();

        await store().setCursor('crm', 'contact', '2024-05-01T00:00:00Z');
        await store().setCursor('accounting', 'customer', 'page-7');
        await store().setCursor('crm', 'contact', '2024-05-02T00:00:00Z');

        await expect(store().getCursor('crm', 'contact')).resolves.toBe('2024-05-02T00:00:00Z');
        await expect(store().getCursor('accounting', 'customer')).resolves.toBe('page-7');
        await expect(store().getCursor('accounting', 'vendor')).resolves.toBeNull();
      });
    });

    describe('processed events', () => {
      it('reports an event id as new once per source', async () => {
        await expect(store().markEventProcessed('crm', 'evt-1')).resolves.toBe(true);
        await expect(store().markEventProcessed('crm', 'evt-1')).resolves.toBe(false);
        await expect(store().markEventProcessed('accounting', 'evt-1')).resolves.toBe(true);
      });

      it('forgets one event id so a redelivery counts as new', async () => {
        await store().markEventProcessed('crm', 'evt-1');
        await store().markEventProcessed('crm', 'evt-2');

        await store().forgetProcessedEvent('crm', 'evt-1');
        await store().forgetProcessedEvent('crm', 'never-seen');

        await expect(store().markEventProcessed('crm', 'evt-1')).resolves.toBe(true);
        await expect(store().markEventProcessed('crm', 'evt-2')).resolves.toBe(false);
      });

      it('prunes event ids seen before a given time', async () => {
        await store().markEventProcessed('crm', 'evt-1');
        await store().markEventProcessed('crm', 'evt-2');

        await expect(store().pruneProcessedEvents('2000-01-01T00:00:00.000Z')).resolves.toBe(0);
        const later = new Date(Date.now() + 60_000).toISOString();
        await expect(store().pruneProcessedEvents(later)).resolves.toBe(2);
        await expect(store().markEventProcessed('crm', 'evt-1')).resolves.toBe(true);
      });
    });

    describe('audit log', () => {
      const fieldChange: NewAuditEntry = {
        kind: 'fieldChange',
        relationId: 'R-1',
        contactId: 'C-1',
        accountKind: 'customer',
        accountId: 'CUST-1',
        field: 'city',
        oldValue: 'Oslo',
        newValue: 'Bergen',
        direction: 'toAccounting',
        sourceSystem: 'crm',
        sourceModifiedAt: '2024-05-01T10:00:00.000Z',
        jobId: 'job-42',
        details: { winner: 'crm', reason: 'newer', sides: { crm: 'Bergen', accounting: 'Oslo' } },
      };

      it('appends entries and returns every field as written', async () => {
        await store().appendAudit([fieldChange, { kind: 'create', contactId: 'C-2' }]);

        const entries = await store().queryAudit({});

        expect(entries).toEqual([
          { ...fieldChange, id: expect.any(String), appliedAt: expect.stringMatching(ISO_INSTANT) },
          {
            kind: 'create',
            relationId: null,
            contactId: 'C-2',
            accountKind: null,
            accountId: null,
            field: null,
            oldValue: null,
            newValue: null,
            direction: null,
            sourceSystem: null,
            sourceModifiedAt: null,
            jobId: null,
            details: null,
            id: expect.any(String),
            appliedAt: expect.stringMatching(ISO_INSTANT),
          },
        ]);
        expect(entries[0]?.id).not.toBe(entries[1]?.id);
      });

      it('filters by contact, account, relation, kind and field', async () => {
        await store().appendAudit([
          fieldChange,
          { ...fieldChange, field: 'name', kind: 'conflict' },
          {
            kind: 'link',
            relationId: 'R-2',
            contactId: 'C-2',
            accountKind: 'vendor',
            accountId: 'CUST-1',
          },
          {
            kind: 'unlink',
            relationId: 'R-3',
            contactId: 'C-3',
            accountKind: 'customer',
            accountId: 'CUST-3',
          },
        ]);
        const kinds = async (query: Parameters<Store['queryAudit']>[0]) =>
          (await store().queryAudit(query)).map((entry) => `${entry.kind}:${entry.field ?? ''}`);

        await expect(kinds({ contactId: 'C-1' })).resolves.toEqual(['fieldChange:city', 'conflict:name']);
        await expect(kinds({ accountKind: 'customer', accountId: 'CUST-1' })).resolves.toEqual([
          'fieldChange:city',
          'conflict:name',
        ]);
        await expect(kinds({ accountKind: 'vendor', accountId: 'CUST-1' })).resolves.toEqual(['link:']);
        await expect(kinds({ relationId: 'R-3' })).resolves.toEqual(['unlink:']);
        await expect(kinds({ kind: 'conflict' })).resolves.toEqual(['conflict:name']);
        await expect(kinds({ field: 'city' })).resolves.toEqual(['fieldChange:city']);
        await expect(kinds({ contactId: 'C-1', field: 'name' })).resolves.toEqual(['conflict:name']);
        await expect(kinds({ contactId: 'nobody' })).resolves.toEqual([]);
      });

      it('filters by time, from inclusive and to exclusive', async () => {
        await store().appendAudit([{ kind: 'create', contactId: 'early' }]);
        await sleep(25);
        await store().appendAudit([{ kind: 'create', contactId: 'late' }]);
        const [early, late] = await store().queryAudit({});
        if (early === undefined || late === undefined) throw new Error('expected two entries');
        expect(Date.parse(late.appliedAt)).toBeGreaterThan(Date.parse(early.appliedAt));

        const fromLate = await store().queryAudit({ from: late.appliedAt });
        expect(fromLate.map((entry) => entry.contactId)).toEqual(['late']);
        const beforeLate = await store().queryAudit({ to: late.appliedAt });
        expect(beforeLate.map((entry) => entry.contactId)).toEqual(['early']);
        const window = await store().queryAudit({ from: early.appliedAt, to: late.appliedAt });
        expect(window.map((entry) => entry.contactId)).toEqual(['early']);
      });

      it('returns entries oldest first and honours the limit', async () => {
        const entries: NewAuditEntry[] = Array.from({ length: 12 }, (_, i) => ({
          kind: 'fieldChange',
          contactId: 'C-1',
          field: `field-${i}`,
        }));
        await store().appendAudit(entries);

        const limited = await store().queryAudit({ contactId: 'C-1', limit: 5 });
        expect(limited.map((entry) => entry.field)).toEqual(['field-0', 'field-1', 'field-2', 'field-3', 'field-4']);
        await expect(store().queryAudit({})).resolves.toHaveLength(12);
        for (const limit of [0, -1, 1.5]) {
          await expect(store().queryAudit({ limit })).rejects.toBeInstanceOf(InvalidAuditQueryError);
        }
      });

      it('caps the default page at 1000 entries', async () => {
        const many: NewAuditEntry[] = Array.from({ length: 1005 }, () => ({ kind: 'create' }));
        await store().appendAudit(many);

        await expect(store().queryAudit({})).resolves.toHaveLength(1000);
        await expect(store().queryAudit({ limit: 50_000 })).resolves.toHaveLength(1005);
      });

      it('refuses to update or delete audit rows, even through raw SQL', async () => {
        await store().appendAudit([fieldChange]);

        await expect(sql().query(`UPDATE audit_log SET new_value = 'forged'`)).rejects.toThrow(/append-only/);
        await expect(sql().query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
        const entries = await store().queryAudit({});
        expect(entries.map((entry) => entry.newValue)).toEqual(['Bergen']);
      });

      it('writes all entries of one append or none', async () => {
        const invalid = { kind: 'fieldChange', direction: 'sideways' } as unknown as NewAuditEntry;

        await expect(store().appendAudit([fieldChange, invalid])).rejects.toThrow();

        await expect(store().queryAudit({})).resolves.toEqual([]);
      });

      it('keeps appends made at once apart: a bad one fails alone, the others land whole', async () => {
        const invalid = { kind: 'fieldChange', direction: 'sideways' } as unknown as NewAuditEntry;
        const results = await Promise.allSettled([
          store().appendAudit([
            { kind: 'create', contactId: 'A-1' },
            { kind: 'create', contactId: 'A-2' },
          ]),
          store().appendAudit([fieldChange, invalid]),
          store().appendAudit([{ kind: 'create', contactId: 'B-1' }]),
        ]);
        expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        const landed = (await store().queryAudit({})).map((entry) => entry.contactId);
        expect([...landed].sort()).toEqual(['A-1', 'A-2', 'B-1']);
        // Calls made at once have no order among them; one call's entries keep theirs.
        expect(landed.indexOf('A-1')).toBeLessThan(landed.indexOf('A-2'));
      });
    });

    describe('transactions', () => {
      it("never runs another caller's statement inside an open transaction", async () => {
        const insertCursor = 'INSERT INTO connector_cursor (connector, entity, cursor) VALUES ($1, $2, $3)';
        const events: string[] = [];
        const rolledBack = sql().transaction(async (tx) => {
          await tx.query(insertCursor, ['a', 'x', '1']);
          events.push('a inserted');
          await sleep(50);
          events.push('a failing');
          throw new Error('abort a');
        });
        // Started while the transaction above is open and waiting.
        const outside = (async () => {
          await sleep(5);
          await store().setCursor('b', 'x', '2');
          events.push('b written');
        })();
        const other = (async () => {
          await sleep(10);
          await sql().transaction(async (tx) => {
            events.push('c started');
            await tx.query(insertCursor, ['c', 'x', '3']);
          });
        })();

        await expect(rolledBack).rejects.toThrow('abort a');
        await Promise.all([outside, other]);

        await expect(store().getCursor('a', 'x')).resolves.toBeNull();
        await expect(store().getCursor('b', 'x')).resolves.toBe('2');
        await expect(store().getCursor('c', 'x')).resolves.toBe('3');
        if (sql().backend === 'pglite') {
          // One session: everything else waited for the first transaction to finish.
          expect(events.slice(0, 2)).toEqual(['a inserted', 'a failing']);
        }
      });
    });

    describe('interactions', () => {
      it("lists a contact's interactions newest first, with their details", async () => {
        const base = { who: 'admin', source: 'external' as const };
        await store().appendInteraction({
          ...base,
          contactId: 'C-1',
          type: 'emailSent',
          description: 'first',
          occurredAt: '2024-05-01T10:00:00.000Z',
        });
        const second = await store().appendInteraction({
          ...base,
          contactId: 'C-1',
          type: 'linked',
          description: 'second',
          occurredAt: '2024-05-02T10:00:00.000Z',
          source: 'tandem',
          relationId: 'R-1',
          details: { accountKind: 'customer' },
        });
        await store().appendInteraction({
          ...base,
          contactId: 'C-2',
          type: 'emailSent',
          description: 'other',
          occurredAt: '2024-05-03T10:00:00.000Z',
        });

        const listed = await store().listInteractions('C-1');

        expect(listed.map((entry) => entry.description)).toEqual(['second', 'first']);
        expect(listed[0]).toEqual(second);
        expect(listed[0]).toMatchObject({ relationId: 'R-1', details: { accountKind: 'customer' }, source: 'tandem' });
        expect(listed[1]?.relationId).toBeNull();
        await expect(store().listInteractions('C-9')).resolves.toEqual([]);
      });

      it('lists interactions of one moment in the order they were made, however many are made at once', async () => {
        // Made together (one statement where the store gathers them), all at the same moment.
        const occurredAt = '2024-06-01T10:00:00.000Z';
        const made = Array.from({ length: 30 }, (_, index) => `event ${index}`);
        await Promise.all(
          made.flatMap((description, index) =>
            ['C-3', 'C-4'].map((contactId) =>
              store().appendInteraction({
                who: 'tandem',
                source: 'tandem',
                contactId,
                type: index % 2 === 0 ? 'linked' : 'unlinked',
                description,
                occurredAt,
              }),
            ),
          ),
        );
        for (const contactId of ['C-3', 'C-4'])
          expect((await store().listInteractions(contactId)).map((entry) => entry.description)).toEqual(
            [...made].reverse(),
          );
      });
    });

    describe('operations', () => {
      it('lets one caller claim a key; the others see it started, then done with its result', async () => {
        const claims = await Promise.all([1, 2, 3].map(() => store().claimOperation('op-1', 'createAccount', 60_000)));

        expect(claims.filter((claim) => claim.claimed)).toHaveLength(1);
        expect(claims.every((claim) => claim.operation.state === 'started')).toBe(true);

        await store().completeOperation('op-1', { accountId: 'A-1' });
        const later = await store().claimOperation('op-1', 'createAccount', 60_000);
        expect(later).toMatchObject({ claimed: false, operation: { state: 'done', result: { accountId: 'A-1' } } });
      });

      it('hands a failed operation, or one whose lease ran out, to the next caller', async () => {
        await store().claimOperation('op-2', 'createAccount', 60_000);
        await store().failOperation('op-2', 'upstream down');
        await expect(store().getOperation('op-2')).resolves.toMatchObject({ state: 'failed', error: 'upstream down' });
        await expect(store().claimOperation('op-2', 'createAccount', 60_000)).resolves.toMatchObject({ claimed: true });

        await store().claimOperation('op-3', 'createAccount', 60_000);
        await sleep(20);
        await expect(store().claimOperation('op-3', 'createAccount', 60_000)).resolves.toMatchObject({
          claimed: false,
        });
        await expect(store().claimOperation('op-3', 'createAccount', 5)).resolves.toMatchObject({ claimed: true });
        await expect(store().getOperation('missing')).resolves.toBeNull();
      });

      it('keeps a key bound to the request it was first claimed for, even when that run failed', async () => {
        await store().claimOperation('op-4', 'createAccount', 60_000, 'digest-A');
        await store().failOperation('op-4', 'upstream down');
        await expect(store().claimOperation('op-4', 'createAccount', 60_000, 'digest-B')).resolves.toMatchObject({
          claimed: false,
          operation: { state: 'failed', request: 'digest-A' },
        });
        await expect(store().claimOperation('op-4', 'createAccount', 60_000, 'digest-A')).resolves.toMatchObject({
          claimed: true,
          operation: { request: 'digest-A' },
        });
        // A key stored without a request is bound by the first claim that names one.
        await store().claimOperation('op-5', 'createAccount', 60_000);
        await store().failOperation('op-5', 'upstream down');
        await store().claimOperation('op-5', 'createAccount', 60_000, 'digest-C');
        await expect(store().getOperation('op-5')).resolves.toMatchObject({ request: 'digest-C' });
      });
    });

    describe('console: audit lookups', () => {
      it('finds one entry by id, and none for an unknown or malformed id', async () => {
        await store().appendAudit([
          { kind: 'link', relationId: 'R-1' },
          { kind: 'conflict', relationId: 'R-1', field: 'phone' },
        ]);
        const [, conflict] = await store().queryAudit({});
        await expect(store().getAuditEntry(conflict?.id ?? '')).resolves.toEqual(conflict);
        await expect(store().getAuditEntry('999999')).resolves.toBeNull();
        await expect(store().getAuditEntry('not-a-number')).resolves.toBeNull();
      });

      it('reads newest first when asked, keeping the newest within the limit', async () => {
        await store().appendAudit([{ kind: 'link', relationId: 'R-1' }]);
        await store().appendAudit([{ kind: 'unlink', relationId: 'R-1' }]);
        await store().appendAudit([{ kind: 'delete', relationId: 'R-1' }]);
        const newest = await store().queryAudit({ relationId: 'R-1', newestFirst: true, limit: 2 });
        expect(newest.map((entry) => entry.kind)).toEqual(['delete', 'unlink']);
      });

      it('finds the entries that override or undo given entries', async () => {
        await store().appendAudit([
          { kind: 'conflict', relationId: 'R-1', field: 'phone' },
          { kind: 'fieldChange', relationId: 'R-1', field: 'phone', details: { overrides: '1', actor: 'ops' } },
          { kind: 'fieldChange', relationId: 'R-1', field: 'phone', details: { undoes: '2', actor: 'ops' } },
        ]);
        const overrides = await store().auditReferencing('overrides', ['1']);
        expect(overrides.map((entry) => entry.details?.['overrides'])).toEqual(['1']);
        await expect(store().auditReferencing('undoes', ['2'])).resolves.toHaveLength(1);
        await expect(store().auditReferencing('undoes', [])).resolves.toEqual([]);
      });

      it('gives the newest audit time per relation', async () => {
        await store().appendAudit([{ kind: 'link', relationId: 'R-1' }]);
        await sleep(5);
        await store().appendAudit([
          { kind: 'unlink', relationId: 'R-1' },
          { kind: 'link', relationId: 'R-2' },
        ]);
        const all = await store().queryAudit({});
        const latest = await store().latestAuditAt();
        expect(latest.get('R-1')).toBe(all[1]?.appliedAt);
        expect([...(await store().latestAuditAt(['R-2'])).keys()]).toEqual(['R-2']);
      });
    });

    describe('console: match rejections', () => {
      it('remembers a rejected pair once', async () => {
        await store().rejectMatch({ contactId: 'C-1', accountKind: 'customer', accountId: 'A-1', rejectedBy: 'ops' });
        await store().rejectMatch({
          contactId: 'C-1',
          accountKind: 'customer',
          accountId: 'A-1',
          rejectedBy: 'someone else',
        });
        const rejections = await store().listMatchRejections();
        expect(rejections).toEqual([
          {
            contactId: 'C-1',
            accountKind: 'customer',
            accountId: 'A-1',
            rejectedBy: 'ops',
            rejectedAt: expect.stringMatching(ISO_INSTANT),
          },
        ]);
      });
    });

    describe('console: config versions', () => {
      it('numbers versions from 1, reads them back, newest first', async () => {
        await expect(store().latestConfigVersion()).resolves.toBeNull();
        const first = await store().saveConfigVersion({ savedBy: 'ops', comment: null, yaml: 'relationCodes: {}\n' });
        const second = await store().saveConfigVersion({
          savedBy: 'ops',
          comment: 'vendors too',
          yaml: 'relationCodes: { vendor: VEND }\n',
        });
        expect(first.version).toBe(1);
        expect(second).toEqual({
          version: 2,
          savedAt: expect.stringMatching(ISO_INSTANT),
          savedBy: 'ops',
          comment: 'vendors too',
          yaml: 'relationCodes: { vendor: VEND }\n',
        });
        await expect(store().getConfigVersion(1)).resolves.toEqual(first);
        await expect(store().getConfigVersion(7)).resolves.toBeNull();
        await expect(store().latestConfigVersion()).resolves.toEqual(second);
        expect((await store().listConfigVersions()).map((version) => version.version)).toEqual([2, 1]);
      });
    });

    describe('record observations', () => {
      const vendor = (modifiedAt: string, fields: Record<string, string | null>): Account => ({
        entity: 'vendor',
        id: 'V-1',
        number: 'V-1',
        fields,
        modifiedAt,
      });

      it('credits a field with the window it changed in, not the record time of later edits', async () => {
        const first = await store().observeRecords('accounting', [vendor(T1, { city: 'Delft', phone: '1' })]);
        // A first observation knows no earlier one: every field gets the record's time.
        expect(first[0]?.fieldModifiedAt).toEqual({ city: T1, phone: T1 });
        expect(first[0]?.fieldWindow).toEqual({
          city: { since: null, shared: false },
          phone: { since: null, shared: false },
        });
        // The city changes alone, then the phone: the city keeps the time it was first seen with.
        await store().observeRecords('accounting', [vendor(T2, { city: 'Leiden', phone: '1' })]);
        const [later] = await store().observeRecords('accounting', [vendor(T3, { city: 'Leiden', phone: '2' })]);
        expect(later?.fieldModifiedAt).toEqual({ city: T2, phone: T3 });
        expect(later?.fieldWindow).toEqual({ city: { since: T1, shared: false }, phone: { since: T2, shared: false } });
      });

      it('marks fields that changed between the same two observations as sharing their window', async () => {
        await store().observeRecords('accounting', [vendor(T1, { city: 'Delft', phone: '1' })]);
        const [both] = await store().observeRecords('accounting', [vendor(T3, { city: 'Leiden', phone: '2' })]);
        expect(both?.fieldModifiedAt).toEqual({ city: T3, phone: T3 });
        expect(both?.fieldWindow).toEqual({
          city: { since: T1, shared: true, among: 2 },
          phone: { since: T1, shared: true, among: 2 },
        });
      });

      it('keeps per slot, entity and record apart, and learns nothing from a read older than the last', async () => {
        await store().observeRecords('accounting', [vendor(T2, { city: 'Leiden' })]);
        await store().observeRecords('crm', [{ ...vendor(T1, { city: 'Other' }), entity: 'customer' }]);
        const [stale] = await store().observeRecords('accounting', [vendor(T1, { city: 'Delft' })]);
        // The older read's value is not what was observed: it keeps its own record time, unbounded.
        expect(stale?.fieldModifiedAt).toEqual({});
        const [current] = await store().observeRecords('accounting', [vendor(T3, { city: 'Leiden' })]);
        expect(current?.fieldModifiedAt).toEqual({ city: T2 });
        const rows = await sql().query('SELECT connector_slot, entity, modified_at FROM record_observation ORDER BY 1');
        expect(rows).toEqual([
          { connector_slot: 'accounting', entity: 'vendor', modified_at: T3 },
          { connector_slot: 'crm', entity: 'customer', modified_at: T1 },
        ]);
      });

      it('takes the fields a write of tandem’s returned as written at the record’s new time', async () => {
        await store().observeRecords('accounting', [vendor(T1, { city: 'Delft', phone: '1' })]);
        const written = new Map([['V-1', ['city']]]);
        await store().observeRecords('accounting', [vendor(T2, { city: 'Leiden', phone: '1' })], written);
        // The next read sees the user's phone edit alone: it gets the record's time, unshared.
        const [next] = await store().observeRecords('accounting', [vendor(T3, { city: 'Leiden', phone: '2' })]);
        expect(next?.fieldModifiedAt).toEqual({ city: T2, phone: T3 });
        expect(next?.fieldWindow).toEqual({ city: { since: T2, shared: false }, phone: { since: T2, shared: false } });
      });

      it('keeps a value tandem carried at its origin’s time while the field holds it', async () => {
        await store().recordCarried('accounting', { entity: 'vendor', id: 'V-1' }, { city: 'Leiden' }, { city: T2 });
        // Nothing observed yet: nothing noted.
        expect(await sql().query('SELECT 1 FROM record_observation')).toEqual([]);
        await store().observeRecords('accounting', [vendor(T1, { city: 'Delft' })]);
        await store().recordCarried('accounting', { entity: 'vendor', id: 'V-1' }, { city: 'Leiden' }, { city: T2 });
        // Read back after tandem's write at T3, even with no shadow stored, the city keeps T2.
        const [read] = await store().observeRecords('accounting', [vendor(T3, { city: 'Leiden' })]);
        expect(read?.fieldModifiedAt).toEqual({ city: T2 });
      });

      it('takes a provider’s own field time as exact', async () => {
        await store().observeRecords('crm', [{ ...vendor(T1, { city: 'Delft' }), entity: 'customer' }]);
        const [exact] = await store().observeRecords('crm', [
          { ...vendor(T3, { city: 'Leiden' }), entity: 'customer', fieldModifiedAt: { city: T2 } },
        ]);
        expect(exact?.fieldModifiedAt).toEqual({ city: T2 });
        expect(exact?.fieldWindow).toEqual({ city: { since: T2, shared: false } });
      });
    });

    describe('many callers at once', () => {
      // Calls made together are answered by shared statements (store/coalesce.ts); each caller
      // must still get exactly the answer it would have got alone.
      const account = (id: string, modifiedAt: string, city: string): Account => ({
        entity: 'customer',
        id,
        number: id,
        fields: { city },
        modifiedAt,
      });

      it('answers each caller its own relations, shadows and account links', async () => {
        const created = await Promise.all(
          ['A', 'B', 'C'].map((contact, index) =>
            store().createRelation(newRelation({ contactId: contact, accountId: `CUST-${index}` })),
          ),
        );
        await store().recordSync(
          created.map((relation) => shadowEntry(relation.id, { value: `name ${relation.contactId}` })),
          [],
        );
        const [a, b, none] = await Promise.all([
          store().findRelationsByContact('A'),
          store().findRelationsByContact('B'),
          store().findRelationsByContact('nobody'),
        ]);
        expect(a.map((relation) => relation.accountId)).toEqual(['CUST-0']);
        expect(b.map((relation) => relation.accountId)).toEqual(['CUST-1']);
        expect(none).toEqual([]);
        const [byAccount, unknownAccount, otherKind] = await Promise.all([
          store().findRelationByAccount('customer', 'CUST-2'),
          store().findRelationByAccount('customer', 'CUST-9'),
          store().findRelationByAccount('vendor', 'CUST-2'),
        ]);
        expect(byAccount?.contactId).toBe('C');
        expect(unknownAccount).toBeNull();
        expect(otherKind).toBeNull();
        const [first, rest] = await Promise.all([
          store().getShadows([created[0]!.id]),
          store().getShadows([created[1]!.id, created[2]!.id, 'no-such-relation']),
        ]);
        expect([...first.keys()]).toEqual([created[0]!.id]);
        expect([...rest.keys()].sort()).toEqual([created[1]!.id, created[2]!.id].sort());
        expect(rest.get(created[2]!.id)?.[0]?.value).toBe('name C');
      });

      it('marks an event id new for exactly one of the callers reporting it at once', async () => {
        const answers = await Promise.all([
          store().markEventProcessed('crm', 'evt-1'),
          store().markEventProcessed('crm', 'evt-1'),
          store().markEventProcessed('crm', 'evt-2'),
          store().markEventProcessed('accounting', 'evt-1'),
          store().markEventProcessed('crm', 'evt-1'),
        ]);
        expect(answers).toEqual([true, false, true, true, false]);
      });

      it('observes one record reported by two callers at once in the order they asked', async () => {
        await store().observeRecords('accounting', [account('A-1', T1, 'Delft')]);
        const [earlier, later, other] = await Promise.all([
          store().observeRecords('accounting', [account('A-1', T2, 'Leiden')]),
          store().observeRecords('accounting', [account('A-1', T3, 'Gouda')]),
          store().observeRecords('accounting', [account('A-2', T1, 'Ede')]),
        ]);
        expect(earlier[0]?.fieldModifiedAt).toEqual({ city: T2 });
        // The later caller sees the earlier one's observation, as it would one after the other.
        expect(later[0]?.fieldWindow).toEqual({ city: { since: T2, shared: false } });
        expect(other[0]?.fieldModifiedAt).toEqual({ city: T1 });
      });

      it('records many plans, staged and settled, each once', async () => {
        const [one, two] = await Promise.all([
          store().createRelation(newRelation({ contactId: 'A', accountId: 'CUST-1' })),
          store().createRelation(newRelation({ contactId: 'B', accountId: 'CUST-2' })),
        ]);
        const entry = (relationId: string, contactId: string): NewAuditEntry => ({
          kind: 'fieldChange',
          relationId,
          contactId,
          field: 'name',
          newValue: contactId,
        });
        await Promise.all([
          store().stageAudit({
            planId: 'plan-1',
            contactId: 'A',
            jobIds: ['j1'],
            entries: [{ jobId: 'j1', entry: entry(one.id, 'A') }],
          }),
          store().stageAudit({
            planId: 'plan-2',
            contactId: 'B',
            jobIds: ['j2'],
            entries: [{ jobId: 'j2', entry: entry(two.id, 'B') }],
          }),
        ]);
        const [stagedA, stagedB] = await Promise.all([store().stagedAudit('A'), store().stagedAudit('B')]);
        expect(stagedA.map((staged) => staged.planId)).toEqual(['plan-1']);
        expect(stagedB.map((staged) => staged.planId)).toEqual(['plan-2']);
        // plan-2 was settled by the recovery meanwhile: its recordSync must not audit it again.
        await store().settleStagedAudit('plan-2', [entry(two.id, 'B')]);
        await Promise.all([
          store().recordSync([shadowEntry(one.id, { value: 'A' })], [entry(one.id, 'A')], 'plan-1'),
          store().recordSync([shadowEntry(two.id, { value: 'B' })], [entry(two.id, 'B')], 'plan-2'),
          store().recordSync([], [{ ...entry(one.id, 'A'), field: 'phone' }]),
        ]);
        const audit = await store().queryAudit({});
        expect(audit.map((row) => `${row.contactId}:${row.field}`).sort()).toEqual(['A:name', 'A:phone', 'B:name']);
        expect(await store().stagedAudit('A')).toEqual([]);
        const shadows = await store().getShadows([one.id, two.id]);
        expect(shadows.get(two.id)?.[0]?.value).toBe('B');
      });

      it('observes and forgets hundreds of rows in one call, and the store goes on working', async () => {
        // PGlite lost its transaction state on a list of a few hundred (entity, id) rows.
        const many = Array.from({ length: 600 }, (_, index) => account(`A-${index}`, T1, 'Delft'));
        await store().observeRecords('accounting', many);
        const again = await store().observeRecords(
          'accounting',
          many.map((record) => ({ ...record, modifiedAt: T2 })),
        );
        expect(again).toHaveLength(600);
        const relation = await store().createRelation(newRelation());
        const fields = Array.from({ length: 600 }, (_, index) => `field${index}`);
        await store().recordSync(
          fields.map((field) => shadowEntry(relation.id, { field })),
          [],
        );
        await store().forgetShadow(
          fields.map((field) => ({ relationId: relation.id, side: 'contact' as const, field })),
          [],
        );
        expect(await store().getShadow(relation.id)).toEqual([]);
        await store().recordSync([shadowEntry(relation.id)], []);
        expect(await store().getShadow(relation.id)).toHaveLength(1);
      });

      it('keeps a bad call to itself: the others in its statement still succeed', async () => {
        const relation = await store().createRelation(newRelation());
        const results = await Promise.allSettled([
          store().recordSync([shadowEntry(relation.id, { value: 'kept' })], []),
          // No such relation: the shadow row breaks its foreign key.
          store().recordSync([shadowEntry('no-such-relation')], []),
        ]);
        expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected']);
        expect((await store().getShadow(relation.id))[0]?.value).toBe('kept');
      });

      it('carries values onto many observed records at once, each its own', async () => {
        await store().observeRecords('accounting', [account('A-1', T1, 'Delft'), account('A-2', T1, 'Ede')]);
        await Promise.all([
          store().recordCarried('accounting', { entity: 'customer', id: 'A-1' }, { city: 'Leiden' }, { city: T2 }),
          store().recordCarried('accounting', { entity: 'customer', id: 'A-2' }, { city: 'Gouda' }, { city: T1 }),
          store().recordCarried('accounting', { entity: 'customer', id: 'A-3' }, { city: 'Zeist' }, { city: T1 }),
        ]);
        const [one, two] = await store().observeRecords('accounting', [
          account('A-1', T3, 'Leiden'),
          account('A-2', T3, 'Gouda'),
        ]);
        expect(one?.fieldModifiedAt).toEqual({ city: T2 });
        expect(two?.fieldModifiedAt).toEqual({ city: T1 });
      });
    });

    describe('rotated secrets', () => {
      it('keeps the newest value per slot and name, apart from the cursors', async () => {
        await store().saveRotatedSecret('accounting', 'refreshToken', 'first');
        await store().saveRotatedSecret('accounting', 'refreshToken', 'second');
        await store().saveRotatedSecret('crm', 'refreshToken', 'crm-token');
        const secrets = await store().listRotatedSecrets();
        expect(secrets.map(({ slot, name, value }) => ({ slot, name, value }))).toEqual([
          { slot: 'accounting', name: 'refreshToken', value: 'second' },
          { slot: 'crm', name: 'refreshToken', value: 'crm-token' },
        ]);
        expect(secrets[0]?.rotatedAt).toMatch(ISO_INSTANT);
        await expect(store().getCursor('secret-accounting', 'refreshToken')).resolves.toBeNull();
      });

      it('moves the secrets kept among the cursors before version 4 into their table', async () => {
        // Back to version 3, with a token kept the old way beside a real cursor.
        await sql().query('DROP TABLE rotated_secret');
        await sql().query('DELETE FROM tandem_migrations WHERE version = 4');
        await store().setCursor('secret-accounting', 'refreshToken', 'kept-token');
        await store().setCursor('accounting', 'customer', 'page-2');

        await store().migrate();

        await expect(store().listRotatedSecrets()).resolves.toEqual([
          {
            slot: 'accounting',
            name: 'refreshToken',
            value: 'kept-token',
            rotatedAt: expect.stringMatching(ISO_INSTANT),
          },
        ]);
        await expect(store().getCursor('secret-accounting', 'refreshToken')).resolves.toBeNull();
        await expect(store().getCursor('accounting', 'customer')).resolves.toBe('page-2');
      });
    });

    describe('migrations', () => {
      const versions = async () =>
        (await sql().query('SELECT version FROM tandem_migrations ORDER BY version')).map((row) => row['version']);

      it('does nothing when migrating an up-to-date database again', async () => {
        const relation = await store().createRelation(newRelation());
        const before = await versions();
        expect(before.length).toBeGreaterThan(0);

        await store().migrate();
        await store().migrate();

        await expect(versions()).resolves.toEqual(before);
        await expect(store().getRelation(relation.id)).resolves.toEqual(relation);
      });

      it('tolerates concurrent migrate() calls', async () => {
        const before = await versions();

        await Promise.all([store().migrate(), store().migrate(), store().migrate()]);

        await expect(versions()).resolves.toEqual(before);
      });
    });
  });
}
