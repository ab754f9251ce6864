import { confirmPlan, writeKey, type ConfirmedShadow, type PlanBasis, type WriteOutcome } from './confirm';
import type { Account, BusinessRelation, Contact, SyncRecord } from './model';
import { planReconcile } from './reconcile';

const contact: Contact = {
  entity: 'contact',
  id: 'c1',
  type: 'company',
  companyId: null,
  fields: { name: 'Fabrikam', phone: '+31 1', city: 'Delft', email: 'a@f.com' },
  modifiedAt: '2024-05-01T10:00:00.000Z',
  version: 'v1',
};
const account: Account = {
  entity: 'customer',
  id: 'a1',
  number: 'C1',
  fields: { name: 'Fabrikam', phone: '+31 2', city: 'Leiden', email: 'b@f.com' },
  modifiedAt: '2024-05-02T10:00:00.000Z',
  version: 'e1',
};
const both = (field: string) => ({ contact: field, account: field, direction: 'both' as const });

describe('planReconcile', () => {
  it("spells each side's value through the mapping's value map, and leaves alone what agrees under it", () => {
    const manager = { ...both('salespersonCode'), values: { 'Anna de Vries': 'AV', 'Bram Jansen': 'BJ' } };
    const withManager = (contactValue: string, accountValue: string, winner: 'contact' | 'account') =>
      planReconcile({
        relationId: 'r1',
        contact: { ...contact, fields: { ...contact.fields, salespersonCode: contactValue } },
        account: { ...account, fields: { ...account.fields, salespersonCode: accountValue } },
        mappings: [manager],
        winner,
      });
    const toAccount = withManager('Bram Jansen', 'AV', 'contact');
    expect(toAccount.writes.map((write) => [write.system, write.fields])).toEqual([
      ['accounting', { salespersonCode: 'BJ' }],
    ]);
    expect(toAccount.shadow.map((row) => [row.side, row.value])).toEqual([
      ['contact', 'Bram Jansen'],
      ['account', 'BJ'],
    ]);
    const toContact = withManager('Bram Jansen', 'AV', 'account');
    expect(toContact.writes.map((write) => [write.system, write.fields])).toEqual([
      ['crm', { salespersonCode: 'Anna de Vries' }],
    ]);
    expect(withManager('Anna de Vries', 'AV', 'contact').writes).toEqual([]);
    // A value the table holds for review is not written either way.
    const held = planReconcile({
      relationId: 'r1',
      contact: { ...contact, fields: { ...contact.fields, salespersonCode: 'Someone' } },
      account: { ...account, fields: { ...account.fields, salespersonCode: 'AV' } },
      mappings: [{ ...manager, unmapped: 'hold' }],
      winner: 'contact',
    });
    expect(held.writes).toEqual([]);
  });

  it("writes the contact's differing values to the account when the contact wins", () => {
    const plan = planReconcile({
      relationId: 'r1',
      contact,
      account,
      mappings: ['name', 'phone', 'city'].map(both),
      winner: 'contact',
    });
    expect(plan.writes).toEqual([
      expect.objectContaining({
        system: 'accounting',
        entity: 'customer',
        id: 'a1',
        ifMatch: 'e1',
        fields: { phone: '+31 1', city: 'Delft' },
        relationIds: ['r1'],
      }),
    ]);
    expect(plan.fields.map((field) => [field.mapping.contact, field.written, field.final])).toEqual([
      ['name', null, 'Fabrikam'],
      ['phone', 'account', '+31 1'],
      ['city', 'account', 'Delft'],
    ]);
    expect(plan.writes[0]?.changes[0]).toMatchObject({
      field: 'phone',
      from: '+31 2',
      to: '+31 1',
      direction: 'toAccounting',
      sourceSystem: 'crm',
    });
  });

  it("writes the account's values to the contact when the account wins", () => {
    const plan = planReconcile({
      relationId: 'r1',
      contact,
      account,
      mappings: ['phone'].map(both),
      winner: 'account',
    });
    expect(plan.writes).toEqual([
      expect.objectContaining({
        system: 'crm',
        entity: 'contact',
        id: 'c1',
        ifMatch: 'v1',
        fields: { phone: '+31 2' },
      }),
    ]);
  });

  it("never writes against a mapping's direction", () => {
    const plan = planReconcile({
      relationId: 'r1',
      contact,
      account,
      mappings: [
        { contact: 'phone', account: 'phone', direction: 'toCrm' },
        { contact: 'email', account: 'email', direction: 'toAccounting' },
      ],
      winner: 'account',
    });
    expect(plan.writes).toEqual([
      expect.objectContaining({ system: 'crm', fields: { phone: '+31 2' } }),
      expect.objectContaining({ system: 'accounting', fields: { email: 'a@f.com' } }),
    ]);
  });

  it('writes nothing when both sides agree', () => {
    expect(
      planReconcile({
        relationId: 'r1',
        contact,
        account: { ...account, fields: contact.fields },
        mappings: ['name', 'phone'].map(both),
        winner: 'contact',
      }).writes,
    ).toEqual([]);
  });
});

describe('planReconcile: the shadow it plans', () => {
  const relation: BusinessRelation = {
    id: 'r1',
    contactId: 'c1',
    accountKind: 'customer',
    accountId: 'a1',
    relationCode: 'CUST',
    origin: 'linked',
    createdAt: '2024-05-01T00:00:00.000Z',
  };
  const basis: PlanBasis = { contact, linked: [{ relation, account }] };
  const contactKey = writeKey({ system: 'crm', entity: 'contact', id: 'c1' });
  const accountKey = writeKey({ system: 'accounting', entity: 'customer', id: 'a1' });
  const WRITTEN = '2024-05-03T10:00:00.000Z';
  const ok = (record: SyncRecord): WriteOutcome => ({ ok: true, record: { ...record, modifiedAt: WRITTEN } });
  const failed: WriteOutcome = { ok: false, error: 'HTTP 503' };
  const valuesOf = (shadow: ConfirmedShadow[], field: string) =>
    shadow.filter((entry) => entry.field === field).map((entry) => [entry.side, entry.value, entry.sourceModifiedAt]);

  /** Phone flows only to the CRM (the account wins it); city is reconciled with the contact winning. */
  const twoWays = () =>
    planReconcile({
      relationId: 'r1',
      contact,
      account,
      mappings: [{ contact: 'phone', account: 'phone', direction: 'toCrm' }, both('city'), both('name')],
      winner: 'contact',
    });

  it('is a plan like any other: no conflicts, and something changed', () => {
    const plan = twoWays();
    expect(plan.conflicts).toEqual([]);
    expect(plan.nothingChanged).toBe(false);
    expect(plan.writes.map(writeKey)).toEqual([contactKey, accountKey]);
  });

  it('moves both sides of every field to the final value when the writes succeeded', () => {
    const plan = twoWays();
    const outcomes = new Map([
      [contactKey, ok(contact)],
      [accountKey, ok(account)],
    ]);
    const { shadow, committed } = confirmPlan(plan, outcomes, basis);
    // A written field has the write's time; the side it came from keeps its own.
    expect(valuesOf(shadow, 'phone')).toEqual([
      ['contact', '+31 2', WRITTEN],
      ['account', '+31 2', account.modifiedAt],
    ]);
    expect(valuesOf(shadow, 'city')).toEqual([
      ['contact', 'Delft', contact.modifiedAt],
      ['account', 'Delft', WRITTEN],
    ]);
    expect([...committed]).toEqual(['r1']);
  });

  it('leaves both sides at the losing value where the write failed, so the next sync writes the winner again', () => {
    const plan = twoWays();
    const outcomes = new Map([
      [contactKey, ok(contact)],
      [accountKey, failed],
    ]);
    const { shadow, committed, failures } = confirmPlan(plan, outcomes, basis);
    // City was to be written to the account: both sides keep the account's (losing) value.
    expect(valuesOf(shadow, 'city')).toEqual([
      ['contact', 'Leiden', contact.modifiedAt],
      ['account', 'Leiden', account.modifiedAt],
    ]);
    // Phone went to the contact, whose write succeeded: it moves on.
    expect(valuesOf(shadow, 'phone')).toEqual([
      ['contact', '+31 2', WRITTEN],
      ['account', '+31 2', account.modifiedAt],
    ]);
    // Name agreed from the start: stored whatever the writes did.
    expect(valuesOf(shadow, 'name')).toEqual([
      ['contact', 'Fabrikam', contact.modifiedAt],
      ['account', 'Fabrikam', account.modifiedAt],
    ]);
    expect(committed.size).toBe(0);
    expect(failures.map((failure) => failure.target)).toEqual([accountKey]);
  });

  it('leaves the contact-written field at the contact’s old value when the contact write failed', () => {
    const plan = twoWays();
    const outcomes = new Map([
      [contactKey, failed],
      [accountKey, ok(account)],
    ]);
    const { shadow } = confirmPlan(plan, outcomes, basis);
    expect(valuesOf(shadow, 'phone')).toEqual([
      ['contact', '+31 1', contact.modifiedAt],
      ['account', '+31 1', account.modifiedAt],
    ]);
    expect(valuesOf(shadow, 'city').map(([, value]) => value)).toEqual(['Delft', 'Delft']);
  });

  it('keeps a field’s own time where the record was written but the field was not', () => {
    const plan = twoWays();
    const observed = {
      ...contact,
      fieldModifiedAt: { ...contact.fieldModifiedAt, name: '2024-04-01T08:00:00.000Z' },
    };
    const outcomes = new Map([
      [contactKey, ok(observed)],
      [accountKey, ok(account)],
    ]);
    const { shadow } = confirmPlan(plan, outcomes, { ...basis, contact: observed });
    // The contact's write (phone) moved its record's time; its name is as old as it was.
    expect(valuesOf(shadow, 'name')[0]).toEqual(['contact', 'Fabrikam', '2024-04-01T08:00:00.000Z']);
    expect(valuesOf(shadow, 'phone')[0]).toEqual(['contact', '+31 2', WRITTEN]);
  });

  it('plans the shadow of agreeing records without writes, and calls that nothing changed', () => {
    const plan = planReconcile({
      relationId: 'r1',
      contact,
      account: { ...account, fields: contact.fields },
      mappings: ['name', 'phone'].map(both),
      winner: 'contact',
    });
    expect(plan.nothingChanged).toBe(true);
    expect(confirmPlan(plan, new Map(), basis).shadow.map((entry) => entry.value)).toEqual([
      'Fabrikam',
      'Fabrikam',
      '+31 1',
      '+31 1',
    ]);
  });
});
