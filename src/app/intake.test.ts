import { configSchema } from '../config/schema';
import { writeKey } from '../core/confirm';
import { createPgliteExecutor, SqlStore, type SqlExecutor } from '../store';
import { directWrites, FakeConnector, quietLogger } from '../../test/support/fakes';
import { handleChange, markUnlinked } from './intake';
import { ChangeRefusedError, type ChangeJob, type ContactLockOrRetry } from './ports/changes';
import type { Engine, WriteDispatcher } from './ports/index';
import type { Store } from './ports/store';
import { createRelationService } from './relations';
import { WritesFailedError } from './sync-contact';

const FIELDS = ['name', 'phone'];

let sql: SqlExecutor;
let store: Store;
let crm: FakeConnector;
let accounting: FakeConnector;
let engine: Engine;
/** The contacts the use case locked, in order. */
let locked: string[];

/** A lock that is always free, recording what it was taken for. */
const freeLock: ContactLockOrRetry = {
  runOrRetryLater: async (contactId, work) => {
    locked.push(contactId);
    return work();
  },
};

/** What the queue adapter does when another sync holds the contact: reject with its own signal. */
class RetryLaterSignal extends Error {}
const busyLock: ContactLockOrRetry = {
  runOrRetryLater: async (contactId) => {
    locked.push(contactId);
    throw new RetryLaterSignal(`contact ${contactId} is busy`);
  },
};

const config = (automaticCustomers = false) =>
  configSchema.parse({
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
    relationCodes: { customer: 'CUST', vendor: 'VEND', bankAccount: null },
    mappings: {
      customer: FIELDS.map((field) => ({ contact: field, account: field })),
      vendor: [{ contact: 'name', account: 'name' }],
      bankAccount: [{ contact: 'name', account: 'name' }],
    },
    automaticContacts: { customer: automaticCustomers },
  });

const change = (overrides: Partial<ChangeJob>): ChangeJob => ({
  connector: 'crm',
  entity: 'contact',
  id: 'c1',
  source: 'poll',
  ...overrides,
});

const handle = (job: ChangeJob, lock: ContactLockOrRetry = freeLock) =>
  handleChange(engine, job, {
    logger: quietLogger,
    lock,
    jobId: 'job-1',
    attempt: 0,
    relations: createRelationService(engine),
  });

/** Records the plan ids the use case dispatches writes under. */
function recordingWrites(inner: WriteDispatcher, planIds: string[]): WriteDispatcher {
  return {
    dispatch: (writes, context) => {
      planIds.push(context.planId);
      return inner.dispatch(writes, context);
    },
  };
}

beforeAll(async () => {
  sql = await createPgliteExecutor();
  store = new SqlStore(sql);
  await store.migrate();
});
afterAll(() => store.close());
beforeEach(async () => {
  await sql.query(
    'TRUNCATE business_relation, relation_shadow, audit_log, interaction, relation_operation RESTART IDENTITY',
  );
  crm = new FakeConnector({ name: 'crm', system: 'crm', entities: ['contact'], fields: FIELDS });
  accounting = new FakeConnector({
    name: 'accounting',
    system: 'accounting',
    entities: ['customer', 'vendor'],
    fields: FIELDS,
  });
  engine = {
    config: config(),
    store,
    crm,
    accounting,
    writes: directWrites({ crm, accounting }),
    logger: quietLogger,
  };
  locked = [];
});

async function linkedCustomer() {
  crm.put('contact', 'c1', { name: 'Fabrikam', phone: '+31 1' });
  accounting.put('customer', 'a1', { name: 'Fabrikam', phone: '+31 1' });
  return store.createRelation({
    contactId: 'c1',
    accountKind: 'customer',
    accountId: 'a1',
    relationCode: 'CUST',
    origin: 'linked',
  });
}

describe('handleChange', () => {
  test('an account without a business relation is left alone, without taking any lock', async () => {
    accounting.put('customer', 'a9', { name: 'Unlinked Ltd' });
    expect(await handle(change({ connector: 'accounting', entity: 'customer', id: 'a9' }))).toEqual({
      status: 'unlinked',
    });
    expect(locked).toEqual([]);
    expect(crm.creates).toEqual([]);
  });

  test('a new account of a kind with automatic contacts gets one company contact, once', async () => {
    engine.config = config(true);
    accounting.put('customer', 'a9', { name: 'Contoso' });
    const first = await handle(change({ connector: 'accounting', entity: 'customer', id: 'a9' }));
    expect(first).toMatchObject({ status: 'contactCreated', created: true });
    expect(await store.findRelationByAccount('customer', 'a9')).toMatchObject({ origin: 'automatic' });
    // Reported again (a webhook and a poll): the account is linked now, so its contact is synced instead.
    const second = await handle(change({ connector: 'accounting', entity: 'customer', id: 'a9' }));
    expect(['synced', 'unchanged']).toContain(second.status);
    expect(crm.creates).toHaveLength(1);
  });

  test('a reported account that does not exist gets no automatic contact, and the report is done, not retried', async () => {
    engine.config = config(true);
    const reads = accounting.reads.length;
    expect(await handle(change({ connector: 'accounting', entity: 'customer', id: 'never-there' }))).toEqual({
      status: 'unlinked',
    });
    expect(accounting.reads.length - reads).toBe(1);
    expect(crm.creates).toEqual([]);
    expect(await store.findRelationByAccount('customer', 'never-there')).toBeNull();
  });

  test('changes of accounts without a relation are marked to wait behind the others', async () => {
    await linkedCustomer();
    const marked = await markUnlinked(store, [
      change({ connector: 'accounting', entity: 'customer', id: 'a1' }),
      change({ connector: 'accounting', entity: 'customer', id: 'unknown-1' }),
      change({ connector: 'accounting', entity: 'customer', id: 'unknown-2', deleted: true }),
      change({ connector: 'crm', entity: 'contact', id: 'c-unlinked' }),
    ]);
    expect(marked.map((job) => job.unlinked === true)).toEqual([false, true, false, false]);
  });

  test("the first poll's existing accounts and deleted ones get no automatic contact", async () => {
    engine.config = config(true);
    accounting.put('customer', 'a9', { name: 'Contoso' });
    const initial = change({ connector: 'accounting', entity: 'customer', id: 'a9', initial: true });
    expect(await handle(initial)).toEqual({ status: 'unlinked' });
    const deleted = change({ connector: 'accounting', entity: 'customer', id: 'a8', deleted: true });
    expect(await handle(deleted)).toEqual({ status: 'unlinked' });
    expect(crm.creates).toEqual([]);
  });

  test("a deleted account's relation is removed; the contact stays", async () => {
    const relation = await linkedCustomer();
    expect(await handle(change({ connector: 'accounting', entity: 'customer', id: 'a1', deleted: true }))).toEqual({
      status: 'relationRemoved',
    });
    expect(await store.getRelation(relation.id)).toBeNull();
    expect(crm.records.size).toBe(1);
    expect(locked).toEqual([]);
  });

  test("an account's change syncs its contact under the contact's lock, with plans named after the job and attempt", async () => {
    await linkedCustomer();
    await handle(change({}));
    const planIds: string[] = [];
    engine.writes = recordingWrites(directWrites({ crm, accounting }), planIds);
    accounting.put('customer', 'a1', { name: 'Fabrikam', phone: '+31 2' });
    const outcome = await handle(change({ connector: 'accounting', entity: 'customer', id: 'a1' }));
    expect(outcome).toMatchObject({ status: 'synced', writes: 1 });
    expect(crm.value('contact', 'c1', 'phone')).toBe('+31 2');
    expect(locked).toEqual(['c1', 'c1']);
    expect(planIds).toEqual([expect.stringMatching(/^job-1-a0/)]);
  });

  test('a contact another sync holds is handed back through the lock, and nothing is written', async () => {
    await linkedCustomer();
    crm.put('contact', 'c1', { name: 'Fabrikam', phone: '+31 3' });
    await expect(handle(change({}), busyLock)).rejects.toBeInstanceOf(RetryLaterSignal);
    expect(locked).toEqual(['c1']);
    expect(accounting.updates).toEqual([]);
  });

  test('writes the target refused for good become ChangeRefusedError; others fail as they are', async () => {
    await linkedCustomer();
    await handle(change({}));
    const refusing = (code: string): WriteDispatcher => ({
      dispatch: async (writes) =>
        new Map(writes.map((write) => [writeKey(write), { ok: false, error: `${code}: no`, code }])),
    });
    crm.put('contact', 'c1', { name: 'Fabrikam', phone: '+31 4' });
    engine.writes = refusing('AUTH_FAILED');
    const refused = await handle(change({})).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ChangeRefusedError);
    expect((refused as ChangeRefusedError).cause).toBeInstanceOf(WritesFailedError);

    engine.writes = refusing('TRANSIENT');
    await expect(handle(change({}))).rejects.toBeInstanceOf(WritesFailedError);
  });
});

describe('a contact the CRM merged into another', () => {
  const merge = (loser: string, survivor: string) => {
    const record = crm.records.get(`contact:${loser}`);
    if (!record) throw new Error(`no contact ${loser}`);
    crm.records.set(`contact:${loser}`, { ...record, fields: {}, mergedInto: survivor } as typeof record);
  };

  test('moves its relations to the survivor, audited, then syncs the survivor under its own lock', async () => {
    const relation = await linkedCustomer();
    crm.put('contact', 'c2', { name: 'Fabrikam (main)', phone: '+31 2' });
    merge('c1', 'c2');
    const outcome = await handle(change({ id: 'c1', deleted: true }));
    expect(outcome).toEqual({ status: 'contactMerged', into: 'c2', moved: 1, removed: 0 });
    expect(locked).toEqual(['c1', 'c2']);
    const [moved] = await store.findRelationsByContact('c2');
    expect(moved).toMatchObject({ accountKind: 'customer', accountId: 'a1', relationCode: 'CUST' });
    expect(await store.getRelation(relation.id)).toBeNull();
    expect(await store.queryAudit({ contactId: 'c2', kind: 'link' })).toEqual([
      expect.objectContaining({
        relationId: moved?.id,
        details: expect.objectContaining({ reason: 'merged', movedFromContact: 'c1' }),
      }),
    ]);
    // The survivor's sync ran: the customer now has the survivor's values; nothing was deleted.
    expect(accounting.value('customer', 'a1', 'name')).toBe('Fabrikam (main)');
    expect(crm.records.has('contact:c1')).toBe(true);
    // A second report of the merge finds nothing left to move.
    expect(await handle(change({ id: 'c1', deleted: true }))).toEqual({ status: 'noRelations' });
  });

  test('removes a relation of a kind the survivor already has, and moves the others', async () => {
    await linkedCustomer();
    accounting.put('vendor', 'v1', { name: 'Fabrikam' });
    await store.createRelation({
      contactId: 'c1',
      accountKind: 'vendor',
      accountId: 'v1',
      relationCode: 'VEND',
      origin: 'linked',
    });
    crm.put('contact', 'c2', { name: 'Contoso', phone: '+31 3' });
    accounting.put('customer', 'a2', { name: 'Contoso', phone: '+31 3' });
    await store.createRelation({
      contactId: 'c2',
      accountKind: 'customer',
      accountId: 'a2',
      relationCode: 'CUST',
      origin: 'linked',
    });
    merge('c1', 'c2');
    expect(await handle(change({ id: 'c1' }))).toEqual({ status: 'contactMerged', into: 'c2', moved: 1, removed: 1 });
    expect((await store.findRelationsByContact('c2')).map((r) => `${r.accountKind}:${r.accountId}`).sort()).toEqual([
      'customer:a2',
      'vendor:v1',
    ]);
    expect(await store.findRelationByAccount('customer', 'a1')).toBeNull();
    expect(await store.queryAudit({ contactId: 'c1', kind: 'unlink' })).toEqual([
      expect.objectContaining({ accountId: 'a1', details: expect.objectContaining({ reason: 'merged', into: 'c2' }) }),
    ]);
  });

  test('when the survivor is busy the move stands, and its running sync or the drift sweep takes it up', async () => {
    await linkedCustomer();
    crm.put('contact', 'c2', { name: 'Fabrikam (main)' });
    merge('c1', 'c2');
    let calls = 0;
    const busyOnSurvivor: ContactLockOrRetry = {
      runOrRetryLater: async (contactId, work) => {
        locked.push(contactId);
        if (calls++ > 0) throw new RetryLaterSignal(`contact ${contactId} is busy`);
        return work();
      },
    };
    expect(await handle(change({ id: 'c1' }), busyOnSurvivor)).toMatchObject({ status: 'contactMerged', moved: 1 });
    expect(locked).toEqual(['c1', 'c2']);
    expect(await store.findRelationByAccount('customer', 'a1')).toMatchObject({ contactId: 'c2' });
  });
});

describe('an account the provider reports as merged into another', () => {
  test('its relation moves to the survivor and the contact is synced with it, whichever process heard of the merge', async () => {
    const relation = await linkedCustomer();
    accounting.put('customer', 'a2', { name: 'Fabrikam Holding', phone: '+31 9' });
    // The merged-away account is gone from the accounting system.
    accounting.records.delete('customer:a1');
    const outcome = await handle(
      change({ connector: 'accounting', entity: 'customer', id: 'a1', deleted: true, mergedInto: 'a2' }),
    );
    expect(outcome.status).toBe('synced');
    expect(locked).toEqual(['c1']);
    expect(await store.getRelation(relation.id)).toBeNull();
    expect(await store.findRelationsByContact('c1')).toEqual([
      expect.objectContaining({ accountKind: 'customer', accountId: 'a2', relationCode: 'CUST' }),
    ]);
    expect(await store.queryAudit({ contactId: 'c1', kind: 'link' })).toEqual([
      expect.objectContaining({
        accountId: 'a2',
        details: expect.objectContaining({ reason: 'merged', movedFrom: 'a1' }),
      }),
    ]);
    // The contact and the surviving customer are in step; nothing was deleted on either side.
    expect(accounting.value('customer', 'a2', 'name')).toBe(crm.value('contact', 'c1', 'name'));
    expect(crm.records.has('contact:c1')).toBe(true);
    // The same merge reported again: nothing left to move.
    expect(
      await handle(change({ connector: 'accounting', entity: 'customer', id: 'a1', deleted: true, mergedInto: 'a2' })),
    ).toEqual({ status: 'unlinked' });
  });
});
