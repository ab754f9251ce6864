/**
 * Pure mappers between Salesforce records and canonical contacts: Accounts become contacts of
 * type `company`, Contacts become contacts of type `person` belonging to their AccountId.
 */
import {
  type Contact,
  type ContactField,
  type CustomField,
  customField,
  customFieldName,
  type FieldValue,
  normalizeValue,
} from '../../src/core/model';
import type { FieldDescription } from '../kit/types';
import {
  ACCOUNT_ID_FIELD,
  contactTypeOf,
  DEFAULT_ACCOUNT_MAP,
  DEFAULT_CONTACT_MAP,
  type FieldMap,
  PERSON_NAME_FIELDS,
  PICKLIST_CODE_FIELDS,
  type SObjectType,
  SOBJECT_TYPES,
  SYSTEM_FIELDS,
  toContactId,
} from './fields';
import { type DescribeField, fieldText, type HistoryEntry, type SObjectRecord } from './schemas';

/** The mapping in force, per sObject type: each canonical field and the sObject fields that hold it. */
export type SalesforceMapping = Record<SObjectType, ReadonlyMap<ContactField | CustomField, readonly string[]>>;

/** What the config says of the mapping: overrides per contact type, and whether state and country picklists are on. */
export interface MappingOptions {
  fieldMap?: { company?: FieldMap; person?: FieldMap };
  stateAndCountryPicklists?: boolean;
}

/** Builds the mapping in force from the defaults and the config. */
export function resolveMapping(options: MappingOptions = {}): SalesforceMapping {
  const build = (sObjectType: SObjectType, defaults: FieldMap, override: FieldMap = {}) => {
    const codes = options.stateAndCountryPicklists === true ? PICKLIST_CODE_FIELDS[sObjectType] : {};
    const map = new Map<ContactField | CustomField, readonly string[]>();
    for (const [field, target] of Object.entries({ ...defaults, ...codes, ...override }) as [
      ContactField,
      string | null,
    ][])
      if (target) map.set(field, [target]);
    return map;
  };
  const contact = build('Contact', DEFAULT_CONTACT_MAP, options.fieldMap?.person);
  // An explicit `name` (a field, or null to leave names alone) replaces the split.
  if (!(options.fieldMap?.person && 'name' in options.fieldMap.person)) contact.set('name', PERSON_NAME_FIELDS);
  return { Account: build('Account', DEFAULT_ACCOUNT_MAP, options.fieldMap?.company), Contact: contact };
}

/** The canonical fields a mapping can read and write, over both sObject types. */
export function supportedFields(mapping: SalesforceMapping): string[] {
  return [...new Set([...mapping.Account.keys(), ...mapping.Contact.keys()])].filter(
    (field) => customFieldName(field) === null,
  );
}

/**
 * The mapping with custom fields added as `custom.<field>`, each on the sObject types that have
 * it (a SOQL query naming a field its object lacks fails whole).
 */
export function withCustomFields(
  mapping: SalesforceMapping,
  fields: Readonly<Record<SObjectType, readonly string[]>>,
): SalesforceMapping {
  const add = (sObjectType: SObjectType) => {
    const extended = new Map(mapping[sObjectType]);
    for (const field of fields[sObjectType]) extended.set(customField(field), [field]);
    return extended;
  };
  return { Account: add('Account'), Contact: add('Contact') };
}

/** The fields to SELECT so that every mapped field comes back, with the system fields and a person's AccountId. */
export function fieldsToSelect(sObjectType: SObjectType, mapping: SalesforceMapping): string[] {
  const account = sObjectType === 'Contact' ? [ACCOUNT_ID_FIELD] : [];
  return [...new Set([...SYSTEM_FIELDS, ...account, ...[...mapping[sObjectType].values()].flat()])];
}

/** The sObject fields that carry canonical fields (those whose history gives a field its own time). */
export function mappedFields(sObjectType: SObjectType, mapping: SalesforceMapping): string[] {
  return [...new Set([...mapping[sObjectType].values()].flat())];
}

/**
 * Salesforce's times ("2024-05-01T10:00:00.000+0000") as ISO 8601 with Z; an unreadable time is
 * the epoch, so that it never wins a conflict.
 */
export function isoTime(raw: string | null | undefined): string {
  const millis = millisOf(raw);
  return new Date(Number.isNaN(millis) ? 0 : millis).toISOString();
}

/** A Salesforce time as epoch ms; +0000 offsets are given the colon ISO 8601 wants. NaN when unreadable. */
export function millisOf(raw: string | null | undefined): number {
  if (raw === null || raw === undefined || raw === '') return Number.NaN;
  return Date.parse(raw.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
}

/**
 * The history entry names a field may be logged under: its own, and for an address part the
 * compound address (Salesforce tracks "Billing Address" as one field).
 */
function historyNames(field: string): string[] {
  const compound =
    /^(Billing|Mailing|Shipping|Other)(Street|City|State|PostalCode|Country|StateCode|CountryCode)$/.exec(field);
  const names = [field, ...(compound ? [`${compound[1] ?? ''}Address`] : [])];
  // A person's name is logged as Name when its parts change.
  return PERSON_NAME_FIELDS.includes(field as (typeof PERSON_NAME_FIELDS)[number]) ? [...names, 'Name'] : names;
}

/**
 * Maps an Account or Contact to a canonical contact. Only fields present in the record become
 * fields, so a partial answer does not read as cleared fields. Where field history is given (the
 * record's AccountHistory / ContactHistory entries), a field's change time is its newest entry
 * and its value before that the entry's OldValue; without, the record's SystemModstamp stands.
 */
export function toContact(
  sObjectType: SObjectType,
  record: SObjectRecord,
  mapping: SalesforceMapping,
  history: readonly HistoryEntry[] = [],
): Contact {
  const type = contactTypeOf(sObjectType);
  const fields: Contact['fields'] = {};
  const fieldModifiedAt: NonNullable<Contact['fieldModifiedAt']> = {};
  const fieldPrevious: NonNullable<Contact['fieldPrevious']> = {};
  const newestFirst = [...history].sort((a, b) => millisOf(b.CreatedDate) - millisOf(a.CreatedDate));
  for (const [field, sources] of mapping[sObjectType]) {
    if (!sources.some((source) => source in record)) continue;
    fields[field] = joinPersonName(...sources.map((source) => fieldText(record, source)));
    const names = new Set(sources.flatMap(historyNames));
    const entries = newestFirst.filter((entry) => names.has(entry.Field) && !Number.isNaN(millisOf(entry.CreatedDate)));
    const [latest, earlier] = entries;
    if (latest) fieldModifiedAt[field] = isoTime(latest.CreatedDate);
    if (latest && earlier && sources.length === 1)
      fieldPrevious[field] = { value: normalizeValue(latest.OldValue), at: isoTime(earlier.CreatedDate) };
  }
  const accountId = type === 'person' ? normalizeValue(record[ACCOUNT_ID_FIELD]) : null;
  return {
    entity: 'contact',
    id: toContactId(sObjectType, record.Id),
    type,
    companyId: accountId === null ? null : toContactId('Account', accountId),
    fields,
    modifiedAt: isoTime(record.SystemModstamp),
    // LastModifiedDate is what If-Unmodified-Since compares: a write planned against it is refused once it moved.
    ...(record.LastModifiedDate !== undefined && { version: isoTime(record.LastModifiedDate) }),
    ...(Object.keys(fieldModifiedAt).length > 0 && { fieldModifiedAt }),
    ...(Object.keys(fieldPrevious).length > 0 && { fieldPrevious }),
  };
}

/**
 * Canonical fields as the fields of an Account or Contact. Fields the type does not map are left
 * out; an empty value is null, which is how the REST API clears a field.
 */
export function toSalesforceFields(
  sObjectType: SObjectType,
  fields: Readonly<Record<string, FieldValue | undefined>>,
  mapping: SalesforceMapping,
): Record<string, string | null> {
  const written: Record<string, string | null> = {};
  for (const [field, [target, ...rest]] of mapping[sObjectType]) {
    const value = fields[field];
    if (value === undefined || target === undefined) continue;
    Object.assign(written, rest.length > 0 ? splitPersonName(value) : { [target]: normalizeValue(value) });
  }
  return written;
}

/** Joins the parts of a name with a space, skipping empty ones. */
export function joinPersonName(...parts: (string | null)[]): FieldValue {
  return normalizeValue(
    parts
      .map((part) => normalizeValue(part))
      .filter((part) => part !== null)
      .join(' '),
  );
}

/**
 * Splits a full name on its last space: "Anna van Dijk" -> "Anna van" + "Dijk". A single word is
 * the last name, which Salesforce requires of every Contact.
 */
export function splitPersonName(name: FieldValue): { FirstName: string | null; LastName: string | null } {
  const text = normalizeValue(name);
  if (text === null) return { FirstName: null, LastName: null };
  const cut = text.lastIndexOf(' ');
  if (cut === -1) return { FirstName: null, LastName: text };
  return { FirstName: text.slice(0, cut).trim(), LastName: text.slice(cut + 1) };
}

/** A describe field type as a field type. https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/field_types.htm */
function fieldTypeOf(type: string): FieldDescription['type'] {
  if (['double', 'currency', 'percent', 'int', 'long'].includes(type)) return 'number';
  if (type === 'date' || type === 'datetime') return 'date';
  if (type === 'boolean') return 'boolean';
  if (type === 'picklist' || type === 'multipicklist') return 'enumeration';
  return 'text';
}

/**
 * The fields of the Account and Contact describes as a mapping may name them: the canonical field
 * a field carries, else `custom.<field>`. A field either object has counts; it is writable where
 * every object that has it lets it be updated.
 */
export function describeObjects(
  mapping: SalesforceMapping,
  describes: Readonly<Record<SObjectType, readonly DescribeField[]>>,
): FieldDescription[] {
  const byName = new Map<string, FieldDescription>();
  for (const sObjectType of SOBJECT_TYPES) {
    const carried = new Map<string, string>();
    for (const [field, sources] of mapping[sObjectType])
      if (sources.length === 1 && customFieldName(field) === null) carried.set(sources[0] as string, field);
    for (const described of describes[sObjectType]) {
      const name = carried.get(described.name) ?? customField(described.name);
      const writable = described.updateable && described.calculated !== true;
      const known = byName.get(name);
      if (known) {
        known.writable &&= writable;
        continue;
      }
      const options = described.picklistValues
        .filter((option) => option.active)
        .map((option) => ({ value: option.value, label: option.label ?? option.value }));
      byName.set(name, {
        name,
        label: described.label,
        type: fieldTypeOf(described.type),
        writable,
        ...(options.length > 0 && { options }),
        custom: !carried.has(described.name),
      });
    }
  }
  return [...byName.values()];
}
