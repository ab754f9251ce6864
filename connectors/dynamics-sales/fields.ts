/**
 * The Dataverse tables tandem syncs for Dynamics 365 Sales and the columns it reads and writes on
 * them: accounts as company contacts, contacts (parentcustomerid -> account) as person contacts.
 * Every column here is held to Microsoft's table reference pages (test/support/dynamics, via
 * mappers.test.ts): a default column is valid for create and for update.
 * https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/account
 * https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/contact
 */
import type { Contact, ContactField } from '../../src/core/model';

/** The Web API version every path is pinned to. */
export const API_PATH = '/api/data/v9.2';

/** The tables tandem syncs, by logical name. */
export type DataverseTable = 'account' | 'contact';
export const DATAVERSE_TABLES: readonly DataverseTable[] = ['account', 'contact'];

/** Each table's entity set (the Web API collection) and primary id column. */
export const TABLES = {
  account: { entitySet: 'accounts', idColumn: 'accountid' },
  contact: { entitySet: 'contacts', idColumn: 'contactid' },
} as const satisfies Record<DataverseTable, { entitySet: string; idColumn: string }>;

type ContactType = Contact['type'];

/** Canonical field -> column; `null` switches a default mapping off. */
export type ColumnMap = Partial<Record<ContactField, string | null>>;

/** Read-only columns every read asks for besides the mapped ones: the change time. */
export const SYSTEM_COLUMNS = ['modifiedon'] as const;

/** The lookup naming a person's account; read as `_parentcustomerid_value`, written through its navigation property. */
export const PARENT_COLUMN = 'parentcustomerid';
/** How the Web API answers a lookup column: `_<column>_value`. */
export const PARENT_VALUE = `_${PARENT_COLUMN}_value`;
/** The single-valued navigation property that binds a contact's parentcustomerid to an account. */
export const PARENT_ACCOUNT_BIND = 'parentcustomerid_account@odata.bind';

/** The columns a person's name is split over (lastname is ApplicationRequired, fullname read-only). */
export const PERSON_NAME_COLUMNS = ['firstname', 'lastname'] as const;

/** Address 1, the columns both tables share for a postal address and the means of contact. */
const SHARED_COLUMNS = {
  address: 'address1_line1',
  address2: 'address1_line2',
  postCode: 'address1_postalcode',
  city: 'address1_city',
  county: 'address1_stateorprovince',
  countryCode: 'address1_country',
  phone: 'telephone1',
  fax: 'fax',
  email: 'emailaddress1',
  homePage: 'websiteurl',
} as const satisfies ColumnMap;

/** The default account map. */
export const DEFAULT_ACCOUNT_MAP = { ...SHARED_COLUMNS, name: 'name' } as const satisfies ColumnMap;

/** The default contact map; `name` is split over firstname and lastname. */
export const DEFAULT_CONTACT_MAP = { ...SHARED_COLUMNS, mobile: 'mobilephone' } as const satisfies ColumnMap;

/** The table that holds a canonical contact type. */
export function tableOf(type: ContactType): DataverseTable {
  return type === 'company' ? 'account' : 'contact';
}

/** The canonical contact type a table holds. */
export function contactTypeOf(table: DataverseTable): ContactType {
  return table === 'account' ? 'company' : 'person';
}

/** A canonical contact id: `company-` or `person-` and the row's GUID. */
export const CONTACT_ID = /^(company|person)-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/** The canonical id of a row: `company-<accountid>` or `person-<contactid>` (no ':', see job ids). */
export function toContactId(table: DataverseTable, rowId: string): string {
  return `${contactTypeOf(table)}-${rowId.toLowerCase()}`;
}

/** Splits a canonical contact id into the table and the row's GUID; null when it is not one of ours. */
export function fromContactId(id: string): { table: DataverseTable; rowId: string } | null {
  const match = CONTACT_ID.exec(id);
  if (!match?.[1] || !match[2]) return null;
  return { table: tableOf(match[1] as ContactType), rowId: match[2].toLowerCase() };
}
