/** The Dynamics 365 Sales mappers: Dataverse rows to canonical contacts and back, pure, held to Microsoft's table pages. */
import { bodyViolations, dataverseAttribute, recordViolations } from '../../test/support/dynamics/manifest';
import { DATAVERSE_TABLES, fromContactId, toContactId } from './fields';
import {
  columnsToSelect,
  odataString,
  resolveMapping,
  searchFilter,
  splitDeltaRows,
  splitPersonName,
  supportedFields,
  toContact,
  toDataverseColumns,
} from './mappers';
import type { DataverseRow } from './schemas';

const ACCOUNT_ID = '8a3c5e10-1b2d-4e6f-9a0b-1c2d3e4f5a01';
const CONTACT_ID = '8a3c5e10-1b2d-4e6f-9a0b-1c2d3e4f5a02';

const accountRow: DataverseRow = {
  '@odata.etag': 'W/"915244"',
  accountid: ACCOUNT_ID,
  modifiedon: '2026-05-01T10:00:00Z',
  name: 'Fabrikam Ltd',
  address1_line1: 'Keizersgracht 1',
  address1_city: 'Amsterdam',
  address1_postalcode: '1015 CJ',
  address1_country: 'NL',
  telephone1: ' +31 20 555 0100 ',
  websiteurl: '',
};

const contactRow: DataverseRow = {
  '@odata.etag': 'W/"915300"',
  contactid: CONTACT_ID,
  modifiedon: '2026-05-02T08:30:00Z',
  firstname: 'Anna van',
  lastname: 'Dijk',
  fullname: 'Anna van Dijk',
  emailaddress1: 'anna@fabrikam.example',
  mobilephone: '+31 6 1234 5678',
  _parentcustomerid_value: ACCOUNT_ID,
  '_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname': 'account',
};

describe('the fixtures', () => {
  test('carry only real columns of their tables', () => {
    expect(recordViolations('account', accountRow)).toEqual([]);
    expect(recordViolations('contact', contactRow)).toEqual([]);
  });
});

describe('the default mapping', () => {
  const mapping = resolveMapping();

  test('names columns valid for create and for update on both tables', () => {
    for (const table of DATAVERSE_TABLES)
      for (const column of [...mapping[table].values()].flat())
        expect([table, column, dataverseAttribute(table, column)]).toEqual([
          table,
          column,
          expect.objectContaining({ isValidForCreate: true, isValidForUpdate: true }),
        ]);
  });

  test('selects readable columns: the id, modifiedon, the parent lookup and every mapped column', () => {
    const select = columnsToSelect('contact', mapping);
    expect(select.slice(0, 3)).toEqual(['contactid', 'modifiedon', '_parentcustomerid_value']);
    expect(recordViolations('contact', Object.fromEntries(select.map((column) => [column, null])))).toEqual([]);
    expect(
      recordViolations('account', Object.fromEntries(columnsToSelect('account', mapping).map((c) => [c, null]))),
    ).toEqual([]);
  });

  test('reads and writes the NAV fields both tables have, and mobile', () => {
    expect(supportedFields(mapping).sort()).toEqual(
      [
        'address',
        'address2',
        'city',
        'countryCode',
        'county',
        'email',
        'fax',
        'homePage',
        'mobile',
        'name',
        'phone',
        'postCode',
      ].sort(),
    );
  });
});

describe('toContact', () => {
  const mapping = resolveMapping();

  test('an account is a company contact with address 1, its etag as version and normalised values', () => {
    expect(toContact('account', accountRow, mapping)).toEqual({
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
      modifiedAt: '2026-05-01T10:00:00.000Z',
      version: 'W/"915244"',
    });
  });

  test('a contact is a person of its parentcustomerid account, its name joined from firstname and lastname', () => {
    expect(toContact('contact', contactRow, mapping)).toMatchObject({
      id: `person-${CONTACT_ID}`,
      type: 'person',
      companyId: `company-${ACCOUNT_ID}`,
      fields: { name: 'Anna van Dijk', email: 'anna@fabrikam.example', mobile: '+31 6 1234 5678' },
    });
  });

  test('a contact whose parentcustomerid is another contact, or none, belongs to no company', () => {
    const parentContact = {
      ...contactRow,
      '_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname': 'contact',
    };
    expect(recordViolations('contact', parentContact)).toEqual([]);
    expect(toContact('contact', parentContact, mapping).companyId).toBeNull();
    expect(toContact('contact', { ...contactRow, _parentcustomerid_value: null }, mapping).companyId).toBeNull();
  });

  test('leaves out columns the answer does not carry, and reads an unreadable time as the epoch', () => {
    const partial = { accountid: ACCOUNT_ID, name: 'Fabrikam Ltd', modifiedon: 'yesterday' };
    expect(toContact('account', partial, mapping)).toEqual({
      entity: 'contact',
      id: `company-${ACCOUNT_ID}`,
      type: 'company',
      companyId: null,
      fields: { name: 'Fabrikam Ltd' },
      modifiedAt: '1970-01-01T00:00:00.000Z',
    });
  });
});

describe('toDataverseColumns', () => {
  const mapping = resolveMapping();

  test('writes mapped columns only, empty values as null, valid for create and update', () => {
    const body = toDataverseColumns(
      'account',
      { name: 'Fabrikam', phone: '', mobile: '+1', vatRegistrationNo: 'NL1' },
      mapping,
    );
    expect(body).toEqual({ name: 'Fabrikam', telephone1: null });
    expect(bodyViolations('account', 'POST', body)).toEqual([]);
    expect(bodyViolations('account', 'PATCH', body)).toEqual([]);
  });

  test("splits a person's name and binds the company through parentcustomerid_account", () => {
    const body = toDataverseColumns(
      'contact',
      { name: 'Anna van Dijk', email: 'a@x.example' },
      mapping,
      `company-${ACCOUNT_ID}`,
    );
    expect(body).toEqual({
      firstname: 'Anna van',
      lastname: 'Dijk',
      emailaddress1: 'a@x.example',
      'parentcustomerid_account@odata.bind': `/accounts(${ACCOUNT_ID})`,
    });
    expect(bodyViolations('contact', 'POST', body)).toEqual([]);
    expect(bodyViolations('contact', 'PATCH', body)).toEqual([]);
  });

  test('a config that maps a field onto a read-only column is caught by the manifest', () => {
    const body = toDataverseColumns('contact', { name: 'Anna' }, resolveMapping({ person: { name: 'fullname' } }));
    expect(body).toEqual({ fullname: 'Anna' });
    expect(bodyViolations('contact', 'PATCH', body)).toEqual(["PATCH contacts: 'fullname' is not valid for update"]);
  });
});

describe('names and ids', () => {
  test('a single word is the last name, which a contact requires', () => {
    expect(splitPersonName('Cher')).toEqual({ firstname: null, lastname: 'Cher' });
    expect(splitPersonName(null)).toEqual({ firstname: null, lastname: null });
  });

  test('canonical ids carry the table and the GUID, in lower case', () => {
    expect(toContactId('account', ACCOUNT_ID.toUpperCase())).toBe(`company-${ACCOUNT_ID}`);
    expect(fromContactId(`person-${CONTACT_ID}`)).toEqual({ table: 'contact', rowId: CONTACT_ID });
    expect(fromContactId('person-003000000000001AAA')).toBeNull();
  });
});

describe('delta pages and search', () => {
  test('deleted rows ($deletedEntity) become ids, the others stay rows', () => {
    const deleted = {
      '@odata.context': 'https://org.example/api/data/v9.2/$metadata#accounts/$deletedEntity',
      id: ACCOUNT_ID.toUpperCase(),
      reason: 'deleted',
    };
    expect(splitDeltaRows([accountRow, deleted])).toEqual({ changed: [accountRow], deleted: [ACCOUNT_ID] });
  });

  test('a search word goes into contains() with its quotes doubled', () => {
    const mapping = resolveMapping();
    expect(odataString("O'Brien")).toBe("'O''Brien'");
    expect(searchFilter('account', "O'Brien", mapping)).toBe(
      "contains(name,'O''Brien') or contains(emailaddress1,'O''Brien')",
    );
    expect(searchFilter('contact', 'anna', mapping)).toBe(
      "contains(fullname,'anna') or contains(emailaddress1,'anna')",
    );
  });
});
