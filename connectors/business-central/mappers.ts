/**
 * Pure mappers between Business Central's API v2.0 records and the canonical model. The one place
 * that knows which BC property holds which canonical field.
 */
import { normalizeValue, type Account, type AccountKind, type Contact, type FieldValue } from '../../src/core/model';
import { InvalidRequestError } from '../kit/errors';
import type { BcRecord } from './schemas';

/** The entities this connector reads and writes in BC, contacts included. */
export type BcEntity = AccountKind | 'contact';

/** BC's collection name of each entity. */
export const COLLECTIONS: Record<BcEntity, string> = {
  customer: 'customers',
  vendor: 'vendors',
  bankAccount: 'bankAccounts',
  contact: 'contacts',
};

/** The BC properties canonical fields are kept in. */
type BcProperty = Exclude<
  keyof BcRecord,
  '@odata.etag' | 'id' | 'number' | 'type' | 'companyNumber' | 'lastModifiedDateTime'
>;

const PARTY_FIELDS = {
  name: 'displayName',
  address: 'addressLine1',
  address2: 'addressLine2',
  postCode: 'postalCode',
  city: 'city',
  county: 'state',
  countryCode: 'country',
  phone: 'phoneNumber',
  email: 'email',
  homePage: 'website',
  vatRegistrationNo: 'taxRegistrationNumber',
} as const satisfies Record<string, BcProperty>;

/**
 * Canonical field -> BC property, per entity; its keys are the fields the connector lists. Bank accounts in API v2.0 carry only a few
 * properties (displayName, bankAccountNumber, iban, currencyCode; the last three since BC 20).
 */
export const FIELD_MAP: Record<BcEntity, Readonly<Record<string, BcProperty>>> = {
  customer: { ...PARTY_FIELDS, currencyCode: 'currencyCode', salespersonCode: 'salespersonCode' },
  vendor: { ...PARTY_FIELDS, currencyCode: 'currencyCode' },
  bankAccount: { name: 'displayName', bankAccountNo: 'bankAccountNumber', iban: 'iban', currencyCode: 'currencyCode' },
  contact: { ...PARTY_FIELDS, mobile: 'mobilePhoneNumber' },
};

/** What every record maps the same way: id, fields (empty text as null), modification time, etag. */
function recordBase(entity: BcEntity, record: BcRecord) {
  return {
    id: record.id,
    fields: Object.fromEntries(
      Object.entries(FIELD_MAP[entity]).map(([field, property]) => [field, normalizeValue(record[property])]),
    ),
    modifiedAt: record.lastModifiedDateTime,
    ...(record['@odata.etag'] === undefined ? {} : { version: record['@odata.etag'] }),
  };
}

/** Maps a BC customer, vendor or bank account to a canonical Account. */
export function toAccount(entity: AccountKind, record: BcRecord): Account {
  return { entity, number: normalizeValue(record.number), ...recordBase(entity, record) };
}

/**
 * Maps a BC contact to a canonical Contact. BC links a person to its company by the company's
 * number; `companyIdByNumber` resolves it to the company contact's id (null when unknown).
 */
export function toContact(record: BcRecord, companyIdByNumber: ReadonlyMap<string, string> = new Map()): Contact {
  const type = normalizeValue(record.type)?.toLowerCase() === 'person' ? 'person' : 'company';
  const companyNumber = normalizeValue(record.companyNumber);
  const companyId = type === 'person' && companyNumber !== null ? (companyIdByNumber.get(companyNumber) ?? null) : null;
  return { entity: 'contact', type, companyId, ...recordBase('contact', record) };
}

/**
 * Maps canonical fields to a BC request body. Null is written as '' because BC has no null for
 * text properties. A field the entity does not support is a configuration bug, not data.
 */
export function fromFields(entity: BcEntity, fields: Record<string, FieldValue>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fields).map(([field, value]) => {
      const property = FIELD_MAP[entity][field];
      if (property === undefined) throw new InvalidRequestError(`business-central: ${entity} has no field '${field}'`);
      return [property, normalizeValue(value) ?? ''];
    }),
  );
}

/** The BC contact `type` for a canonical contact type. */
export function fromContactType(type: Contact['type']): 'Company' | 'Person' {
  return type === 'person' ? 'Person' : 'Company';
}
