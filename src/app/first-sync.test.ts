import type { ChangedPage } from '../../connectors/kit/types';
import { configSchema } from '../config/schema';
import type { Entity, SyncRecord } from '../core/model';
import { createPgliteExecutor, SqlStore, type SqlExecutor } from '../store';
import { directWrites, FakeConnector, quietLogger, type FakeOptions } from '../../test/support/fakes';
import { checkFirstSyncOptions, runFirstSync, type FirstSyncDeps } from './first-sync';
import type { FirstSyncProgress } from './ports/first-sync';
import type { Engine } from './ports/index';
import type { Store } from './ports/store';

const FIELDS = ['name', 'phone', 'city', 'email', 'postCode', 'vatRegistrationNo'];
const PAGE = 7;

/** A fake that reads in batches (counted) and lists its records in pages of PAGE. */
class BatchingFake extends FakeConnector {
  readonly batchCalls: Array<{ entity: Entity; ids: string[] }> = [];
  readonly limits = { batchSize: { read: 10 } };

  constructor(options: Omit<FakeOptions, 'changedPages'>) {
    super({
      ...options,
      changedPages: (entity) => {
        const records = [...this.records.values()].filter((record) => record.entity === entity);
        const pages: ChangedPage[] = [];
        for (let start = 0; start < records.length; start += PAGE)
          pages.push({ records: records.slice(start, start + PAGE), cursor: String(start) });
        return pages;
      },
    });
  }

  async batchGet(entity: Entity, ids: string[]): Promise<SyncRecord[]> {
    this.batchCalls.push({ entity, ids });
    return ids.flatMap((id) => {
      const record = this.records.get(`${entity}:${id}`);
      return record ? [structuredClone(record)] : [];
    });
  }
}

let store: Store;
let sql: SqlExecutor;
let crm: BatchingFake;
let accounting: BatchingFake;
let engine: Engine;

function setup(overrides: Record<string, unknown> = {}) {
  crm = new BatchingFake({ name: 'crm', system: 'crm', entities: ['contact'], fields: FIELDS });
  accounting = new BatchingFake({
    name: 'accounting',
    system: 'accounting',
    entities: ['customer', 'vendor'],
    fields: FIELDS,
  });
  const config = configSchema.parse({
    connectors: {
      crm: { kind: 'hubspot', baseUrl: 'http://127.0.0.1:9', credentials: { token: 'x' }, webhooks: false },
      accounting: {
        kind: 'business-central',
        baseUrl: 'http://127.0.0.1:9',
        companyId: 'c1',
        credentials: { tokenUrl: 'http://127.0.0.1:9/t', clientId: 'x', clientSecret: 'x' },
        webhooks: false,
      },
    },
    relationCodes: { customer: 'CUST', vendor: null, bankAccount: null },
    mappings: {
      customer: FIELDS.map((field) => ({ contact: field, account: field })),
    },
    ...overrides,
  });
  engine = { config, store, crm, accounting, writes: directWrites({ crm, accounting }), logger: quietLogger };
}

const TABLES =
  'business_relation, relation_shadow, audit_log, interaction, relation_operation, match_rejection, first_sync_run, first_sync_item, record_observation';
beforeAll(async () => {
  sql = await createPgliteExecutor();
  store = new SqlStore(sql);
  await store.migrate();
});
afterAll(() => store.close());
beforeEach(async () => {
  await sql.query(`TRUNCATE ${TABLES} RESTART IDENTITY CASCADE`);
  setup();
});

const noPace = { crm: () => Promise.resolve(), accounting: () => Promise.resolve() };
const deps = (extra: Partial<FirstSyncDeps> = {}): FirstSyncDeps => ({
  pace: noPace,
  actor: { name: 'admin' },
  batchSize: 10,
  ...extra,
});

/** n pairs matching by VAT, one person, one ambiguous customer pair, one record without keys. */
function seed(pairs: number) {
  for (let i = 0; i < pairs; i++) {
    crm.put('contact', `c${i}`, { name: `Company ${i}`, vatRegistrationNo: `NL${1000 + i}`, phone: `+31 ${i}` });
    accounting.put('customer', `a${i}`, { name: `Company ${i}`, vatRegistrationNo: `${1000 + i}` });
  }
  const person = crm.put('contact', 'p1', { name: 'Anna', email: 'anna@x.com' });
  if (person.entity === 'contact') person.type = 'person';
  crm.put('contact', 'dup', { email: 'info@twins.com' });
  accounting.put('customer', 't1', { email: 'info@twins.com' });
  accounting.put('customer', 't2', { email: 'info@twins.com' });
  crm.put('contact', 'bare', { name: 'No keys' });
  accounting.put('customer', 'lonely', { name: 'Lonely', postCode: '1000' });
}

describe('runFirstSync', () => {
  it('counts what a dry run would do, and writes nothing', async () => {
    seed(12);
    await store.rejectMatch({ contactId: 'c0', accountKind: 'customer', accountId: 'a0', rejectedBy: 'admin' });
    const report = await runFirstSync(engine, deps(), { dryRun: true });
    expect(report).toMatchObject({
      runId: null,
      dryRun: true,
      kinds: ['customer'],
      counts: {
        link: 11,
        create: 0,
        ambiguous: 1,
        unmatched: { contacts: 0, accounts: 1 },
        skipped: { alreadyLinked: 0, rejected: 1, missingFields: 1, persons: 1 },
      },
      outcome: { linked: 0, created: 0, alreadyLinked: 0, failed: 0 },
      stopped: false,
    });
    expect(report.createReason).toContain('automaticContacts is off for customer');
    expect(report.review[0]?.candidates.map((pair) => pair.accountId).sort()).toEqual(['t1', 't2']);
    // Two pages of contacts (16 records) and two of customers (15), and no batch reads.
    expect(report.requests).toEqual({ crm: 3, accounting: 3 });
    expect(await store.listRelations()).toEqual([]);
    expect(await store.openFirstSyncRun()).toBeNull();
    expect(accounting.updates).toEqual([]);
  });

  it('counts the contacts automatic creation would make', async () => {
    setup({ automaticContacts: { customer: true } });
    seed(3);
    const report = await runFirstSync(engine, deps(), { dryRun: true });
    expect(report.counts).toMatchObject({ link: 3, create: 1, unmatched: { accounts: 0 } });
    expect(report.createReason).toBeNull();
  });

  it('links every pair in batches, reading each side once per batch', async () => {
    seed(25);
    const progress: FirstSyncProgress[] = [];
    const report = await runFirstSync(engine, deps({ progress: (value) => progress.push(value) }), { dryRun: false });
    expect(report.outcome).toEqual({ linked: 25, created: 0, alreadyLinked: 0, failed: 0 });
    expect(report.stopped).toBe(false);
    expect(await store.listRelations()).toHaveLength(25);
    // 25 pairs in batches of 10: three batch reads per side, no single reads.
    expect(crm.batchCalls).toHaveLength(3);
    expect(accounting.batchCalls).toHaveLength(3);
    expect(crm.reads).toEqual([]);
    expect(accounting.reads).toEqual([]);
    // Reconciled: the contact's phone reached its customer.
    expect(accounting.value('customer', 'a7', 'phone')).toBe('+31 7');
    expect(progress.filter((value) => value.phase === 'linking').map((value) => value.done)).toEqual([0, 10, 20, 25]);
    expect(await store.openFirstSyncRun()).toBeNull();
  });

  it('resumes a stopped run where it stopped: nothing linked twice, everything linked in the end', async () => {
    seed(45);
    const stop = new AbortController();
    let batches = 0;
    const first = await runFirstSync(
      engine,
      deps({
        signal: stop.signal,
        progress: (value) => {
          if (value.phase === 'linking' && value.done > 0 && ++batches === 2) stop.abort();
        },
      }),
      { dryRun: false },
    );
    expect(first).toMatchObject({ stopped: true, resumed: false, outcome: { linked: 20 } });
    expect(await store.listRelations()).toHaveLength(20);
    const open = await store.openFirstSyncRun();
    expect(open?.id).toBe(first.runId);

    // A crash inside a batch: the pair was linked, but its batch never settled.
    const [next] = await store.pendingFirstSyncItems(first.runId as string, 1);
    expect(next).toBeDefined();
    await store.createRelation({
      contactId: next?.contactId as string,
      accountKind: 'customer',
      accountId: next?.accountId as string,
      relationCode: 'CUST',
      origin: 'linked',
    });
    const polls = crm.polls.length;

    const second = await runFirstSync(engine, deps(), { dryRun: false });
    expect(second).toMatchObject({
      runId: first.runId,
      resumed: true,
      stopped: false,
      outcome: { linked: 44, alreadyLinked: 1, failed: 0 },
      counts: { link: 45 },
    });
    // Resumed from the stored plan: neither system was listed again.
    expect(crm.polls.length).toBe(polls);
    const relations = await store.listRelations();
    expect(relations).toHaveLength(45);
    expect(new Set(relations.map((relation) => relation.contactId)).size).toBe(45);
    const links = await store.queryAudit({ kind: 'link', limit: 1000 });
    expect(links).toHaveLength(44);
    expect(await store.openFirstSyncRun()).toBeNull();
  });

  it('settles a pair whose records changed hands as failed, and carries on', async () => {
    seed(3);
    const stop = new AbortController();
    const first = await runFirstSync(
      engine,
      deps({
        signal: stop.signal,
        progress: (value) => {
          if (value.phase === 'linking') stop.abort();
        },
      }),
      { dryRun: false },
    );
    expect(first.stopped).toBe(true);
    accounting.records.delete('customer:a1');
    await store.createRelation({
      contactId: 'someone',
      accountKind: 'customer',
      accountId: 'a2',
      relationCode: 'CUST',
      origin: 'linked',
    });
    const second = await runFirstSync(engine, deps(), { dryRun: false });
    expect(second.outcome).toEqual({ linked: 1, created: 0, alreadyLinked: 0, failed: 2 });
    const taken = await store.findRelationByAccount('customer', 'a2');
    expect(second.failures.map((failure) => failure.reason).sort()).toEqual([
      'customer a1 no longer exists in the accounting system',
      `customer a2 is already linked to contact someone (relation ${taken?.id ?? ''})`,
    ]);
  });

  it('creates a contact for an account without a match, as an automatic relation', async () => {
    setup({ automaticContacts: { customer: true } });
    seed(1);
    const report = await runFirstSync(engine, deps(), { dryRun: false });
    expect(report.outcome).toMatchObject({ linked: 1, created: 1 });
    expect(crm.creates).toHaveLength(1);
    const relation = await store.findRelationByAccount('customer', 'lonely');
    expect(relation?.origin).toBe('automatic');
  });

  it('refuses a kind that is not synchronized or a bad minimum score before starting', () => {
    expect(() => checkFirstSyncOptions(engine, { dryRun: true, kinds: ['vendor'] })).toThrow(
      'vendor has no relation code',
    );
    expect(() => checkFirstSyncOptions(engine, { dryRun: true, minScore: 0 })).toThrow('from 1 to 100');
  });
});
