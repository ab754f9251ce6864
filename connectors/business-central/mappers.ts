/**
 * Pure mappers between Business Central's API v2.0 records and the canonical model. The one place
 * that knows which BC property holds which canonical field.
 */
import {
  customField,
  customFieldName,
  normalizeValue,
  type Account,
  type AccountKind,
  type Contact,
  type FieldValue,
} from '../../src/core/model';
import { InvalidRequestError } from '../kit/errors';
import type { FieldDescription } from '../kit/types';
import { GUID } from './odata';
import { BC_PROPERTIES } from './properties';
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

/**
 * What every record maps the same way: id, fields (empty text as null) with the custom ones the
 * mappings name, modification time, etag.
 */
function recordBase(entity: BcEntity, record: BcRecord, custom: readonly string[] = []) {
  return {
    id: record.id,
    fields: Object.fromEntries([
      ...Object.entries(FIELD_MAP[entity]).map(([field, property]): [string, FieldValue] => [
        field,
        normalizeValue(record[property]),
      ]),
      ...custom.map((name): [string, FieldValue] => [customField(name), customValue(entity, name, record[name])]),
    ]),
    modifiedAt: record.lastModifiedDateTime,
    ...(record['@odata.etag'] === undefined ? {} : { version: record['@odata.etag'] }),
  };
}

/** Maps a BC customer, vendor or bank account to a canonical Account, with the custom properties named. */
export function toAccount(entity: AccountKind, record: BcRecord, custom: readonly string[] = []): Account {
  return { entity, number: normalizeValue(record.number), ...recordBase(entity, record, custom) };
}

/** The GUID BC leaves in an unset reference (`paymentTermsId` and the like). */
const EMPTY_GUID = '00000000-0000-0000-0000-000000000000';

/** The fact of an account kind's property; contacts have none (no custom fields). */
const factOf = (entity: BcEntity, name: string) =>
  entity === 'contact' ? undefined : BC_PROPERTIES[entity].find((property) => property.name === name);

/**
 * A property's JSON value as a field value: text as it is, numbers and booleans spelled out, an
 * unset reference (the empty GUID) as null.
 */
function customValue(entity: BcEntity, name: string, value: unknown): FieldValue {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === EMPTY_GUID && factOf(entity, name)?.type === 'guid') return null;
  return typeof value === 'string' ? normalizeValue(value) : null;
}

/** A field value as the JSON a property of this type takes; text that is no value of the type is refused. */
function jsonValue(entity: BcEntity, name: string, value: FieldValue): unknown {
  const fact = factOf(entity, name);
  if (fact === undefined) throw new InvalidRequestError(`business-central: ${entity} has no property '${name}'`);
  if (!fact.editable) throw new InvalidRequestError(`business-central: ${entity} property '${name}' is read-only`);
  const text = normalizeValue(value);
  if (fact.type === 'boolean') {
    if (text === 'true' || text === 'false') return text === 'true';
    throw new InvalidRequestError(`business-central: ${entity} property '${name}' takes true or false, not '${text}'`);
  }
  if (fact.type === 'number') {
    const number = Number(text ?? '0');
    if (Number.isFinite(number)) return number;
    throw new InvalidRequestError(`business-central: ${entity} property '${name}' takes a number, not '${text}'`);
  }
  // An Edm.Guid takes a GUID; BC's unset reference is the empty GUID, never ''.
  if (fact.type === 'guid') {
    if (text === null) return EMPTY_GUID;
    if (GUID.test(text)) return text;
    throw new InvalidRequestError(`business-central: ${entity} property '${name}' takes a GUID, not '${text}'`);
  }
  if (fact.options && !fact.options.includes(text ?? ' '))
    throw new InvalidRequestError(
      `business-central: ${entity} property '${name}' takes one of ${fact.options.map((option) => `'${option}'`).join(', ')}`,
    );
  return fact.type === 'enumeration' ? (text ?? ' ') : (text ?? '');
}

/**
 * The fields of an account kind as a mapping may name them: the canonical field a property
 * carries, else `custom.<property>`; the key and the modification time are left out.
 */
export function describeAccountFields(entity: AccountKind): FieldDescription[] {
  const carried = new Map(Object.entries(FIELD_MAP[entity]).map(([field, property]) => [property as string, field]));
  return BC_PROPERTIES[entity]
    .filter((property) => property.name !== 'id' && property.name !== 'lastModifiedDateTime')
    .map((property) => ({
      name: carried.get(property.name) ?? customField(property.name),
      label: property.caption,
      type: property.type === 'guid' ? 'text' : property.type,
      writable: property.editable,
      ...(property.options && { options: property.options.map((value) => ({ value, label: value })) }),
      custom: !carried.has(property.name),
    }));
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
export function fromFields(entity: BcEntity, fields: Record<string, FieldValue>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).map(([field, value]) => {
      const custom = customFieldName(field);
      if (custom !== null) return [custom, jsonValue(entity, custom, value)];
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
