/** The pure mappers, both ways; the written bodies are checked against the Contact and Account schemas. */
import {
  accountToBankAccount,
  bankAccountBody,
  contactBody,
  contactToAccount,
  SUPPORTED_FIELDS,
  xeroInfo,
} from './mappers';
import { parseXeroDate, xeroAccountSchema, xeroContactSchema } from './schemas';
import { accountingValidator } from '../../test/support/xero/openapi-validator';

const ID = '5cc8cf28-567e-4d43-b287-687cfcaec47c';
const validator = accountingValidator();

describe('Xero dates', () => {
  it('parses /Date(ms+0000)/, /Date(ms)/ and zone-less ISO as UTC', () => {
    expect(parseXeroDate('/Date(1503348544227+0000)/')).toBe('2017-08-21T20:49:04.227Z');
    expect(parseXeroDate('/Date(1551399323399)/')).toBe('2019-03-01T00:15:23.399Z');
    expect(parseXeroDate('2024-06-21T01:15:39.902')).toBe('2024-06-21T01:15:39.902Z');
    expect(parseXeroDate('soon')).toBeNull();
  });
});

describe('contact -> customer or vendor', () => {
  const raw = {
    ContactID: ID,
    ContactNumber: 'C-0001',
    AccountNumber: 'ACC-1',
    ContactStatus: 'ACTIVE',
    Name: ' Katherine Warren ',
    EmailAddress: 'kat.warren@clampett.com',
    TaxNumber: '',
    DefaultCurrency: 'USD',
    Website: 'https://clampett.example',
    Addresses: [
      { AddressType: 'STREET', AddressLine1: '1 Main St', City: 'Nowhere' },
      {
        AddressType: 'POBOX',
        AddressLine1: 'PO Box 7',
        AddressLine2: '',
        City: 'Palo Alto',
        Region: 'CA',
        PostalCode: '94020',
        Country: 'United States',
      },
    ],
    Phones: [
      { PhoneType: 'DDI', PhoneNumber: '' },
      { PhoneType: 'DEFAULT', PhoneNumber: '847-1294', PhoneAreaCode: '(626)', PhoneCountryCode: '' },
      { PhoneType: 'FAX', PhoneNumber: '', PhoneAreaCode: '', PhoneCountryCode: '' },
      { PhoneType: 'MOBILE', PhoneNumber: '021 555 0100' },
    ],
    UpdatedDateUTC: '/Date(1503348544227+0000)/',
    IsCustomer: true,
  };

  it('maps the POBOX address, DEFAULT and FAX phones and the plain properties; empty is null', () => {
    expect(validator.validateSchema('Contact', raw)).toEqual([]);
    const record = contactToAccount('customer', xeroContactSchema.parse(raw), ['customer']);
    expect(record).toEqual({
      entity: 'customer',
      id: ID,
      number: 'C-0001',
      fields: {
        name: 'Katherine Warren',
        email: 'kat.warren@clampett.com',
        vatRegistrationNo: null,
        currencyCode: 'USD',
        address: 'PO Box 7',
        address2: null,
        city: 'Palo Alto',
        county: 'CA',
        postCode: '94020',
        countryCode: 'United States',
        phone: '(626) 847-1294',
        fax: null,
      },
      modifiedAt: '2017-08-21T20:49:04.227Z',
      mergedInto: null,
      archived: false,
      xero: { status: 'ACTIVE', mergedInto: null, kinds: ['customer'] },
    });
    expect(Object.keys(record.fields).sort()).toEqual([...SUPPORTED_FIELDS.customer].sort());
  });

  it('falls back to AccountNumber for the number and keeps a merge target', () => {
    const record = contactToAccount(
      'vendor',
      xeroContactSchema.parse({
        ContactID: ID,
        AccountNumber: 'ACC-1',
        ContactStatus: 'ARCHIVED',
        MergedToContactID: '3ec601ad-eddc-4ccb-a8ac-736e88293b1b',
      }),
      [],
    );
    expect(record.number).toBe('ACC-1');
    expect(xeroInfo(record)).toEqual({
      status: 'ARCHIVED',
      mergedInto: '3ec601ad-eddc-4ccb-a8ac-736e88293b1b',
      kinds: [],
    });
  });
});

describe('canonical fields -> Xero', () => {
  it('writes a contact body the document accepts, clearing with empty strings but never the currency', () => {
    const body = contactBody('customer', {
      name: 'Adatum',
      address: 'PO Box 9',
      city: null,
      phone: '+44 20 7946 0000',
      fax: null,
      email: null,
      currencyCode: null,
      vatRegistrationNo: 'GB123',
    });
    expect(body).toEqual({
      Name: 'Adatum',
      EmailAddress: '',
      TaxNumber: 'GB123',
      Addresses: [{ AddressType: 'POBOX', AddressLine1: 'PO Box 9', City: '' }],
      Phones: [
        { PhoneType: 'DEFAULT', PhoneNumber: '+44 20 7946 0000', PhoneAreaCode: '', PhoneCountryCode: '' },
        { PhoneType: 'FAX', PhoneNumber: '', PhoneAreaCode: '', PhoneCountryCode: '' },
      ],
    });
    expect(validator.validateSchema('Contact', body, { strict: true })).toEqual([]);
    // What is written reads back as the same canonical values.
    const back = contactToAccount('customer', xeroContactSchema.parse({ ContactID: ID, ...body }), []);
    expect(back.fields).toMatchObject({
      name: 'Adatum',
      address: 'PO Box 9',
      city: null,
      phone: '+44 20 7946 0000',
      fax: null,
      vatRegistrationNo: 'GB123',
    });
  });

  it('refuses a field Xero cannot write', () => {
    expect(() => contactBody('vendor', { homePage: 'https://x.example' })).toThrow(/no writable field 'homePage'/);
    expect(() => bankAccountBody({ iban: 'GB00' })).toThrow(/no writable field 'iban'/);
  });

  it('maps bank accounts both ways', () => {
    const body = bankAccountBody({ name: 'Operating', bankAccountNo: '12-3456-7890123-00', currencyCode: 'NZD' });
    expect(validator.validateSchema('Account', { ...body, Code: '090', Type: 'BANK' }, { strict: true })).toEqual([]);
    const account = xeroAccountSchema.parse({
      AccountID: ID,
      Code: '090',
      Type: 'BANK',
      Status: 'ACTIVE',
      ...body,
      UpdatedDateUTC: '/Date(1573755038314)/',
    });
    expect(accountToBankAccount(account)).toMatchObject({
      entity: 'bankAccount',
      number: '090',
      fields: { name: 'Operating', bankAccountNo: '12-3456-7890123-00', currencyCode: 'NZD' },
      modifiedAt: '2019-11-14T18:10:38.314Z',
    });
  });
});
