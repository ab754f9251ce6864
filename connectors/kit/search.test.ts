import type { Account, Contact } from '../../src/core/model';
import { foldText, longestWord, rankSearch, searchRank, searchWords } from './search';

const contact = (id: string, name: string, fields: Contact['fields'] = {}): Contact => ({
  entity: 'contact',
  id,
  type: 'company',
  companyId: null,
  fields: { name, ...fields },
  modifiedAt: '2024-05-01T00:00:00.000Z',
});
const customer = (id: string, name: string, number: string | null, fields: Account['fields'] = {}): Account => ({
  entity: 'customer',
  id,
  number,
  fields: { name, ...fields },
  modifiedAt: '2024-05-01T00:00:00.000Z',
});

describe('search', () => {
  it('folds case, accents and spacing', () => {
    expect(foldText('  Ångström   Café\tAB ')).toBe('angstrom cafe ab');
    expect(searchWords(' Müller  GmbH ')).toEqual(['muller', 'gmbh']);
    expect(longestWord(' Jo  Lindqvist AB ')).toBe('Lindqvist');
  });

  it('ranks an exact id, number, e-mail or VAT no. first, then a name that starts with the text, then every word anywhere', () => {
    expect(searchRank(customer('1', 'Adatum', 'C00010'), 'c00010')).toBe(0);
    expect(searchRank(contact('company-1', 'Adatum', { email: 'AP@adatum.example' }), 'ap@adatum.example')).toBe(0);
    // A VAT no. typed with or without its spaces and dots.
    expect(
      searchRank(customer('1', 'Adatum', null, { vatRegistrationNo: 'NL 8123.45.678 B01' }), 'nl812345678b01'),
    ).toBe(0);
    expect(searchRank(contact('person-9', 'Jo Bloggs'), 'person-9')).toBe(0);
    expect(searchRank(customer('1', 'Adatum Corporation', 'C1'), 'adatum corp')).toBe(1);
    expect(searchRank(customer('1', 'The Adatum Corporation', 'C1'), 'corporation adatum')).toBe(2);
    expect(searchRank(customer('1', 'Adatum', 'C1', { email: 'sales@adatum.example' }), 'adatum sales')).toBe(2);
    // Every word must occur: one missing word leaves the record out.
    expect(searchRank(customer('1', 'Adatum Corporation', 'C1'), 'adatum metals')).toBeNull();
    // Fields the search does not look in do not count.
    expect(searchRank(customer('1', 'Adatum', 'C1', { city: 'Oslo' }), 'oslo')).toBeNull();
  });

  it('keeps each record once, best first and then by name, at most the limit', () => {
    const records = [
      customer('3', 'Zeta Adatum', 'C3'),
      customer('1', 'Adatum B', 'C1'),
      customer('2', 'Adatum A', 'C2'),
      customer('1', 'Adatum B', 'C1'),
      customer('4', 'Other', 'ADATUM'),
      customer('5', 'Unrelated', 'C5'),
    ];
    expect(rankSearch(records, 'adatum', 10).map((record) => record.id)).toEqual(['4', '2', '1', '3']);
    expect(rankSearch(records, 'adatum', 2).map((record) => record.id)).toEqual(['4', '2']);
  });
});
