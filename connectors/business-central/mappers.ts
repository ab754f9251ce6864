/**
 * Pure mappers between Business Central's API v2.0 records and the canonical model. The one place
 * that knows which BC property holds which canonical field.
 */
import { normalizeValue, type Account, type AccountKind, type Contact, type FieldValue } from '../../src/core/model';
import { InvalidRequestError } from '../kit/errors';
import type { CreatedDocument, DocumentType } from '../kit/types';
import type { BcDocument, BcRecord } from './schemas';

/** The entities this connector reads and writes in BC, contacts included. */
export type BcEntity = AccountKind | 'contact';

/** BC's collection name of each entity. */
export const COLLECTIONS: Record<BcEntity, string> = {
  customer: 'customers',
  vendor: 'vendors',
  bankAccount: 'bankAccounts',
  contact: 'contacts',
};

/** The BC properties a canonical record is made of, keyed by that record's entity. */
type BcProperty = Exclude<
  keyof BcRecord,
  '@odata.etag' | 'id' | 'number' | 'type' | 'companyNumber' | 'companyName' | 'lastModifiedDateTime'
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
 * Canonical field -> BC property, per entity. Bank accounts in API v2.0 carry only a few
 * properties (displayName, bankAccountNumber, iban, currencyCode; the last three since BC 20).
 */
export const FIELD_MAP: Record<BcEntity, Readonly<Record<string, BcProperty>>> = {
  customer: { ...PARTY_FIELDS, currencyCode: 'currencyCode', salespersonCode: 'salespersonCode' },
  vendor: { ...PARTY_FIELDS, currencyCode: 'currencyCode' },
  bankAccount: { name: 'displayName', bankAccountNo: 'bankAccountNumber', iban: 'iban', currencyCode: 'currencyCode' },
  contact: { ...PARTY_FIELDS, mobile: 'mobilePhoneNumber' },
};

/** The canonical fields each entity supports, in the order of FIELD_MAP. */
export const SUPPORTED_FIELDS: Record<BcEntity, readonly string[]> = {
  customer: Object.keys(FIELD_MAP.customer),
  vendor: Object.keys(FIELD_MAP.vendor),
  bankAccount: Object.keys(FIELD_MAP.bankAccount),
  contact: Object.keys(FIELD_MAP.contact),
};

function toFields(entity: BcEntity, record: BcRecord): Record<string, FieldValue> {
  const fields: Record<string, FieldValue> = {};
  for (const [canonical, property] of Object.entries(FIELD_MAP[entity])) {
    fields[canonical] = normalizeValue(record[property]);
  }
  return fields;
}

/** Maps a BC customer, vendor or bank account to a canonical Account. */
export function toAccount(entity: AccountKind, record: BcRecord): Account {
  return {
    entity,
    id: record.id,
    number: normalizeValue(record.number),
    fields: toFields(entity, record),
    modifiedAt: record.lastModifiedDateTime,
    ...(record['@odata.etag'] === undefined ? {} : { version: record['@odata.etag'] }),
  };
}

/**
 * Maps a BC contact to a canonical Contact. BC links a person to its company by the company's
 * number; `companyIdByNumber` resolves it to the company contact's id (null when unknown).
 */
export function toContact(record: BcRecord, companyIdByNumber: ReadonlyMap<string, string> = new Map()): Contact {
  const type = normalizeValue(record.type)?.toLowerCase() === 'person' ? 'person' : 'company';
  const companyNumber = normalizeValue(record.companyNumber);
  const companyId = type === 'person' && companyNumber !== null ? (companyIdByNumber.get(companyNumber) ?? null) : null;
  return {
    entity: 'contact',
    id: record.id,
    type,
    companyId,
    fields: toFields('contact', record),
    modifiedAt: record.lastModifiedDateTime,
    ...(record['@odata.etag'] === undefined ? {} : { version: record['@odata.etag'] }),
  };
}

/**
 * Maps canonical fields to a BC request body. Null is written as '' because BC has no null for
 * text properties. A field the entity does not support is a configuration bug, not data.
 */
export function fromFields(entity: BcEntity, fields: Record<string, FieldValue>): Record<string, string> {
  const body: Record<string, string> = {};
  const map = FIELD_MAP[entity];
  for (const [canonical, value] of Object.entries(fields)) {
    const property = map[canonical];
    if (property === undefined) {
      throw new InvalidRequestError(`business-central: ${entity} has no field '${canonical}'`);
    }
    body[property] = normalizeValue(value) ?? '';
  }
  return body;
}

/** The BC contact `type` for a canonical contact type. */
export function fromContactType(type: Contact['type']): 'Company' | 'Person' {
  return type === 'person' ? 'Person' : 'Company';
}

/** Where a document type lives in API v2.0: its collection, its account property and its date. */
export interface DocumentResource {
  collection: 'salesQuotes' | 'salesOrders';
  accountProperty: 'customerId';
  dateProperty: 'documentDate' | 'orderDate';
}

/**
 * The document types this connector starts. API v2.0 has no purchaseQuotes endpoint at all, and
 * its purchaseOrders have neither an externalDocumentNumber nor a writable number, so nothing a
 * retry could look a lost purchase order up by: starting one is left out rather than risk
 * duplicates. See README.md, "Documents".
 */
export const DOCUMENT_RESOURCES: Partial<Record<DocumentType, DocumentResource>> = {
  salesQuote: { collection: 'salesQuotes', accountProperty: 'customerId', dateProperty: 'documentDate' },
  salesOrder: { collection: 'salesOrders', accountProperty: 'customerId', dateProperty: 'orderDate' },
};

/** BC's value for a date nobody set. */
const BLANK_DATE = '0001-01-01';

/** Maps a BC sales quote or order to a CreatedDocument. */
export function toCreatedDocument(type: DocumentType, resource: DocumentResource, record: BcDocument): CreatedDocument {
  const date = normalizeValue(record[resource.dateProperty]);
  return {
    type,
    id: record.id,
    number: normalizeValue(record.number),
    accountId: normalizeValue(record[resource.accountProperty]) ?? '',
    date: date === BLANK_DATE ? null : date,
    status: normalizeValue(record.status),
  };
}
