import { confirmPlan, writeKey, type PlanBasis, type WriteOutcome } from './confirm';
import type { Account, AccountKind, BusinessRelation, Contact, FieldMapping } from './model';
import { planPersonFields, type CompanyAccount } from './person-fields';

const READ = '2024-06-01T09:00:00.000Z';
const WRITTEN = '2024-06-01T10:00:00.000Z';
const both = (field: string): FieldMapping => ({ contact: field, account: field, direction: 'both' });

const person: Contact = {
  entity: 'contact',
  id: 'person-1',
  type: 'person',
  companyId: 'company-1',
  fields: { name: 'Anna', phone: '+31 9', email: 'anna@fabrikam.example' },
  modifiedAt: '2024-06-01T08:30:00.000Z',
};

function companyAccount(kind: AccountKind, fields: Account['fields'], mappings: FieldMapping[]): CompanyAccount {
  const relation: BusinessRelation = {
    id: `rel-${kind}`,
    contactId: 'company-1',
    accountKind: kind,
    accountId: `${kind}-1`,
    relationCode: kind,
    origin: 'linked',
    createdAt: READ,
  };
  return {
    relation,
    account: { entity: kind, id: `${kind}-1`, number: null, fields, modifiedAt: READ, version: `${kind}-v1` },
    mappings,
  };
}

const customer = () => companyAccount('customer', { name: 'Fabrikam', phone: '+31 1' }, ['name', 'phone'].map(both));
const vendor = () =>
  companyAccount('vendor', { name: 'Fabrikam', phone: '+31 2', email: null }, ['phone', 'email'].map(both));
const keyOf = (entry: CompanyAccount) =>
  writeKey({ system: 'accounting', entity: entry.relation.accountKind, id: entry.account.id });
const written = (entry: CompanyAccount): WriteOutcome => ({
  ok: true,
  record: { ...entry.account, modifiedAt: WRITTEN },
});

describe('planPersonFields', () => {
  it('writes only the listed fields, to each account of the company, as changes from the CRM', () => {
    const accounts = [customer(), vendor()];
    const plan = planPersonFields({ person, listed: ['phone'], accounts });
    expect(plan.writes).toEqual([
      {
        system: 'accounting',
        entity: 'customer',
        id: 'customer-1',
        ifMatch: 'customer-v1',
        fields: { phone: '+31 9' },
        changes: [
          {
            relationId: 'rel-customer',
            field: 'phone',
            from: '+31 1',
            to: '+31 9',
            direction: 'toAccounting',
            sourceSystem: 'crm',
            sourceModifiedAt: person.modifiedAt,
          },
        ],
        relationIds: ['rel-customer'],
      },
      expect.objectContaining({ entity: 'vendor', fields: { phone: '+31 9' }, relationIds: ['rel-vendor'] }),
    ]);
    expect(plan.conflicts).toEqual([]);
    expect(plan.nothingChanged).toBe(false);
  });

  it('plans only the account side of the shadow, for the fields it writes', () => {
    const plan = planPersonFields({ person, listed: ['phone', 'email'], accounts: [customer(), vendor()] });
    expect(plan.shadow).toEqual([
      { relationId: 'rel-customer', side: 'account', field: 'phone', value: '+31 9' },
      { relationId: 'rel-vendor', side: 'account', field: 'phone', value: '+31 9' },
      { relationId: 'rel-vendor', side: 'account', field: 'email', value: 'anna@fabrikam.example' },
    ]);
  });

  it('never writes a field the account already holds, one the person lacks, or one that flows only to the CRM', () => {
    const accounts = [
      companyAccount('customer', { phone: '+31 9', fax: '1' }, [
        both('phone'),
        both('fax'),
        { contact: 'email', account: 'email', direction: 'toCrm' },
      ]),
    ];
    const plan = planPersonFields({ person, listed: ['phone', 'fax', 'email'], accounts });
    expect(plan.writes).toEqual([]);
    expect(plan.shadow).toEqual([]);
    expect(plan.nothingChanged).toBe(true);
  });

  it('writes nothing when no field is listed', () => {
    expect(planPersonFields({ person, listed: [], accounts: [customer()] }).writes).toEqual([]);
  });

  it('moves the written account’s shadow and leaves a failed one’s as it was', () => {
    const accounts = [customer(), vendor()];
    const [first, second] = accounts as [CompanyAccount, CompanyAccount];
    const plan = planPersonFields({ person, listed: ['phone'], accounts });
    // The company contact was not read: there is no contact side to confirm.
    const basis: PlanBasis = { contact: null, linked: accounts };
    const outcomes = new Map<string, WriteOutcome>([
      [keyOf(first), written(first)],
      [keyOf(second), { ok: false, error: 'HTTP 503' }],
    ]);
    const result = confirmPlan(plan, outcomes, basis);
    expect(result.shadow).toEqual([
      { relationId: 'rel-customer', side: 'account', field: 'phone', value: '+31 9', sourceModifiedAt: WRITTEN },
    ]);
    expect(result.written.map(({ write }) => write.entity)).toEqual(['customer']);
    expect(result.failures.map((failure) => failure.target)).toEqual([keyOf(second)]);
    expect([...result.failed]).toEqual(['rel-vendor']);
  });
});
