import { filteredSide, filterFields, meets, type KindFilter } from './filter';
import type { Account, Contact } from './model';

const contact = (fields: Contact['fields']): Contact => ({
  entity: 'contact',
  id: 'company-1',
  type: 'company',
  companyId: null,
  fields,
  modifiedAt: '2024-05-01T10:00:00.000Z',
});
const account = (fields: Account['fields']): Account => ({
  entity: 'customer',
  id: 'c1',
  number: '10000',
  fields,
  modifiedAt: '2024-05-01T10:00:00.000Z',
});

describe('sync filters', () => {
  it('match a value in a list, out of a list, or by being empty, as tandem reads values', () => {
    const record = contact({ 'custom.lifecyclestage': 'customer', name: 'Adatum', city: null });
    expect(meets(record, [{ field: 'custom.lifecyclestage', in: ['customer', 'evangelist'] }])).toBe(true);
    expect(meets(record, [{ field: 'custom.lifecyclestage', in: ['lead'] }])).toBe(false);
    expect(meets(record, [{ field: 'custom.lifecyclestage', notIn: ['lead', 'subscriber'] }])).toBe(true);
    expect(meets(record, [{ field: 'city', empty: true }])).toBe(true);
    expect(meets(record, [{ field: 'name', empty: true }])).toBe(false);
    // BC's blocked ' ' reads as empty: a list entry of blanks matches it too.
    expect(meets(account({ 'custom.blocked': null }), [{ field: 'custom.blocked', in: [' '] }])).toBe(true);
    // A field the record does not carry is empty.
    expect(meets(record, [{ field: 'custom.unknown', empty: true }])).toBe(true);
  });

  it('hold all conditions of a side, and say which side a relation is left out by', () => {
    const filter: KindFilter = {
      contact: [
        { field: 'custom.lifecyclestage', in: ['customer'] },
        { field: 'countryCode', notIn: ['US'] },
      ],
      account: [{ field: 'custom.blocked', empty: true }],
    };
    const customer = contact({ 'custom.lifecyclestage': 'customer', countryCode: 'NL' });
    expect(filteredSide(filter, customer, account({}))).toBeNull();
    expect(filteredSide(filter, contact({ 'custom.lifecyclestage': 'customer', countryCode: 'US' }), account({}))).toBe(
      'contact',
    );
    expect(filteredSide(filter, customer, account({ 'custom.blocked': 'All' }))).toBe('account');
    expect(filteredSide(undefined, customer, account({ 'custom.blocked': 'All' }))).toBeNull();
    expect(filterFields(filter, 'contact')).toEqual(['custom.lifecyclestage', 'countryCode']);
  });
});
