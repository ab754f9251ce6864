import type { WriteOutcome } from '../core/confirm';
import type { Account, BusinessRelation, Contact } from '../core/model';
import { planSync, type LinkedAccount, type RecordWrite } from '../core/plan';
import { planFieldWrite } from '../core/field-write';
import { createPgliteExecutor, SqlStore, type SqlExecutor } from '../store';
import type { Store } from './ports/store';
import type { WriteDispatcher } from './ports/index';
import { applyPlan, settleStagedAudit } from './apply-plan';

const READ = '2024-08-01T09:00:00.000Z';
const CHANGED = '2024-08-01T10:00:00.000Z';
const WRITTEN = '2024-08-01T10:00:05.000Z';

let store: Store;
let sql: SqlExecutor;
// Opening PGlite costs seconds: one store for the file, emptied before each test.
beforeAll(async () => {
  sql = await createPgliteExecutor();
  store = new SqlStore(sql);
  await store.migrate();
});
afterAll(() => store.close());
beforeEach(async () => {
  await sql.query('TRUNCATE business_relation, relation_shadow, audit_log, staged_audit RESTART IDENTITY');
});

/** A dispatcher that answers every write with the record written, except the ones named. */
function dispatcher(
  failing: string[] = [],
): WriteDispatcher & { calls: Array<{ writes: RecordWrite[]; planId: string }> } {
  const calls: Array<{ writes: RecordWrite[]; planId: string }> = [];
  return {
    calls,
    dispatch(writes, { planId }) {
      calls.push({ writes, planId });
      const outcomes = new Map<string, WriteOutcome>();
      for (const write of writes) {
        const key = `${write.system}-${write.entity}-${write.id}`;
        if (failing.includes(key)) {
          outcomes.set(key, { ok: false, error: 'HTTP 503', code: 'UNAVAILABLE' });
          continue;
        }
        const record: Contact | Account =
          write.entity === 'contact'
            ? {
                entity: 'contact',
                id: write.id,
                type: 'company',
                companyId: null,
                fields: write.fields,
                modifiedAt: WRITTEN,
              }
            : { entity: write.entity, id: write.id, number: null, fields: write.fields, modifiedAt: WRITTEN };
        outcomes.set(key, { ok: true, record, jobId: `job-${write.id}` });
      }
      return Promise.resolve(outcomes);
    },
  };
}

const contact = (phone: string, modifiedAt = READ): Contact => ({
  entity: 'contact',
  id: 'contact-1',
  type: 'company',
  companyId: null,
  fields: { phone },
  modifiedAt,
});

async function linkedCustomer(phone: string, modifiedAt = READ): Promise<LinkedAccount & { account: Account }> {
  const relation: BusinessRelation = await store.createRelation({
    contactId: 'contact-1',
    accountKind: 'customer',
    accountId: 'customer-1',
    relationCode: 'CUST',
    origin: 'linked',
  });
  return {
    relation,
    account: { entity: 'customer', id: 'customer-1', number: null, fields: { phone }, modifiedAt },
    mappings: [{ contact: 'phone', account: 'phone', direction: 'both' }],
    shadow: new Map([
      ['contact.phone', { value: '1', sourceModifiedAt: READ }],
      ['account.phone', { value: '1', sourceModifiedAt: READ }],
    ]),
  };
}

describe('applyPlan', () => {
  it('dispatches the writes, then stores the confirmed shadow and audits each change with the plan’s details', async () => {
    const customer = await linkedCustomer('1');
    const writes = dispatcher();
    const plan = planFieldWrite({
      contact: contact('1'),
      contactField: 'phone',
      value: '7',
      targets: [{ relation: customer.relation, account: customer.account, mapping: customer.mappings[0]! }],
      decidedAt: CHANGED,
    });
    const applied = await applyPlan(
      { store, writes },
      {
        plan,
        basis: { contact: contact('1'), linked: [customer] },
        planId: 'undo-1',
        audit: { sourceSystem: 'tandem', details: { undoes: 'A1', actor: 'admin' } },
      },
    );
    expect(writes.calls.map((call) => call.planId)).toEqual(['undo-1']);
    expect(applied.failures).toEqual([]);
    expect(applied.written.map(({ jobId }) => jobId)).toEqual(['job-contact-1', 'job-customer-1']);

    const shadow = await store.getShadow(customer.relation.id);
    expect(shadow.map((entry) => [entry.side, entry.value, entry.sourceModifiedAt])).toEqual(
      expect.arrayContaining([
        ['contact', '7', WRITTEN],
        ['account', '7', WRITTEN],
      ]),
    );
    const audit = await store.queryAudit({ relationId: customer.relation.id });
    expect(audit).toHaveLength(2);
    for (const entry of audit) {
      expect(entry).toMatchObject({
        kind: 'fieldChange',
        contactId: 'contact-1',
        accountKind: 'customer',
        accountId: 'customer-1',
        newValue: '7',
        oldValue: '1',
        sourceSystem: 'tandem',
        sourceModifiedAt: CHANGED,
        details: { undoes: 'A1', actor: 'admin' },
      });
    }
    expect(audit.map((entry) => entry.direction).sort()).toEqual(['toAccounting', 'toCrm']);
  });

  it('keeps the change’s own source and no details when the plan adds none', async () => {
    const customer = await linkedCustomer('1');
    const plan = planSync({ contact: contact('2', CHANGED), linked: [customer], tieBreak: ['crm', 'accounting'] });
    await applyPlan(
      { store, writes: dispatcher() },
      { plan, basis: { contact: contact('2', CHANGED), linked: [customer] }, planId: 'p' },
    );
    const [entry] = await store.queryAudit({ relationId: customer.relation.id });
    expect(entry).toMatchObject({ sourceSystem: 'crm', sourceModifiedAt: CHANGED, jobId: 'job-customer-1' });
    expect(entry?.details ?? null).toBeNull();
  });

  it('returns a failed write, audits nothing of it and holds its relation’s shadow back', async () => {
    const customer = await linkedCustomer('1');
    const plan = planSync({ contact: contact('2', CHANGED), linked: [customer], tieBreak: ['crm', 'accounting'] });
    const applied = await applyPlan(
      { store, writes: dispatcher(['accounting-customer-customer-1']) },
      { plan, basis: { contact: contact('2', CHANGED), linked: [customer] }, planId: 'p' },
    );
    expect(applied.failures).toEqual([
      { target: 'accounting-customer-customer-1', error: 'HTTP 503', code: 'UNAVAILABLE' },
    ]);
    expect(applied.outcomes.get('accounting-customer-customer-1')?.ok).toBe(false);
    expect(await store.getShadow(customer.relation.id)).toEqual([]);
    expect(await store.queryAudit({ relationId: customer.relation.id })).toEqual([]);
  });

  it('dispatches nothing for a plan without writes, and stores only the shadow rows it moves', async () => {
    const customer = await linkedCustomer('1');
    const writes = dispatcher();
    const plan = planSync({ contact: contact('1'), linked: [customer], tieBreak: ['crm', 'accounting'] });
    expect(plan.writes).toEqual([]);
    // The shadow the plan read is the stored one; the contact's row is not stored yet.
    const stored = { relationId: customer.relation.id, value: '1', sourceModifiedAt: READ, syncedAt: READ };
    await store.recordSync([{ ...stored, side: 'account', field: 'phone' }], []);
    const read = { ...customer, shadow: new Map([['account.phone', { value: '1', sourceModifiedAt: READ }]]) };
    await applyPlan({ store, writes }, { plan, basis: { contact: contact('1'), linked: [read] }, planId: 'p' });
    expect(writes.calls).toEqual([]);
    const shadow = await store.getShadow(customer.relation.id);
    expect(shadow.map((entry) => [entry.side, entry.value])).toEqual([
      ['account', '1'],
      ['contact', '1'],
    ]);
    // The row that said what it says already was not written again.
    expect(shadow.find((entry) => entry.side === 'account')?.syncedAt).toBe(READ);
    expect(shadow.find((entry) => entry.side === 'contact')?.syncedAt).not.toBe(READ);
  });

  it('audits a conflict that took effect under the winning relation, with every candidate', async () => {
    const customer = await linkedCustomer('3', WRITTEN);
    const plan = planSync({ contact: contact('2', CHANGED), linked: [customer], tieBreak: ['crm', 'accounting'] });
    const applied = await applyPlan(
      { store, writes: dispatcher() },
      { plan, basis: { contact: contact('2', CHANGED), linked: [customer] }, planId: 'p' },
    );
    expect(applied.conflicts).toHaveLength(1);
    const [conflict] = await store.queryAudit({ relationId: customer.relation.id, kind: 'conflict' });
    expect(conflict).toMatchObject({
      contactId: 'contact-1',
      accountKind: 'customer',
      accountId: 'customer-1',
      field: 'phone',
      newValue: '3',
      sourceSystem: 'accounting',
      details: expect.objectContaining({ reason: 'newer', candidates: expect.any(Array) }),
    });
  });

  it('does not audit a conflict whose relation was held back', async () => {
    const customer = await linkedCustomer('3', WRITTEN);
    const plan = planSync({ contact: contact('2', CHANGED), linked: [customer], tieBreak: ['crm', 'accounting'] });
    const applied = await applyPlan(
      { store, writes: dispatcher(['crm-contact-contact-1']) },
      { plan, basis: { contact: contact('2', CHANGED), linked: [customer] }, planId: 'p' },
    );
    expect(applied.conflicts).toEqual([]);
    expect(await store.queryAudit({ relationId: customer.relation.id })).toEqual([]);
  });
});

/** A plan that sets the phone to 7 on the contact and the customer. */
const phoneTo7 = (customer: LinkedAccount & { account: Account }) =>
  planFieldWrite({
    contact: contact('1'),
    contactField: 'phone',
    value: '7',
    targets: [{ relation: customer.relation, account: customer.account, mapping: customer.mappings[0]! }],
    decidedAt: CHANGED,
  });

describe('audit staged before the writes', () => {
  /** A planner that dies once its writes are out: the jobs named `done` completed, the others never ran. */
  function dying(done: (key: string) => boolean): WriteDispatcher {
    const completed = new Set<string>();
    return {
      async dispatch(writes, { beforeWrites }) {
        const ids = new Map(writes.map((write) => [`${write.system}-${write.entity}-${write.id}`, `job-${write.id}`]));
        await beforeWrites?.(ids);
        for (const [key, id] of ids) if (done(key)) completed.add(id);
        throw new Error('killed');
      },
      completed: (jobIds) => Promise.resolve(new Set(jobIds.filter((id) => completed.has(id)))),
    };
  }

  it('is recorded by the next plan for the writes that completed, with the plan’s conflicts, once', async () => {
    const customer = await linkedCustomer('1');
    const plan = planSync({
      contact: contact('2', CHANGED),
      linked: [{ ...customer, account: { ...customer.account, fields: { phone: '3' }, modifiedAt: READ } }],
      tieBreak: ['crm', 'accounting'],
    });
    expect(plan.conflicts).toHaveLength(1);
    const writes = dying((key) => key.startsWith('accounting'));
    await expect(
      applyPlan(
        { store, writes },
        { plan, basis: { contact: contact('2', CHANGED), linked: [customer] }, planId: 'p1' },
      ),
    ).rejects.toThrow('killed');
    expect(await store.queryAudit({ contactId: 'contact-1' })).toEqual([]);

    await settleStagedAudit({ store, writes }, 'contact-1');
    const audit = await store.queryAudit({ contactId: 'contact-1' });
    expect(audit.map((entry) => [entry.kind, entry.newValue, entry.jobId])).toEqual([
      ['fieldChange', '2', 'job-customer-1'],
      ['conflict', '2', null],
    ]);
    expect(audit[0]?.details).toMatchObject({ recovered: expect.any(String) });
    // Settled once: a second pass, or the dead planner's own late record, adds nothing.
    await settleStagedAudit({ store, writes }, 'contact-1');
    expect(await store.stagedAudit('contact-1')).toEqual([]);
    expect(await store.queryAudit({ contactId: 'contact-1' })).toHaveLength(2);
  });

  it('drops what never went out', async () => {
    const customer = await linkedCustomer('1');
    const plan = phoneTo7(customer);
    const writes = dying(() => false);
    await expect(
      applyPlan({ store, writes }, { plan, basis: { contact: contact('1'), linked: [customer] }, planId: 'p2' }),
    ).rejects.toThrow('killed');
    await settleStagedAudit({ store, writes }, 'contact-1');
    expect(await store.queryAudit({ contactId: 'contact-1' })).toEqual([]);
    expect(await store.stagedAudit('contact-1')).toEqual([]);
  });

  it('is settled by the plan itself when it lives', async () => {
    const customer = await linkedCustomer('1');
    const plan = phoneTo7(customer);
    const inner = dispatcher();
    const writes: WriteDispatcher = {
      dispatch: async (planned, context) => {
        await context.beforeWrites?.(
          new Map(planned.map((write) => [`${write.system}-${write.entity}-${write.id}`, `job-${write.id}`])),
        );
        expect(await store.stagedAudit('contact-1')).toHaveLength(1);
        return inner.dispatch(planned, context);
      },
    };
    await applyPlan({ store, writes }, { plan, basis: { contact: contact('1'), linked: [customer] }, planId: 'p3' });
    expect(await store.stagedAudit('contact-1')).toEqual([]);
    expect(await store.queryAudit({ contactId: 'contact-1' })).toHaveLength(2);
  });
});
