import type { Account, Contact } from './model';
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
