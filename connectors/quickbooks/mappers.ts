/**
 * Pure mappers between QuickBooks Online's Customers, Vendors and bank Accounts and the canonical
 * model: the one place that knows which QBO property holds which canonical field, as tables read
 * both ways. Writes are sparse: only the properties of the fields given are sent.
 * https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/customer
 */
import { normalizeValue, type Account, type AccountKind, type FieldValue } from '../../src/core/model';
import { InvalidRequestError } from '../kit/errors';
import type { QboAccount, QboAddress, QboName } from './schemas';

/** The account kinds that are QBO names (Customer, Vendor). */
export type NameKind = Extract<AccountKind, 'customer' | 'vendor'>;

/** The QBO entity of each account kind. */
export const QBO_ENTITY = { customer: 'Customer', vendor: 'Vendor', bankAccount: 'Account' } as const;

/** Canonical field -> BillAddr property: the address QBO prints on invoices and bills. */
const ADDRESS_FIELDS = {
  address: 'Line1',
  address2: 'Line2',
  city: 'City',
  county: 'CountrySubDivisionCode',
  postCode: 'PostalCode',
  countryCode: 'Country',
} as const satisfies Record<string, keyof QboAddress>;

/** Canonical field -> the TelephoneNumber property whose FreeFormNumber holds it. */
const PHONE_FIELDS = { phone: 'PrimaryPhone', fax: 'Fax' } as const;

/**
 * The canonical fields of customers and vendors. The tax id is the customer's
 * PrimaryTaxIdentifier; a vendor's TaxIdentifier is left out, as QBO answers it masked
 * (XXXXXX1234), which would read as a change every time.
 */
const NAME_FIELDS = [
  'name',
  ...Object.keys(ADDRESS_FIELDS),
  ...Object.keys(PHONE_FIELDS),
  'email',
  'homePage',
  'currencyCode',
] as const;

/** The canonical fields each kind reads and writes. */
export const SUPPORTED_FIELDS: Record<AccountKind, readonly string[]> = {
  customer: [...NAME_FIELDS, 'vatRegistrationNo'],
  vendor: NAME_FIELDS,
  bankAccount: ['name', 'currencyCode'],
};

/** QBO's times carry an offset (2015-09-10T05:23:47-07:00); tandem compares them as UTC ISO 8601. */
export function qboTime(time: string): string {
  const parsed = Date.parse(time);
  if (Number.isNaN(parsed)) throw new InvalidRequestError(`quickbooks: '${time}' is not a time`);
  return new Date(parsed).toISOString();
}

/** A Customer or Vendor as a canonical account; an inactive one is archived (QBO never deletes names). */
export function nameToAccount(kind: NameKind, entity: QboName): Account {
  const fields: Record<string, FieldValue> = {
    name: normalizeValue(entity.DisplayName),
    email: normalizeValue(entity.PrimaryEmailAddr?.Address),
    homePage: normalizeValue(entity.WebAddr?.URI),
    currencyCode: normalizeValue(entity.CurrencyRef?.value),
  };
  for (const [field, property] of Object.entries(ADDRESS_FIELDS))
    fields[field] = normalizeValue(entity.BillAddr?.[property]);
  for (const [field, property] of Object.entries(PHONE_FIELDS))
    fields[field] = normalizeValue(entity[property]?.FreeFormNumber);
  if (kind === 'customer' && 'PrimaryTaxIdentifier' in entity)
    fields.vatRegistrationNo = normalizeValue(entity.PrimaryTaxIdentifier);
  return {
    entity: kind,
    id: entity.Id,
    number: normalizeValue(entity.AcctNum),
    fields,
    modifiedAt: qboTime(entity.MetaData.LastUpdatedTime),
    version: entity.SyncToken,
    archived: entity.Active === false,
  };
}

/** An Account of type Bank as a canonical bank account; an inactive one is archived. */
export function accountToBankAccount(account: QboAccount): Account {
  return {
    entity: 'bankAccount',
    id: account.Id,
    number: normalizeValue(account.AcctNum),
    fields: { name: normalizeValue(account.Name), currencyCode: normalizeValue(account.CurrencyRef?.value) },
    modifiedAt: qboTime(account.MetaData.LastUpdatedTime),
    version: account.SyncToken,
    archived: account.Active === false,
  };
}

/** A text to write: QBO clears a property given as '' in a sparse update. */
const written = (value: FieldValue | undefined): string => value ?? '';

/** Fields given that a kind does not have are a caller's mistake, not something to drop silently. */
function refuseUnknown(kind: AccountKind, fields: Readonly<Record<string, FieldValue>>): void {
  const unknown = Object.keys(fields).filter((field) => !SUPPORTED_FIELDS[kind].includes(field));
  if (unknown.length > 0)
    throw new InvalidRequestError(`quickbooks: a ${kind} has no field ${unknown.join(', ')} (see its README)`);
}

/** DisplayName is how QBO tells names apart: it cannot be emptied. */
function displayName(kind: AccountKind, value: FieldValue | undefined): string {
  if (value === null || value === undefined || value.trim() === '')
    throw new InvalidRequestError(`quickbooks: a ${kind}'s name (DisplayName) cannot be empty`);
  // QBO refuses a colon in a name: it separates a sub-customer from its parent.
  if (value.includes(':'))
    throw new InvalidRequestError(`quickbooks: a ${kind}'s name cannot contain ':' (QBO's separator of sub-customers)`);
  return value;
}

/**
 * The sparse body of a Customer or Vendor write: the properties of the fields given. BillAddr is
 * one object that QBO replaces whole, so the address fields are laid over `currentAddress`.
 */
export function nameBody(
  kind: NameKind,
  fields: Readonly<Record<string, FieldValue>>,
  currentAddress?: QboAddress | null,
): Record<string, unknown> {
  refuseUnknown(kind, fields);
  const body: Record<string, unknown> = {};
  if ('name' in fields) body.DisplayName = displayName(kind, fields.name);
  if ('email' in fields) body.PrimaryEmailAddr = { Address: written(fields.email) };
  if ('homePage' in fields) body.WebAddr = { URI: written(fields.homePage) };
  if ('currencyCode' in fields && fields.currencyCode !== null)
    body.CurrencyRef = { value: written(fields.currencyCode) };
  if (kind === 'customer' && 'vatRegistrationNo' in fields)
    body.PrimaryTaxIdentifier = written(fields.vatRegistrationNo);
  for (const [field, property] of Object.entries(PHONE_FIELDS))
    if (field in fields) body[property] = { FreeFormNumber: written(fields[field]) };
  const addressFields = Object.entries(ADDRESS_FIELDS).filter(([field]) => field in fields);
  if (addressFields.length > 0) {
    const address: Record<string, string> = {};
    for (const property of Object.values(ADDRESS_FIELDS)) {
      const current = currentAddress?.[property];
      if (typeof current === 'string') address[property] = current;
    }
    if (typeof currentAddress?.Id === 'string') address.Id = currentAddress.Id;
    for (const [field, property] of addressFields) address[property] = written(fields[field]);
    body.BillAddr = address;
  }
  return body;
}

/** The sparse body of a bank Account write. */
export function bankAccountBody(fields: Readonly<Record<string, FieldValue>>): Record<string, unknown> {
  refuseUnknown('bankAccount', fields);
  const body: Record<string, unknown> = {};
  if ('name' in fields) body.Name = displayName('bankAccount', fields.name);
  if ('currencyCode' in fields && fields.currencyCode !== null) body.CurrencyRef = { value: fields.currencyCode };
  return body;
}
