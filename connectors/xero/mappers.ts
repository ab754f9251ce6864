/**
 * Pure mappers between Xero contacts and accounts and the canonical model: the one place that
 * knows which Xero property holds which canonical field, as tables read both ways.
 */
import { normalizeValue, type Account, type AccountKind, type FieldValue, type SyncRecord } from '../../src/core/model';
import { InvalidRequestError } from '../kit/errors';
import type { XeroAccount, XeroAddress, XeroContact, XeroPhone } from './schemas';

/** The account kinds a Xero contact can be tracked as. */
export type ContactKind = Extract<AccountKind, 'customer' | 'vendor'>;
/** Both contact kinds, in a fixed order. */
export const CONTACT_KINDS: readonly ContactKind[] = ['customer', 'vendor'];

/** The address type canonical address fields live in: POBOX is the postal address Xero prints on invoices. */
const ADDRESS_TYPE = 'POBOX';

/** Canonical field -> Xero `Address` property (of the POBOX address). */
const ADDRESS_FIELDS = {
  address: 'AddressLine1',
  address2: 'AddressLine2',
  city: 'City',
  county: 'Region',
  postCode: 'PostalCode',
  countryCode: 'Country',
} as const satisfies Record<string, keyof XeroAddress>;

/** Canonical field -> Xero `PhoneType`. */
const PHONE_FIELDS = { phone: 'DEFAULT', fax: 'FAX' } as const;

/** Canonical field -> plain Xero contact property. */
const CONTACT_PROPERTIES = {
  name: 'Name',
  email: 'EmailAddress',
  vatRegistrationNo: 'TaxNumber',
  currencyCode: 'DefaultCurrency',
} as const satisfies Record<string, keyof XeroContact>;

/** Canonical field -> Xero account property, for bank accounts. */
const BANK_ACCOUNT_PROPERTIES = {
  name: 'Name',
  bankAccountNo: 'BankAccountNumber',
  currencyCode: 'CurrencyCode',
} as const satisfies Record<string, keyof XeroAccount>;

const CONTACT_FIELDS = [CONTACT_PROPERTIES, ADDRESS_FIELDS, PHONE_FIELDS].flatMap((table) => Object.keys(table));

/**
 * The canonical fields each entity reads and writes. `homePage` is left out: Xero's Website is
 * read-only through the API, and a field tandem cannot write would fail every write to it.
 */
export const SUPPORTED_FIELDS: Record<AccountKind, readonly string[]> = {
  customer: CONTACT_FIELDS,
  vendor: CONTACT_FIELDS,
  bankAccount: Object.keys(BANK_ACCOUNT_PROPERTIES),
};

/** What a Xero record says beyond the canonical fields; the engine reads it with `xeroInfo`. */
export interface XeroRecordInfo {
  /** ContactStatus (ACTIVE, ARCHIVED, GDPRREQUEST) or the account's Status. */
  status: string | null;
  /** For a merged contact: the id of the contact it was merged into, which tandem should follow. */
  mergedInto: string | null;
  /** The kinds the contact counts as (Xero's flags, the number prefix, the engine's relations). */
  kinds: readonly AccountKind[];
}

/** A canonical account with Xero's extension. */
export type XeroAccountRecord = Account & { xero: XeroRecordInfo };

/** The Xero extension of a record this connector returned, if any. */
export function xeroInfo(record: SyncRecord): XeroRecordInfo | undefined {
  return 'xero' in record ? (record as XeroAccountRecord).xero : undefined;
}

/** The canonical fields of a table, read from the Xero object that holds its properties. */
function readTable<Property extends string>(
  table: Readonly<Record<string, Property>>,
  source: Partial<Record<Property, unknown>> | undefined,
): Record<string, FieldValue> {
  return Object.fromEntries(
    Object.entries(table).map(([field, property]) => [field, normalizeValue(source?.[property])]),
  );
}

function inTable<Table extends object>(table: Table, field: string): field is Extract<keyof Table, string> {
  return field in table;
}

/** A phone as one text: country code, area code and number, as far as present. */
function phoneText(phone: XeroPhone): FieldValue {
  const parts = [phone.PhoneCountryCode, phone.PhoneAreaCode, phone.PhoneNumber].map((part) => normalizeValue(part));
  return normalizeValue(parts.filter((part) => part !== null).join(' '));
}

/** The epoch, for a record Xero sent without UpdatedDateUTC (it always sends one in practice). */
const EPOCH = new Date(0).toISOString();

/** Maps a Xero contact to a canonical customer or vendor. ARCHIVED and merged contacts stay records. */
export function contactToAccount(
  kind: ContactKind,
  contact: XeroContact,
  kinds: readonly AccountKind[],
): XeroAccountRecord {
  const address = contact.Addresses?.find((candidate) => candidate.AddressType === ADDRESS_TYPE);
  // Xero keeps one phone per PhoneType.
  const phones = Object.fromEntries(contact.Phones?.map((phone) => [phone.PhoneType, phoneText(phone)]) ?? []);
  const status = normalizeValue(contact.ContactStatus);
  const mergedInto = normalizeValue(contact.MergedToContactID);
  return {
    entity: kind,
    id: contact.ContactID,
    number: normalizeValue(contact.ContactNumber) ?? normalizeValue(contact.AccountNumber),
    fields: {
      ...readTable(CONTACT_PROPERTIES, contact),
      ...readTable(ADDRESS_FIELDS, address),
      ...readTable(PHONE_FIELDS, phones),
    },
    modifiedAt: contact.UpdatedDateUTC ?? EPOCH,
    mergedInto,
    archived: status === 'ARCHIVED',
    xero: { status, mergedInto, kinds },
  };
}

/** Maps a Xero account of type BANK to a canonical bank account. */
export function accountToBankAccount(account: XeroAccount): XeroAccountRecord {
  return {
    entity: 'bankAccount',
    id: account.AccountID,
    number: normalizeValue(account.Code),
    fields: readTable(BANK_ACCOUNT_PROPERTIES, account),
    modifiedAt: account.UpdatedDateUTC ?? EPOCH,
    xero: { status: normalizeValue(account.Status), mergedInto: null, kinds: ['bankAccount'] },
  };
}

function unknownField(entity: AccountKind, field: string): never {
  throw new InvalidRequestError(`xero: ${entity} has no writable field '${field}'`);
}

/**
 * Canonical fields -> the properties of a Xero contact request. Null is written as '' (Xero clears
 * a property sent empty), except the currency: Xero takes only a code, so an empty one is not
 * sent. A phone is written whole into PhoneNumber with area and country codes cleared, so reading
 * it back gives the value written. Only the POBOX address is sent, with the lines that changed.
 */
export function contactBody(kind: ContactKind, fields: Record<string, FieldValue>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const address: Record<string, string> = {};
  const phones: Record<string, string>[] = [];
  for (const [field, raw] of Object.entries(fields)) {
    const value = normalizeValue(raw) ?? '';
    if (field === 'currencyCode' && value === '') continue;
    if (inTable(CONTACT_PROPERTIES, field)) body[CONTACT_PROPERTIES[field]] = value;
    else if (inTable(ADDRESS_FIELDS, field)) address[ADDRESS_FIELDS[field]] = value;
    else if (inTable(PHONE_FIELDS, field))
      phones.push({ PhoneType: PHONE_FIELDS[field], PhoneNumber: value, PhoneAreaCode: '', PhoneCountryCode: '' });
    else unknownField(kind, field);
  }
  if (Object.keys(address).length > 0) body.Addresses = [{ AddressType: ADDRESS_TYPE, ...address }];
  if (phones.length > 0) body.Phones = phones;
  return body;
}

/** Canonical fields -> the properties of a Xero bank account request; an empty currency is not sent. */
export function bankAccountBody(fields: Record<string, FieldValue>): Record<string, string> {
  const body: Record<string, string> = {};
  for (const [field, raw] of Object.entries(fields)) {
    if (!inTable(BANK_ACCOUNT_PROPERTIES, field)) unknownField('bankAccount', field);
    const value = normalizeValue(raw);
    if (field !== 'currencyCode' || value !== null) body[BANK_ACCOUNT_PROPERTIES[field]] = value ?? '';
  }
  return body;
}
