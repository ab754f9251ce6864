import type { FieldMapping } from './model';
import { confirmPlan, recordKey, writeKey, type PlanBasis, type WriteOutcome } from './confirm';
import type { Account, AccountKind, Contact, SyncRecord } from './model';
import { planSync, type LinkedAccount, type PlanInput, type SyncPlan } from './plan';

const SYNCED = '2024-03-01T08:00:00.000Z';
const READ = '2024-03-01T09:00:00.000Z';
const CHANGED = '2024-03-01T10:00:00.000Z';
const WRITTEN = '2024-03-01T10:00:05.000Z';

const PHONE: FieldMapping[] = [{ contact: 'phone', account: 'phone', direction: 'both' }];

const contactKey = writeKey({ system: 'crm', entity: 'contact', id: 'contact-1' });
const accountKeyOf = (relationId: string) => {
  const kind = relationId.replace('rel-', '') as AccountKind;
  return writeKey({ system: 'accounting', entity: kind, id: `${kind}-1` });
};

function contact(phone: string, modifiedAt = READ): Contact {
  return { entity: 'contact', id: 'contact-1', type: 'company', companyId: null, fields: { phone }, modifiedAt };
}

function account(kind: AccountKind, phone: string, modifiedAt = READ): Account {
  return { entity: kind, id: `${kind}-1`, number: null, fields: { phone }, modifiedAt };
}

function link(kind: AccountKind, phone: string, modifiedAt = READ): LinkedAccount {
  return {
    relation: {
      id: `rel-${kind}`,
      contactId: 'contact-1',
      accountKind: kind,
      accountId: `${kind}-1`,
      relationCode: kind,
      origin: 'linked',
      createdAt: SYNCED,
    },
    account: account(kind, phone, modifiedAt),
    mappings: PHONE,
    shadow: new Map([
      ['contact.phone', { value: '1', sourceModifiedAt: SYNCED }],
      ['account.phone', { value: '1', sourceModifiedAt: SYNCED }],
    ]),
  };
}

/** The record a connector returns after a write: the planned fields, a fresh modification time. */
function writtenRecord(plan: SyncPlan, key: string): SyncRecord {
  const write = plan.writes.find((candidate) => writeKey(candidate) === key);
  if (!write) throw new Error(`no write ${key}`);
  if (write.entity === 'contact') return { ...contact(String(write.fields.phone)), modifiedAt: WRITTEN };
  return { ...account(write.entity, String(write.fields.phone)), modifiedAt: WRITTEN };
}

function outcomes(plan: SyncPlan, failing: string[] = []): Map<string, WriteOutcome> {
  return new Map(
    plan.writes.map((write): [string, WriteOutcome] => {
      const key = writeKey(write);
      return [
        key,
        failing.includes(key) ? { ok: false, error: 'HTTP 503' } : { ok: true, record: writtenRecord(plan, key) },
      ];
    }),
  );
}

/** A planned sync with what it was made from. */
function planned(input: PlanInput): { plan: SyncPlan; basis: PlanBasis } {
  return { plan: planSync(input), basis: input };
}

/** A contact change that fans out to three accounts. */
const fanOut = () =>
  planned({
    contact: contact('2', CHANGED),
    linked: [link('customer', '1'), link('vendor', '1'), link('bankAccount', '1')],
    tieBreak: ['crm', 'accounting'],
  });

/** A vendor change that reaches the contact and the customer. */
const fromVendor = () =>
  planned({
    contact: contact('1'),
    linked: [link('customer', '1'), link('vendor', '3', CHANGED)],
    tieBreak: ['crm', 'accounting'],
  });

describe('writeKey', () => {
  it('names system, entity and id', () => {
    expect(writeKey({ system: 'accounting', entity: 'bankAccount', id: 'B-7' })).toBe('accounting-bankAccount-B-7');
  });

  it('gives a record the key a write to it has', () => {
    expect(recordKey(contact('1'))).toBe(contactKey);
    expect(recordKey(account('vendor', '1'))).toBe(accountKeyOf('rel-vendor'));
  });
});

describe('confirmPlan', () => {
  it('moves every relation forward when every write succeeded', () => {
    const { plan, basis } = fanOut();
    const result = confirmPlan(plan, outcomes(plan), basis);
    expect([...result.committed].sort()).toEqual(['rel-bankAccount', 'rel-customer', 'rel-vendor']);
    expect(result.failed.size).toBe(0);
    expect(result.failures).toEqual([]);
    expect(result.written.map(({ write }) => writeKey(write))).toEqual(plan.writes.map(writeKey));
    expect(result.shadow).toHaveLength(6);
    expect(result.shadow).toEqual(
      expect.arrayContaining([
        // The contact was not written: its time is the one read before the plan.
        { relationId: 'rel-customer', side: 'contact', field: 'phone', value: '2', sourceModifiedAt: CHANGED },
        // The account was written: its time is the one the write returned.
        { relationId: 'rel-customer', side: 'account', field: 'phone', value: '2', sourceModifiedAt: WRITTEN },
        { relationId: 'rel-bankAccount', side: 'account', field: 'phone', value: '2', sourceModifiedAt: WRITTEN },
      ]),
    );
  });

  it('holds back only the relation whose account write failed', () => {
    const { plan, basis } = fanOut();
    const failedKey = accountKeyOf('rel-vendor');
    const result = confirmPlan(plan, outcomes(plan, [failedKey]), basis);
    expect([...result.failed]).toEqual(['rel-vendor']);
    expect([...result.committed].sort()).toEqual(['rel-bankAccount', 'rel-customer']);
    expect(result.shadow.some((entry) => entry.relationId === 'rel-vendor')).toBe(false);
    expect(result.shadow).toHaveLength(4);
    expect(result.failures).toEqual([{ target: failedKey, error: 'HTTP 503', code: undefined }]);
    expect(result.written.map(({ write }) => writeKey(write))).not.toContain(failedKey);
  });

  it('holds back every relation when the contact write failed', () => {
    const { plan, basis } = fromVendor();
    expect(plan.writes.map(writeKey)).toEqual([contactKey, accountKeyOf('rel-customer')]);
    const result = confirmPlan(plan, outcomes(plan, [contactKey]), basis);
    expect([...result.failed].sort()).toEqual(['rel-customer', 'rel-vendor']);
    expect(result.committed.size).toBe(0);
    expect(result.shadow).toEqual([]);
  });

  it('records the written contact’s time and the read vendor’s time after an account change', () => {
    const { plan, basis } = fromVendor();
    const result = confirmPlan(plan, outcomes(plan), basis);
    expect(result.shadow).toEqual(
      expect.arrayContaining([
        { relationId: 'rel-vendor', side: 'contact', field: 'phone', value: '3', sourceModifiedAt: WRITTEN },
        { relationId: 'rel-vendor', side: 'account', field: 'phone', value: '3', sourceModifiedAt: CHANGED },
        { relationId: 'rel-customer', side: 'account', field: 'phone', value: '3', sourceModifiedAt: WRITTEN },
      ]),
    );
  });

  it('treats a write without an outcome as failed', () => {
    const { plan, basis } = fanOut();
    const partial = outcomes(plan);
    partial.delete(accountKeyOf('rel-customer'));
    const result = confirmPlan(plan, partial, basis);
    expect([...result.failed]).toEqual(['rel-customer']);
    expect(result.committed.has('rel-customer')).toBe(false);
    expect(result.failures).toEqual([
      { target: accountKeyOf('rel-customer'), error: 'no outcome was reported', code: undefined },
    ]);
  });

  it('commits an echo (no writes) with the read times', () => {
    const { plan, basis } = planned({
      contact: contact('1'),
      linked: [link('customer', '1')],
      tieBreak: ['crm', 'accounting'],
    });
    expect(plan.writes).toEqual([]);
    const result = confirmPlan(plan, new Map(), basis);
    expect([...result.committed]).toEqual(['rel-customer']);
    expect(result.shadow.map((entry) => entry.sourceModifiedAt)).toEqual([READ, READ]);
  });

  it('keeps the code of a failed write, so callers can tell a stale read from a refusal', () => {
    const { plan, basis } = fanOut();
    const key = accountKeyOf('rel-customer');
    const failing = outcomes(plan);
    failing.set(key, { ok: false, error: 'changed meanwhile', code: 'PRECONDITION_FAILED' });
    expect(confirmPlan(plan, failing, basis).failures).toEqual([
      { target: key, error: 'changed meanwhile', code: 'PRECONDITION_FAILED' },
    ]);
  });

  it('reports a conflict only when a relation it concerns moved forward', () => {
    const { plan, basis } = planned({
      contact: contact('2', CHANGED),
      linked: [link('customer', '3', WRITTEN)],
      tieBreak: ['crm', 'accounting'],
    });
    expect(plan.conflicts).toHaveLength(1);
    expect(confirmPlan(plan, outcomes(plan), basis).conflicts).toEqual(plan.conflicts);
    const [only] = plan.writes;
    expect(only && writeKey(only)).toBe(contactKey);
    expect(confirmPlan(plan, outcomes(plan, [contactKey]), basis).conflicts).toEqual([]);
  });

  it('reports a conflict whose winner reached one record although another write failed', () => {
    // The customer and the vendor both changed; the vendor's newer value wins and is written to the
    // contact and the customer. The contact write fails (every relation is held back), but the
    // customer's own edit is gone: the conflict took effect and names it.
    const { plan, basis } = planned({
      contact: contact('1'),
      linked: [link('customer', '2', CHANGED), link('vendor', '3', WRITTEN)],
      tieBreak: ['crm', 'accounting'],
    });
    expect(plan.conflicts.map((conflict) => conflict.winner.value)).toEqual(['3']);
    expect(plan.conflicts[0]?.writes.map(writeKey)).toEqual([contactKey, accountKeyOf('rel-customer')]);
    const customerLanded = confirmPlan(plan, outcomes(plan, [contactKey]), basis);
    expect(customerLanded.committed.size).toBe(0);
    expect(customerLanded.conflicts).toEqual(plan.conflicts);
    // Where no write of the winner landed, nothing was replaced: no conflict yet.
    const noneLanded = confirmPlan(plan, outcomes(plan, [contactKey, accountKeyOf('rel-customer')]), basis);
    expect(noneLanded.conflicts).toEqual([]);
  });
});

describe('confirmPlan: rows that say what they follow', () => {
  const basis: PlanBasis = { contact: contact('1'), linked: [link('customer', '1')] };
  const customerKey = accountKeyOf('rel-customer');
  const customerWrite = {
    system: 'accounting' as const,
    entity: 'customer' as const,
    id: 'customer-1',
    fields: { phone: '2' },
    changes: [],
    relationIds: ['rel-customer'],
  };
  const plan = (shadow: SyncPlan['shadow']): SyncPlan => ({
    writes: [customerWrite],
    conflicts: [],
    shadow,
    nothingChanged: false,
  });
  const failedOutcome = new Map<string, WriteOutcome>([[customerKey, { ok: false, error: 'HTTP 503' }]]);
  const okOutcome = new Map<string, WriteOutcome>([
    [customerKey, { ok: true, record: { ...account('customer', '2'), modifiedAt: WRITTEN } }],
  ]);

  it('stores a row that follows no write whatever the writes did', () => {
    const result = confirmPlan(
      plan([{ relationId: 'rel-customer', side: 'contact', field: 'name', value: 'A', follows: [] }]),
      failedOutcome,
      basis,
    );
    expect(result.shadow).toEqual([
      { relationId: 'rel-customer', side: 'contact', field: 'name', value: 'A', sourceModifiedAt: READ },
    ]);
    expect([...result.committed]).toEqual(['rel-customer']);
    expect([...result.failed]).toEqual(['rel-customer']);
  });

  it('stores what a failed write leaves behind when the row says so, and holds the relation back', () => {
    const row = {
      relationId: 'rel-customer',
      side: 'account' as const,
      field: 'phone',
      value: '2',
      follows: [customerKey],
      ifFailed: { value: '1' },
    };
    const failed = confirmPlan(plan([row]), failedOutcome, basis);
    expect(failed.shadow).toEqual([
      { relationId: 'rel-customer', side: 'account', field: 'phone', value: '1', sourceModifiedAt: READ },
    ]);
    expect(failed.committed.size).toBe(0);
    const succeeded = confirmPlan(plan([row]), okOutcome, basis);
    expect(succeeded.shadow).toEqual([
      { relationId: 'rel-customer', side: 'account', field: 'phone', value: '2', sourceModifiedAt: WRITTEN },
    ]);
    expect([...succeeded.committed]).toEqual(['rel-customer']);
  });

  it('stores an empty value a failed write leaves behind', () => {
    const result = confirmPlan(
      plan([{ relationId: 'rel-customer', side: 'account', field: 'phone', value: '2', ifFailed: { value: null } }]),
      failedOutcome,
      basis,
    );
    expect(result.shadow.map((entry) => entry.value)).toEqual([null]);
  });

  it('refuses a row whose record the basis does not have', () => {
    expect(() =>
      confirmPlan(
        plan([{ relationId: 'rel-vendor', side: 'account', field: 'phone', value: '2', follows: [] }]),
        okOutcome,
        basis,
      ),
    ).toThrow('account shadow of relation rel-vendor');
    expect(() =>
      confirmPlan(
        plan([{ relationId: 'rel-customer', side: 'contact', field: 'phone', value: '2', follows: [] }]),
        okOutcome,
        { ...basis, contact: null },
      ),
    ).toThrow('contact shadow of relation rel-customer');
  });
});
