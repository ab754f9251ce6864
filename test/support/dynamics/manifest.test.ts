import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  DATAVERSE_MANIFEST_FILE,
  bodyViolations,
  dataverseAttribute,
  dataverseEntity,
  recordViolations,
} from './manifest';

describe('the Dataverse manifest', () => {
  it('is the vendored copy SOURCE.md names', () => {
    const sha = createHash('sha256')
      .update(gunzipSync(readFileSync(DATAVERSE_MANIFEST_FILE)))
      .digest('hex');
    expect(readFileSync(join(__dirname, 'spec', 'SOURCE.md'), 'utf8')).toContain(sha);
  });

  it('holds the account and contact tables by logical name and entity set', () => {
    expect(dataverseEntity('accounts').attributes).toHaveLength(154);
    expect(dataverseEntity('contact').attributes).toHaveLength(233);
    expect(dataverseAttribute('contact', 'lastname')).toMatchObject({ requiredLevel: 'ApplicationRequired' });
    expect(() => dataverseEntity('leads')).toThrow("no table 'leads'");
  });
});

describe('bodyViolations', () => {
  it('takes columns valid for the operation, annotations and a bind through a navigation property', () => {
    expect(
      bodyViolations('contact', 'POST', {
        firstname: 'Ada',
        lastname: 'Lovelace',
        'parentcustomerid_account@odata.bind': '/accounts(00000000-0000-0000-0000-000000000001)',
      }),
    ).toEqual([]);
    expect(bodyViolations('accounts', 'PATCH', { name: 'Fabrikam', telephone1: '+1', '@odata.etag': 'W/"1"' })).toEqual(
      [],
    );
  });

  it('catches a create-only column on update and an update-only column on create', () => {
    expect(bodyViolations('account', 'PATCH', { accountid: 'x', name: 'Fabrikam' })).toEqual([
      "PATCH accounts: 'accountid' is not valid for update",
    ]);
    expect(bodyViolations('account', 'POST', { statecode: 1 })).toEqual([
      "POST accounts: 'statecode' is not valid for create",
    ]);
  });

  it('catches a read-only column, an unknown one, a lookup by column name and an unknown navigation property', () => {
    expect(bodyViolations('contact', 'PATCH', { fullname: 'Ada Lovelace' })).toEqual([
      "PATCH contacts: 'fullname' is not valid for update",
    ]);
    expect(bodyViolations('contact', 'POST', { modifiedon: '2026-01-01T00:00:00Z' })).toEqual([
      "POST contacts: 'modifiedon' is not valid for create",
    ]);
    expect(bodyViolations('account', 'POST', { vatnumber: 'x' })).toEqual([
      "POST accounts: 'vatnumber' is not a column of account",
    ]);
    expect(bodyViolations('contact', 'POST', { parentcustomerid: 'x' })).toEqual([
      "POST contacts: 'parentcustomerid' is a lookup: set it with its navigation property and @odata.bind",
    ]);
    expect(bodyViolations('contact', 'POST', { 'parentcustomer@odata.bind': '/accounts(x)' })).toEqual([
      "POST contacts: 'parentcustomer' is not a navigation property of contact",
    ]);
    expect(bodyViolations('contact', 'POST', ['x'])).toEqual(['POST contacts: the body is not an object']);
  });
});

describe('recordViolations', () => {
  it('takes columns, lookups as _column_value and annotations', () => {
    expect(
      recordViolations('contact', {
        '@odata.etag': 'W/"5"',
        contactid: 'x',
        fullname: 'Ada Lovelace',
        _parentcustomerid_value: 'y',
        '_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname': 'account',
        modifiedon: '2026-01-01T00:00:00Z',
      }),
    ).toEqual([]);
  });

  it('catches a fixture column that does not exist and a lookup under its column name', () => {
    expect(recordViolations('account', { name: 'Fabrikam', email: 'x', _nothing_value: 'z' })).toEqual([
      "account: 'email' is not a column",
      "account: '_nothing_value' names no lookup column",
    ]);
    expect(recordViolations('contact', { parentcustomerid: 'x' })).toEqual([
      "contact: 'parentcustomerid' is a lookup: the Web API answers '_parentcustomerid_value'",
    ]);
  });
});
