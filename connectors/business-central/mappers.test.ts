import { InvalidRequestError } from '../kit/errors';
import { describeAccountFields, FIELD_MAP, fromFields, toAccount, toContact } from './mappers';
import type { BcRecord } from './schemas';

const customer: BcRecord = {
  '@odata.etag': 'W/"JzE7Jw=="',
  id: '130bbd17-dbb9-4790-9b12-2b0e9c9d22c3',
  number: 'C00010',
  displayName: 'Adatum Corporation',
  addressLine1: 'Station Street, 51',
  addressLine2: '',
  city: 'Miami',
  state: 'FL',
  country: 'US',
  postalCode: '37125',
  phoneNumber: ' ',
  email: 'robert.townes@contoso.com',
  website: '',
  taxRegistrationNumber: '',
  currencyCode: 'USD',
  salespersonCode: 'JR',
  lastModifiedDateTime: '2024-05-01T12:00:00Z',
};

describe('mappers', () => {
  it('maps a BC customer to an account, empty text as null', () => {
    expect(toAccount('customer', customer)).toEqual({
      entity: 'customer',
      id: customer.id,
      number: 'C00010',
      modifiedAt: '2024-05-01T12:00:00Z',
      version: 'W/"JzE7Jw=="',
      fields: {
        name: 'Adatum Corporation',
        address: 'Station Street, 51',
        address2: null,
        postCode: '37125',
        city: 'Miami',
        county: 'FL',
        countryCode: 'US',
        phone: null,
        email: 'robert.townes@contoso.com',
        homePage: null,
        vatRegistrationNo: null,
        currencyCode: 'USD',
        salespersonCode: 'JR',
      },
    });
  });

  it('maps canonical fields to BC properties, null as empty string', () => {
    expect(
      fromFields('customer', { name: 'Adatum', county: null, salespersonCode: 'PS', vatRegistrationNo: 'US123' }),
    ).toEqual({
      displayName: 'Adatum',
      state: '',
      salespersonCode: 'PS',
      taxRegistrationNumber: 'US123',
    });
    expect(fromFields('bankAccount', { name: 'Main', bankAccountNo: '123', iban: null })).toEqual({
      displayName: 'Main',
      bankAccountNumber: '123',
      iban: '',
    });
  });

  it('round-trips every supported field of each entity', () => {
    for (const entity of ['customer', 'vendor', 'bankAccount'] as const) {
      const fields = Object.fromEntries(Object.keys(FIELD_MAP[entity]).map((field) => [field, `${field}-value`]));
      const raw = {
        id: customer.id,
        lastModifiedDateTime: customer.lastModifiedDateTime,
        ...fromFields(entity, fields),
      };
      expect(toAccount(entity, raw).fields).toEqual(fields);
    }
  });

  it('refuses fields an entity does not have', () => {
    expect(() => fromFields('vendor', { salespersonCode: 'JR' })).toThrow(InvalidRequestError);
    expect(() => fromFields('bankAccount', { email: 'a@b.c' })).toThrow(InvalidRequestError);
  });

  it('maps BC contacts by type and resolves the company of a person', () => {
    const company = {
      id: 'c1',
      number: 'CT00010',
      type: 'Company',
      displayName: 'Fabrikam',
      lastModifiedDateTime: '2024-05-01T12:00:00Z',
    };
    const person = {
      id: 'p1',
      number: 'CT00020',
      type: 'Person',
      displayName: 'Jim Olive',
      companyNumber: 'CT00010',
      mobilePhoneNumber: '+1 555',
      lastModifiedDateTime: '2024-05-01T12:00:00Z',
    };
    expect(toContact(company)).toMatchObject({
      entity: 'contact',
      type: 'company',
      companyId: null,
      fields: { name: 'Fabrikam' },
    });
    expect(toContact(person, new Map([['CT00010', 'c1']]))).toMatchObject({
      type: 'person',
      companyId: 'c1',
      fields: { name: 'Jim Olive', mobile: '+1 555' },
    });
    expect(toContact(person)).toMatchObject({ companyId: null });
  });
});

describe('custom properties', () => {
  const raw = {
    id: 'c0ffee00-0000-4000-8000-000000000001',
    number: '10000',
    displayName: 'Adatum Corporation',
    blocked: 'Ship',
    creditLimit: 2500,
    taxLiable: true,
    lastModifiedDateTime: '2024-05-01T10:00:00Z',
  };

  it('reads the properties a mapping names as custom fields, numbers and booleans spelled out', () => {
    const account = toAccount('customer', raw, ['blocked', 'creditLimit', 'taxLiable', 'paymentTermsId']);
    expect(account.fields).toMatchObject({
      'custom.blocked': 'Ship',
      'custom.creditLimit': '2500',
      'custom.taxLiable': 'true',
      'custom.paymentTermsId': null,
    });
  });

  it("writes them as the property's JSON type, and refuses what BC would", () => {
    expect(
      fromFields('customer', { 'custom.creditLimit': '1000.5', 'custom.taxLiable': 'false', 'custom.blocked': null }),
    ).toEqual({
      creditLimit: 1000.5,
      taxLiable: false,
      blocked: ' ',
    });
    expect(() => fromFields('customer', { 'custom.blocked': 'Never' })).toThrow(
      "takes one of ' ', 'Ship', 'Invoice', 'All'",
    );
    expect(() => fromFields('customer', { 'custom.balanceDue': '1' })).toThrow("property 'balanceDue' is read-only");
    expect(() => fromFields('customer', { 'custom.shoeSize': '42' })).toThrow("customer has no property 'shoeSize'");
    expect(() => fromFields('customer', { 'custom.taxLiable': 'yes' })).toThrow('takes true or false');
  });

  it('reads and writes an unset reference as BC keeps it, the empty GUID, and refuses text that is no GUID', () => {
    const empty = '00000000-0000-0000-0000-000000000000';
    const terms = '3bb5b4b6-ea4c-43ca-ba1c-3b69e29a6668';
    expect(toAccount('customer', { ...raw, paymentTermsId: empty }, ['paymentTermsId']).fields).toMatchObject({
      'custom.paymentTermsId': null,
    });
    expect(fromFields('customer', { 'custom.paymentTermsId': null, 'custom.currencyId': terms })).toEqual({
      paymentTermsId: empty,
      currencyId: terms,
    });
    expect(() => fromFields('vendor', { 'custom.paymentTermsId': '30 DAYS' })).toThrow('takes a GUID');
  });

  it('describes each kind: canonical fields by their property, the rest as custom, with editability and options', () => {
    const fields = new Map(describeAccountFields('customer').map((field) => [field.name, field]));
    expect(fields.get('name')).toMatchObject({ custom: false, label: 'Display Name', writable: true });
    expect(fields.get('custom.blocked')).toMatchObject({
      custom: true,
      type: 'enumeration',
      options: [' ', 'Ship', 'Invoice', 'All'].map((value) => ({ value, label: value })),
    });
    expect(fields.get('custom.balanceDue')).toMatchObject({ writable: false, type: 'number' });
    expect(fields.has('custom.id')).toBe(false);
    expect(describeAccountFields('vendor').find((field) => field.name === 'custom.blocked')?.options).toHaveLength(3);
  });
});
