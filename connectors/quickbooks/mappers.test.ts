/** The pure mappers, both ways; every fixture read and every body written is held to Intuit's schema. */
import { checkQboEntity } from '../../test/support/quickbooks/qbo-schema';
import { accountToBankAccount, bankAccountBody, nameBody, nameToAccount, qboTime, SUPPORTED_FIELDS } from './mappers';
import { qboAccountSchema, qboCustomerSchema, qboVendorSchema } from './schemas';

/** A fixture as QBO sends it, checked against the manifest before it is parsed. */
function fixture<T>(entity: string, value: T): T {
  expect(checkQboEntity(entity, value)).toEqual([]);
  return value;
}

const customer = fixture('Customer', {
  Id: '58',
  SyncToken: '3',
  domain: 'QBO',
  sparse: false,
  MetaData: { CreateTime: '2026-11-30T09:00:00-08:00', LastUpdatedTime: '2026-12-01T10:15:30-08:00' },
  DisplayName: ' Van Dijk Installatietechniek ',
  CompanyName: 'Van Dijk Installatietechniek B.V.',
  Active: true,
  PrimaryPhone: { FreeFormNumber: '+31 20 624 1180' },
  Fax: { FreeFormNumber: '' },
  PrimaryEmailAddr: { Address: 'administratie@vandijk.example' },
  WebAddr: { URI: 'https://vandijk.example' },
  BillAddr: { Id: '93', Line1: 'Prinsengracht 1', City: 'Amsterdam', PostalCode: '1016 DV', Country: 'NL' },
  CurrencyRef: { value: 'EUR', name: 'Euro' },
  PrimaryTaxIdentifier: 'NL123456789B01',
});

describe('Customer and Vendor -> customer and vendor', () => {
  test('reads the fields, the SyncToken as version and LastUpdatedTime as UTC', () => {
    const account = nameToAccount('customer', qboCustomerSchema.parse(customer));
    expect(account).toEqual({
      entity: 'customer',
      id: '58',
      number: null,
      fields: {
        name: 'Van Dijk Installatietechniek',
        address: 'Prinsengracht 1',
        address2: null,
        city: 'Amsterdam',
        county: null,
        postCode: '1016 DV',
        countryCode: 'NL',
        phone: '+31 20 624 1180',
        fax: null,
        email: 'administratie@vandijk.example',
        homePage: 'https://vandijk.example',
        currencyCode: 'EUR',
        vatRegistrationNo: 'NL123456789B01',
      },
      modifiedAt: '2026-12-01T18:15:30.000Z',
      version: '3',
      archived: false,
    });
    expect(Object.keys(account.fields).sort()).toEqual([...SUPPORTED_FIELDS.customer].sort());
  });

  test('an inactive vendor is archived, and its masked TaxIdentifier is not read', () => {
    const vendor = fixture('Vendor', {
      Id: '31',
      SyncToken: '0',
      MetaData: { LastUpdatedTime: '2026-12-01T10:15:30Z' },
      DisplayName: 'Brenner Werkzeugbau',
      Active: false,
      AcctNum: 'BR-7',
      TaxIdentifier: 'XXXXXX4400',
    });
    const account = nameToAccount('vendor', qboVendorSchema.parse(vendor));
    expect(account).toMatchObject({ entity: 'vendor', number: 'BR-7', archived: true, version: '0' });
    expect(account.fields).not.toHaveProperty('vatRegistrationNo');
    expect(Object.keys(account.fields).sort()).toEqual([...SUPPORTED_FIELDS.vendor].sort());
  });
});

describe('customer and vendor -> sparse Customer and Vendor bodies', () => {
  test('writes only the fields given, in Intuit nesting', () => {
    const body = nameBody('customer', { phone: '+31 20 000 0000', email: null, vatRegistrationNo: 'NL1' });
    expect(body).toEqual({
      PrimaryPhone: { FreeFormNumber: '+31 20 000 0000' },
      PrimaryEmailAddr: { Address: '' },
      PrimaryTaxIdentifier: 'NL1',
    });
    expect(checkQboEntity('Customer', { Id: '58', SyncToken: '3', sparse: true, ...body })).toEqual([]);
  });

  test('lays address fields over the current BillAddr, which QBO replaces whole', () => {
    const body = nameBody('vendor', { city: 'Utrecht', address2: null }, customer.BillAddr);
    expect(body).toEqual({
      BillAddr: {
        Id: '93',
        Line1: 'Prinsengracht 1',
        Line2: '',
        City: 'Utrecht',
        PostalCode: '1016 DV',
        Country: 'NL',
      },
    });
    expect(checkQboEntity('Vendor', body)).toEqual([]);
  });

  test('every field of a kind maps onto a property of its entity', () => {
    const all = (kind: 'customer' | 'vendor') =>
      Object.fromEntries(SUPPORTED_FIELDS[kind].map((field) => [field, field === 'name' ? 'A name' : 'x']));
    expect(checkQboEntity('Customer', nameBody('customer', all('customer')))).toEqual([]);
    expect(checkQboEntity('Vendor', nameBody('vendor', all('vendor')))).toEqual([]);
  });

  test('refuses an empty name, a colon in it and fields the kind does not have', () => {
    expect(() => nameBody('customer', { name: null })).toThrow(/cannot be empty/);
    expect(() => nameBody('customer', { name: 'Parent:Child' })).toThrow(/cannot contain ':'/);
    expect(() => nameBody('vendor', { vatRegistrationNo: 'DE1' })).toThrow(/has no field vatRegistrationNo/);
  });
});

describe('bank accounts', () => {
  test('an Account of type Bank reads as a bank account, and writes back sparse', () => {
    const raw = fixture('Account', {
      Id: '35',
      SyncToken: '1',
      MetaData: { LastUpdatedTime: '2026-12-01T10:15:30-08:00' },
      Name: 'Operating',
      AccountType: 'Bank',
      AccountSubType: 'Checking',
      AcctNum: '1010',
      Active: true,
      CurrencyRef: { value: 'USD' },
    });
    expect(accountToBankAccount(qboAccountSchema.parse(raw))).toEqual({
      entity: 'bankAccount',
      id: '35',
      number: '1010',
      fields: { name: 'Operating', currencyCode: 'USD' },
      modifiedAt: '2026-12-01T18:15:30.000Z',
      version: '1',
      archived: false,
    });
    const body = bankAccountBody({ name: 'Operating EUR' });
    expect(body).toEqual({ Name: 'Operating EUR' });
    expect(checkQboEntity('Account', body)).toEqual([]);
  });

  test('qboTime refuses what is not a time', () => {
    expect(() => qboTime('soon')).toThrow(/not a time/);
  });
});
