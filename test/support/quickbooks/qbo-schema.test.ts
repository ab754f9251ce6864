/** The QuickBooks schema checker catches what Intuit's schema does not allow, and passes what it does. */
import { checkQboBody, checkQboEntity, qboFact } from './qbo-schema';

describe('the QuickBooks schema checker', () => {
  const customer = {
    Id: '58',
    SyncToken: '2',
    MetaData: { CreateTime: '2026-12-01T10:00:00-08:00', LastUpdatedTime: '2026-12-02T11:30:00-08:00' },
    DisplayName: 'Van Dijk Installatietechniek',
    CompanyName: 'Van Dijk Installatietechniek B.V.',
    Active: true,
    PrimaryPhone: { FreeFormNumber: '+31 20 624 1180' },
    PrimaryEmailAddr: { Address: 'administratie@vandijk.example' },
    WebAddr: { URI: 'https://vandijk.example' },
    BillAddr: { Line1: 'Prinsengracht 1', City: 'Amsterdam', PostalCode: '1016 DV', Country: 'NL' },
    CurrencyRef: { value: 'EUR', name: 'Euro' },
    domain: 'QBO',
    sparse: false,
  };

  test('passes a customer as Intuit documents it, in an entity envelope and a query answer', () => {
    expect(checkQboEntity('Customer', customer)).toEqual([]);
    expect(checkQboBody({ Customer: customer, time: '2026-12-02T11:30:00.000-08:00' })).toEqual([]);
    expect(checkQboBody({ QueryResponse: { Customer: [customer], startPosition: 1, maxResults: 1 } })).toEqual([]);
    expect(checkQboBody({ CDCResponse: [{ QueryResponse: [{ Customer: [customer] }] }] })).toEqual([]);
  });

  test('catches a property the schema does not have', () => {
    expect(checkQboEntity('Customer', { ...customer, Email: 'a@b.example' })).toEqual([
      'Customer.Email: not in the schema',
    ]);
    expect(checkQboEntity('Customer', { ...customer, BillAddr: { Street: 'Prinsengracht 1' } })).toEqual([
      'Customer.BillAddr.Street: not in the schema',
    ]);
  });

  test('catches a wrong nesting: a value for an object, an object for a value, a list for one', () => {
    expect(checkQboEntity('Customer', { PrimaryEmailAddr: 'a@b.example' })).toEqual([
      'Customer.PrimaryEmailAddr: expected an object (EmailAddress), got "a@b.example"',
    ]);
    expect(checkQboEntity('Customer', { DisplayName: { value: 'Van Dijk' } })).toEqual([
      'Customer.DisplayName: expected a value (xs:string), got an object',
    ]);
    expect(checkQboEntity('Customer', { PrimaryPhone: [{ FreeFormNumber: '1' }] })).toEqual([
      'Customer.PrimaryPhone: expected one TelephoneNumber, got a list',
    ]);
    // Address below the e-mail object, not beside it.
    expect(checkQboEntity('Customer', { PrimaryEmailAddr: { Address: { Address: 'a@b.example' } } })).toHaveLength(1);
  });

  test('catches wrong types, enum spellings and envelopes', () => {
    expect(checkQboEntity('Customer', { Active: 'yes' })).toEqual([
      'Customer.Active: expected a boolean (xs:boolean), got "yes"',
    ]);
    expect(checkQboEntity('Account', { AccountType: 'BANK' })).toHaveLength(1);
    expect(checkQboEntity('Account', { AccountType: 'Bank', Name: 'Operating' })).toEqual([]);
    expect(checkQboBody({ Customers: [customer] })).toEqual(['body.Customers: not in the schema']);
    expect(checkQboBody({ BatchItemRequest: [{ bId: '1', operation: 'upsert', Customer: customer }] })).toHaveLength(1);
    expect(checkQboBody({ BatchItemRequest: [{ bId: '1', operation: 'update', Customer: customer }] })).toEqual([]);
  });

  test('reads the facts, such as the webhook test vector', () => {
    expect(qboFact('webhook.signature.testVector')).toMatchObject({
      testVector: { verifierToken: expect.any(String) },
    });
    expect(() => qboFact('no.such.fact')).toThrow(/no fact/);
  });
});
