import { InvalidRequestError, InvalidResponseError } from '../kit/errors';
import {
  customFieldsOf,
  customWrites,
  describeAccountFields,
  parseFieldsGet,
  readCustomValue,
  writeCustomValue,
  type TrytonField,
} from './fields';
import { SUPPORTED_FIELDS } from './mappers';

/** PYSON of the `readonly` state trytond 6.0 puts on every party field: read-only while the party is inactive. */
const WHILE_INACTIVE = JSON.stringify({
  readonly: { __class__: 'Not', v: { __class__: 'Eval', v: 'active', d: true } },
});
const definition = (type: string, string: string, extra: Record<string, unknown> = {}) => ({
  type,
  string,
  readonly: false,
  states: WHILE_INACTIVE,
  ...extra,
});

/** Parts of trytond 6.0's `party.party.fields_get` (modules party, account, sale, purchase), and invented fields of the other types. */
const PARTY = parseFieldsGet(
  {
    id: definition('integer', 'ID', { readonly: true }),
    name: definition('char', 'Name'),
    code: definition('char', 'Code'),
    active: definition('boolean', 'Active', { states: '{}' }),
    phone: definition('char', 'Phone', { readonly: true }),
    mobile: definition('char', 'Mobile', { readonly: true }),
    lang: definition('many2one', 'Language'),
    addresses: definition('one2many', 'Addresses'),
    customer_code: definition('char', 'Customer Code'),
    receivable: definition('numeric', 'Receivable', { readonly: true }),
    create_date: definition('timestamp', 'Created at', { readonly: true }),
    supplier_lead_time: definition('timedelta', 'Lead Time'),
    rank: definition('integer', 'Rank'),
    discount: definition('float', 'Discount'),
    limit: definition('numeric', 'Limit'),
    since: definition('date', 'Since'),
    vip: definition('boolean', 'VIP'),
    locked: definition('char', 'Locked', { states: JSON.stringify({ readonly: true }) }),
    channel: definition('selection', 'Channel', {
      selection: [
        [null, ''],
        ['phone', 'Phone'],
        ['email', 'E-Mail'],
      ],
    }),
    kind: definition('selection', 'Kind', { selection: 'get_kinds' }),
    broken: { string: 'No type' },
  },
  'party.party.fields_get',
);
const ADDRESS = parseFieldsGet(
  {
    street: definition('text', 'Street'),
    postal_code: definition('char', 'Postal Code'),
    city: definition('char', 'City'),
    country: definition('many2one', 'Country'),
    subdivision: definition('many2one', 'Subdivision'),
  },
  'party.address.fields_get',
);
const field = (name: string) => PARTY.get(name) as TrytonField;

describe('parseFieldsGet', () => {
  it('takes writability from readonly and from a constant readonly state, not from an expression', () => {
    expect(field('name').writable).toBe(true);
    expect(field('phone').writable).toBe(false);
    expect(field('locked').writable).toBe(false);
    expect(field('channel').selection).toEqual([
      [null, ''],
      ['phone', 'Phone'],
      ['email', 'E-Mail'],
    ]);
    expect(field('kind').selection).toBeNull();
    expect(PARTY.has('broken')).toBe(false);
  });

  it('refuses an answer that is no object of fields', () => {
    expect(() => parseFieldsGet([1, 2], 'party.party.fields_get')).toThrow(InvalidResponseError);
  });
});

describe('describeAccountFields', () => {
  const described = describeAccountFields(
    'customer',
    SUPPORTED_FIELDS.customer,
    new Map([
      ['party.party', PARTY],
      ['party.address', ADDRESS],
    ]),
  );
  const named = (name: string) => described.find((entry) => entry.name === name);

  it('labels canonical fields after the Tryton field they are read from', () => {
    expect(named('name')).toEqual({ name: 'name', label: 'Name', type: 'text', writable: true, custom: false });
    // party.phone is computed, but the connector writes the contact mechanism.
    expect(named('phone')).toMatchObject({ label: 'Phone', writable: true, custom: false });
    expect(named('postCode')).toMatchObject({ label: 'Postal Code' });
    expect(named('address2')).toMatchObject({ label: 'Street 2' });
    expect(named('languageCode')).toMatchObject({ label: 'Language', writable: true });
  });

  it('offers the other scalar fields as custom, typed, with options of a static selection', () => {
    expect(named('custom.customer_code')).toEqual({
      name: 'custom.customer_code',
      label: 'Customer Code',
      type: 'text',
      writable: true,
      custom: true,
    });
    expect(named('custom.receivable')).toMatchObject({ type: 'number', writable: false });
    expect(named('custom.code')).toMatchObject({ type: 'text', writable: false });
    expect(named('custom.mobile')).toMatchObject({ writable: false });
    expect(named('custom.since')).toMatchObject({ type: 'date' });
    expect(named('custom.vip')).toMatchObject({ type: 'boolean' });
    expect(named('custom.channel')).toMatchObject({
      type: 'enumeration',
      options: [
        { value: 'phone', label: 'Phone' },
        { value: 'email', label: 'E-Mail' },
      ],
    });
    expect(named('custom.kind')).not.toHaveProperty('options');
  });

  it('does not offer relations, timestamps, ids, active or the fields canonical ones are read from', () => {
    for (const name of ['lang', 'addresses', 'create_date', 'supplier_lead_time', 'id', 'active', 'name', 'phone'])
      expect(named(`custom.${name}`)).toBeUndefined();
  });
});

describe('custom values', () => {
  it('reads each type as text, a flag unset or 0 as false', () => {
    expect(readCustomValue('customer', field('customer_code'), ' C-1 ')).toBe('C-1');
    expect(readCustomValue('customer', field('customer_code'), null)).toBeNull();
    expect(readCustomValue('customer', field('receivable'), { __class__: 'Decimal', decimal: '12.50' })).toBe('12.50');
    expect(readCustomValue('customer', field('rank'), 3)).toBe('3');
    expect(readCustomValue('customer', field('vip'), 1)).toBe('true');
    expect(readCustomValue('customer', field('vip'), false)).toBe('false');
    expect(readCustomValue('customer', field('vip'), null)).toBe('false');
    expect(readCustomValue('customer', field('since'), { __class__: 'date', year: 2024, month: 2, day: 9 })).toBe(
      '2024-02-09',
    );
    expect(() => readCustomValue('customer', field('rank'), 'three')).toThrow(InvalidResponseError);
  });

  it('writes each type as trytond takes it', () => {
    expect(writeCustomValue('customer', field('rank'), '-4')).toBe(-4);
    expect(writeCustomValue('customer', field('rank'), null)).toBeNull();
    expect(writeCustomValue('customer', field('discount'), '2.5e-1')).toBe(0.25);
    expect(writeCustomValue('customer', field('limit'), '1000.10')).toEqual({
      __class__: 'Decimal',
      decimal: '1000.10',
    });
    expect(writeCustomValue('customer', field('vip'), 'True')).toBe(true);
    expect(writeCustomValue('customer', field('vip'), null)).toBe(false);
    expect(writeCustomValue('customer', field('since'), '2024-02-29')).toEqual({
      __class__: 'date',
      year: 2024,
      month: 2,
      day: 29,
    });
    expect(writeCustomValue('customer', field('channel'), 'email')).toBe('email');
    expect(writeCustomValue('customer', field('channel'), null)).toBeNull();
    expect(writeCustomValue('customer', field('kind'), 'anything')).toBe('anything');
  });

  it.each([
    ['rank', '1.5', 'a whole number'],
    ['discount', '0x10', 'a number'],
    ['limit', '1e3', 'a decimal number'],
    ['vip', 'yes', 'true or false'],
    ['since', '2023-02-29', 'a date (YYYY-MM-DD)'],
    ['channel', 'fax', "one of 'phone', 'email'"],
  ])('refuses %s = %s, naming the field and what it takes', (name, value, takes) => {
    expect(() => writeCustomValue('customer', field(name), value)).toThrow(
      new InvalidRequestError(`tryton: customer field 'custom.${name}' takes ${takes}, not '${value}'`),
    );
  });

  it('refuses a read-only or unknown custom field, and leaves canonical fields alone', () => {
    const offered = customFieldsOf('customer', PARTY);
    expect(customWrites('customer', offered, { name: 'X', 'custom.customer_code': 'C-2' })).toEqual({
      customer_code: 'C-2',
    });
    expect(() => customWrites('customer', offered, { 'custom.receivable': '1' })).toThrow(
      "tryton: customer field 'custom.receivable' is read-only in Tryton",
    );
    expect(() => customWrites('customer', offered, { 'custom.addresses': '1' })).toThrow(
      "tryton: customer has no field 'custom.addresses'",
    );
  });
});
