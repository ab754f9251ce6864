/** The Salesforce mappers: Accounts and Contacts to canonical contacts and back, pure. */
import {
  describeObjects,
  fieldsToSelect,
  isoTime,
  resolveMapping,
  splitPersonName,
  supportedFields,
  toContact,
  toSalesforceFields,
  withCustomFields,
} from './mappers';
import type { SObjectRecord } from './schemas';

const ACCOUNT_ID = '001000000000001AAA';
const CONTACT_ID = '003000000000001AAA';

const account = (fields: Record<string, unknown> = {}): SObjectRecord => ({
  attributes: { type: 'Account' },
  Id: ACCOUNT_ID,
  SystemModstamp: '2024-05-01T10:00:00.000+0000',
  Name: 'Fabrikam Ltd',
  BillingStreet: 'Keizersgracht 1',
  BillingCity: 'Amsterdam',
  BillingPostalCode: '1015 CJ',
  BillingCountry: 'NL',
  Phone: ' +31 20 555 0100 ',
  Website: '',
  ...fields,
});

describe('toContact', () => {
  const mapping = resolveMapping();

  test('an Account is a company contact with its billing address and normalised values', () => {
    const contact = toContact('Account', account(), mapping);
    expect(contact).toEqual({
      entity: 'contact',
      id: `company-${ACCOUNT_ID}`,
      type: 'company',
      companyId: null,
      fields: {
        name: 'Fabrikam Ltd',
        address: 'Keizersgracht 1',
        city: 'Amsterdam',
        postCode: '1015 CJ',
        countryCode: 'NL',
        phone: '+31 20 555 0100',
        homePage: null,
      },
      modifiedAt: '2024-05-01T10:00:00.000Z',
    });
  });

  test('a Contact is a person of its Account, its name joined from FirstName and LastName', () => {
    const record: SObjectRecord = {
      Id: CONTACT_ID,
      SystemModstamp: '2024-05-02T08:30:00.000+0000',
      AccountId: ACCOUNT_ID,
      FirstName: 'Anna van',
      LastName: 'Dijk',
      Email: 'anna@fabrikam.example',
      MobilePhone: null,
    };
    expect(toContact('Contact', record, mapping)).toMatchObject({
      id: `person-${CONTACT_ID}`,
      type: 'person',
      companyId: `company-${ACCOUNT_ID}`,
      fields: { name: 'Anna van Dijk', email: 'anna@fabrikam.example', mobile: null },
    });
  });

  test('field history gives a field its own time and its value before', () => {
    const history = [
      { Field: 'Phone', OldValue: null, NewValue: '+31 1', CreatedDate: '2024-04-01T09:00:00.000+0000' },
      { Field: 'Phone', OldValue: '+31 1', NewValue: '+31 2', CreatedDate: '2024-04-20T09:00:00.000+0000' },
      { Field: 'BillingAddress', OldValue: null, NewValue: null, CreatedDate: '2024-04-10T09:00:00.000+0000' },
    ];
    const contact = toContact('Account', account(), mapping, history);
    expect(contact.fieldModifiedAt).toEqual({
      phone: '2024-04-20T09:00:00.000Z',
      address: '2024-04-10T09:00:00.000Z',
      city: '2024-04-10T09:00:00.000Z',
      postCode: '2024-04-10T09:00:00.000Z',
      countryCode: '2024-04-10T09:00:00.000Z',
    });
    expect(contact.fieldPrevious).toEqual({ phone: { value: '+31 1', at: '2024-04-01T09:00:00.000Z' } });
  });

  test('a partial record leaves out the fields it does not carry', () => {
    const contact = toContact(
      'Account',
      { Id: ACCOUNT_ID, SystemModstamp: '2024-05-01T10:00:00Z', Phone: '1' },
      mapping,
    );
    expect(contact.fields).toEqual({ phone: '1' });
  });
});

describe('toSalesforceFields', () => {
  test('writes the mapped fields, clearing with null, and splits a person name with LastName required', () => {
    const mapping = resolveMapping();
    expect(toSalesforceFields('Account', { name: 'Contoso', phone: null, mobile: '1', email: 'x' }, mapping)).toEqual({
      Name: 'Contoso',
      Phone: null,
    });
    expect(toSalesforceFields('Contact', { name: 'Cher', email: 'c@example.com' }, mapping)).toEqual({
      FirstName: null,
      LastName: 'Cher',
      Email: 'c@example.com',
    });
    expect(splitPersonName('Anna van Dijk')).toEqual({ FirstName: 'Anna van', LastName: 'Dijk' });
  });

  test('state and country picklists move county and country to the code fields', () => {
    const mapping = resolveMapping({ stateAndCountryPicklists: true });
    expect(toSalesforceFields('Account', { countryCode: 'NL', county: 'NH' }, mapping)).toEqual({
      BillingCountryCode: 'NL',
      BillingStateCode: 'NH',
    });
    expect(fieldsToSelect('Contact', mapping)).toEqual(expect.arrayContaining(['MailingCountryCode', 'AccountId']));
  });

  test('the config overrides a field, switches one off, and custom fields join the objects that have them', () => {
    const base = resolveMapping({ fieldMap: { company: { vatRegistrationNo: 'VAT_Number__c', fax: null } } });
    const mapping = withCustomFields(base, { Account: ['Region__c'], Contact: [] });
    expect(
      toSalesforceFields('Account', { vatRegistrationNo: 'NL1', fax: '2', 'custom.Region__c': 'EU' }, mapping),
    ).toEqual({ VAT_Number__c: 'NL1', Region__c: 'EU' });
    expect(fieldsToSelect('Contact', mapping)).not.toContain('Region__c');
    expect(supportedFields(mapping)).toContain('vatRegistrationNo');
    expect(supportedFields(mapping)).not.toContain('custom.Region__c');
  });
});

describe('describeObjects', () => {
  test('names carried fields canonically, others custom, with active picklist values and writability', () => {
    const field = (name: string, extra: object = {}) => ({
      name,
      label: name,
      type: 'string',
      updateable: true,
      custom: false,
      picklistValues: [],
      ...extra,
    });
    const described = describeObjects(resolveMapping(), {
      Account: [
        field('Phone', { type: 'phone' }),
        field('Region__c', {
          type: 'picklist',
          custom: true,
          picklistValues: [
            { value: 'EU', label: 'Europe', active: true },
            { value: 'OLD', label: 'Old', active: false },
          ],
        }),
        field('SystemModstamp', { type: 'datetime', updateable: false }),
      ],
      Contact: [field('Phone', { updateable: false })],
    });
    expect(described).toEqual([
      { name: 'phone', label: 'Phone', type: 'text', writable: false, custom: false },
      {
        name: 'custom.Region__c',
        label: 'Region__c',
        type: 'enumeration',
        writable: true,
        options: [{ value: 'EU', label: 'Europe' }],
        custom: true,
      },
      { name: 'custom.SystemModstamp', label: 'SystemModstamp', type: 'date', writable: false, custom: true },
    ]);
  });

  test('reads Salesforce times with +0000 offsets', () => {
    expect(isoTime('2024-05-01T10:00:00.000+0000')).toBe('2024-05-01T10:00:00.000Z');
    expect(isoTime('garbage')).toBe('1970-01-01T00:00:00.000Z');
  });
});
