import { findDrift, type DriftInput } from './drift';
import type { Account, Contact, Direction, FieldValue } from './model';
import type { ShadowValue } from './plan';

const T = '2026-03-01T10:00:00.000Z';
const contact = (phone: FieldValue): Contact => ({
  entity: 'contact',
  id: 'c1',
  type: 'company',
  companyId: null,
  fields: { phone },
  modifiedAt: T,
});
const account = (phone: FieldValue, archived = false): Account => ({
  entity: 'customer',
  id: 'a1',
  number: 'C1',
  fields: { phone },
  modifiedAt: T,
  ...(archived ? { archived } : {}),
});
const shadowOf = (contactPhone?: FieldValue, accountPhone?: FieldValue) => {
  const shadow = new Map<string, ShadowValue>();
  if (contactPhone !== undefined) shadow.set('contact.phone', { value: contactPhone, sourceModifiedAt: T });
  if (accountPhone !== undefined) shadow.set('account.phone', { value: accountPhone, sourceModifiedAt: T });
  return shadow;
};
const input = (
  values: [FieldValue, FieldValue],
  shadow: ReadonlyMap<string, ShadowValue>,
  direction: Direction = 'both',
  archived = false,
): DriftInput => ({
  contact: contact(values[0]),
  account: account(values[1], archived),
  mappings: [{ contact: 'phone', account: 'phone', direction }],
  shadow,
});
const causes = (given: DriftInput) => findDrift(given).map((field) => field.cause);

describe('findDrift', () => {
  it('finds nothing where both records hold their shadow and agree', () => {
    expect(findDrift(input(['1', '1'], shadowOf('1', '1')))).toEqual([]);
  });

  it.each([
    ['a CRM change never carried', ['2', '1'], shadowOf('1', '1'), 'both', 'missed'],
    ['an accounting change never carried', ['1', '2'], shadowOf('1', '1'), 'both', 'missed'],
    ['both changed, differently', ['2', '3'], shadowOf('1', '1'), 'both', 'missed'],
    ['records that differ while each holds its shadow', ['1', '2'], shadowOf('1', '2'), 'both', 'inconsistent'],
    ['records that agree on a value the shadow does not hold', ['2', '2'], shadowOf('1', '1'), 'both', 'shadow'],
    ['records that agree with no shadow entry', ['2', '2'], shadowOf(), 'both', 'shadow'],
    ['a one-way source change never carried', ['2', '1'], shadowOf('1', '1'), 'toAccounting', 'missed'],
    [
      'a one-way pair that differs while each holds its shadow',
      ['1', '2'],
      shadowOf('1', '2'),
      'toCrm',
      'inconsistent',
    ],
  ] as const)('%s: %s', (_, values, shadow, direction, cause) => {
    const found = findDrift(input([...values], shadow, direction));
    expect(found.map((field) => field.cause)).toEqual([cause]);
    expect(found[0]).toMatchObject({ contactField: 'phone', contactValue: values[0], accountValue: values[1] });
  });

  it('leaves alone a one-way field the receiving side edited', () => {
    expect(causes(input(['1', '9'], shadowOf('1', '1'), 'toAccounting'))).toEqual([]);
    expect(causes(input(['9', '1'], shadowOf('1', '1'), 'toCrm'))).toEqual([]);
  });

  it('compares an archived account only on what flows to the CRM', () => {
    expect(causes(input(['2', '1'], shadowOf('1', '1'), 'both', true))).toEqual([]);
    expect(causes(input(['1', '2'], shadowOf('1', '1'), 'both', true))).toEqual(['missed']);
    expect(causes(input(['2', '1'], shadowOf('1', '1'), 'toAccounting', true))).toEqual([]);
  });

  it('reports what each side and its shadow hold', () => {
    expect(findDrift(input(['2', '1'], shadowOf('1', undefined)))).toEqual([
      {
        contactField: 'phone',
        accountField: 'phone',
        contactValue: '2',
        accountValue: '1',
        shadowContact: '1',
        shadowAccount: undefined,
        cause: 'missed',
      },
    ]);
  });
});
