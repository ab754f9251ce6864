import type { FieldMapping } from './model';
import { confirmShadow, writeKey, type WriteOutcome } from './confirm';
import type { Account, AccountKind, Contact, SyncRecord } from './model';
import { planSync, type LinkedAccount, type SyncPlan } from './plan';

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

const readTimes = new Map([
  [contactKey, READ],
  [accountKeyOf('rel-customer'), READ],
  [accountKeyOf('rel-vendor'), READ],
  [accountKeyOf('rel-bankAccount'), READ],
]);

/** A contact change that fans out to three accounts. */
const fanOut = () =>
  planSync({
    contact: contact('2', CHANGED),
    linked: [link('customer', '1'), link('vendor', '1'), link('bankAccount', '1')],
    tieBreak: ['crm', 'accounting'],
  });

/** A vendor change that reaches the contact and the customer. */
const fromVendor = () =>
  planSync({
    contact: contact('1'),
    linked: [link('customer', '1'), link('vendor', '3', CHANGED)],
    tieBreak: ['crm', 'accounting'],
  });

describe('writeKey', () => {
  it('names system, entity and id', () => {
    expect(writeKey({ system: 'accounting', entity: 'bankAccount', id: 'B-7' })).toBe('accounting-bankAccount-B-7');
  });
});

describe('confirmShadow', () => {
  it('moves every relation forward when every write succeeded', () => {
    const plan = fanOut();
    const result = confirmShadow(plan, outcomes(plan), readTimes, contactKey, accountKeyOf);
    expect([...result.committed].sort()).toEqual(['rel-bankAccount', 'rel-customer', 'rel-vendor']);
    expect(result.failed.size).toBe(0);
    expect(result.shadow).toHaveLength(6);
    expect(result.shadow).toEqual(
      expect.arrayContaining([
        // The contact was not written: its time is the one read before the plan.
        { relationId: 'rel-customer', side: 'contact', field: 'phone', value: '2', sourceModifiedAt: READ },
        // The account was written: its time is the one the write returned.
        { relationId: 'rel-customer', side: 'account', field: 'phone', value: '2', sourceModifiedAt: WRITTEN },
        { relationId: 'rel-bankAccount', side: 'account', field: 'phone', value: '2', sourceModifiedAt: WRITTEN },
      ]),
    );
  });

  it('holds back only the relation whose account write failed', () => {
    const plan = fanOut();
    const failedKey = accountKeyOf('rel-vendor');
    const result = confirmShadow(plan, outcomes(plan, [failedKey]), readTimes, contactKey, accountKeyOf);
    expect([...result.failed]).toEqual(['rel-vendor']);
    expect([...result.committed].sort()).toEqual(['rel-bankAccount', 'rel-customer']);
    expect(result.shadow.some((entry) => entry.relationId === 'rel-vendor')).toBe(false);
    expect(result.shadow).toHaveLength(4);
  });

  it('holds back every relation when the contact write failed', () => {
    const plan = fromVendor();
    expect(plan.writes.map(writeKey)).toEqual([contactKey, accountKeyOf('rel-customer')]);
    const result = confirmShadow(plan, outcomes(plan, [contactKey]), readTimes, contactKey, accountKeyOf);
    expect([...result.failed].sort()).toEqual(['rel-customer', 'rel-vendor']);
    expect(result.committed.size).toBe(0);
    expect(result.shadow).toEqual([]);
  });

  it('records the written contact’s time and the read vendor’s time after an account change', () => {
    const plan = fromVendor();
    const result = confirmShadow(plan, outcomes(plan), readTimes, contactKey, accountKeyOf);
    expect(result.shadow).toEqual(
      expect.arrayContaining([
        { relationId: 'rel-vendor', side: 'contact', field: 'phone', value: '3', sourceModifiedAt: WRITTEN },
        { relationId: 'rel-vendor', side: 'account', field: 'phone', value: '3', sourceModifiedAt: READ },
        { relationId: 'rel-customer', side: 'account', field: 'phone', value: '3', sourceModifiedAt: WRITTEN },
      ]),
    );
  });

  it('treats a write without an outcome as failed', () => {
    const plan = fanOut();
    const partial = outcomes(plan);
    partial.delete(accountKeyOf('rel-customer'));
    const result = confirmShadow(plan, partial, readTimes, contactKey, accountKeyOf);
    expect([...result.failed]).toEqual(['rel-customer']);
    expect(result.committed.has('rel-customer')).toBe(false);
  });

  it('commits an echo (no writes) with the read times', () => {
    const plan = planSync({
      contact: contact('1'),
      linked: [link('customer', '1')],
      tieBreak: ['crm', 'accounting'],
    });
    expect(plan.writes).toEqual([]);
    const result = confirmShadow(plan, new Map(), readTimes, contactKey, accountKeyOf);
    expect([...result.committed]).toEqual(['rel-customer']);
    expect(result.shadow.map((entry) => entry.sourceModifiedAt)).toEqual([READ, READ]);
  });
});
