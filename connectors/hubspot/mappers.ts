/**
 * Pure mappers between HubSpot companies/contacts and canonical contacts. HubSpot companies become
 * contacts of type `company`, HubSpot contacts become contacts of type `person`.
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
import { SEARCHED_FIELDS } from '../kit/search';
import type { FieldDescription } from '../kit/types';
import type { HubSpotObject, HubSpotProperty } from './schemas';

/** The HubSpot object types tandem syncs, as they appear in API paths. */
export type HubSpotObjectType = 'companies' | 'contacts';
type ContactType = Contact['type'];

/** Canonical field -> HubSpot property name; `null` switches a default mapping off. */
type PropertyMap = Partial<Record<ContactField, string | null>>;

/**
 * The mapping in force, per contact type: each canonical field and the properties that hold it.
 * A field held by two properties is a person's name, written as firstname + lastname.
 */
export type HubSpotMapping = Record<ContactType, ReadonlyMap<ContactField | CustomField, readonly string[]>>;

/** The property that holds a record's last modification time, per object type. */
export const MODIFIED_PROPERTY: Record<HubSpotObjectType, string> = {
  companies: 'hs_lastmodifieddate',
  contacts: 'lastmodifieddate',
};

/** The custom property that carries a create's idempotency key (must exist in the portal). */
export const IDEMPOTENCY_PROPERTY = 'tandem_idempotency_key';

/** The contact property that names a person's primary company. */
const COMPANY_ID_PROPERTY = 'associatedcompanyid';

/** The properties a person's name is split over unless `person.name` names a property. */
const PERSON_NAME_PROPERTIES = ['firstname', 'lastname'];

/** Custom properties shared by both object types for the NAV fields HubSpot has no property for. */
const CUSTOM_PROPERTIES = {
  name2: 'tandem_name2',
  fax: 'tandem_fax',
  email: 'tandem_email',
  vatRegistrationNo: 'tandem_vat_registration_no',
  currencyCode: 'tandem_currency_code',
  languageCode: 'tandem_language_code',
  salespersonCode: 'tandem_salesperson_code',
  territoryCode: 'tandem_territory_code',
} as const satisfies PropertyMap;

/** HubSpot's own properties that companies and contacts both have; they win over the custom ones. */
const SHARED_PROPERTIES = {
  ...CUSTOM_PROPERTIES,
  address: 'address',
  postCode: 'zip',
  city: 'city',
  county: 'state',
  countryCode: 'country',
  phone: 'phone',
  homePage: 'website',
} as const satisfies PropertyMap;

/** The default company map. */
export const DEFAULT_COMPANY_MAP: Readonly<PropertyMap> = { ...SHARED_PROPERTIES, name: 'name', address2: 'address2' };

/** The default person map. `name` is absent: it is split over firstname and lastname. */
const DEFAULT_PERSON_MAP: Readonly<PropertyMap> = {
  ...SHARED_PROPERTIES,
  // Contacts have their own fax and email properties, and no address2.
  email: 'email',
  fax: 'fax',
  address2: 'tandem_address2',
  mobile: 'mobilephone',
};

/** Builds the mappings in force from the defaults and the configured overrides. */
export function resolveMapping(overrides: Partial<Record<ContactType, PropertyMap>> = {}): HubSpotMapping {
  const build = (defaults: PropertyMap, override: PropertyMap = {}) => {
    const map = new Map<ContactField | CustomField, readonly string[]>();
    for (const [field, property] of Object.entries({ ...defaults, ...override }) as [ContactField, string | null][])
      if (property) map.set(field, [property]);
    return map;
  };
  const person = build(DEFAULT_PERSON_MAP, overrides.person);
  // An explicit `name` (a property, or null to leave names alone) replaces the split.
  if (!(overrides.person && 'name' in overrides.person)) person.set('name', PERSON_NAME_PROPERTIES);
  return { company: build(DEFAULT_COMPANY_MAP, overrides.company), person };
}

/** The canonical fields a mapping can read and write, over both object types. */
export function supportedFields(mapping: HubSpotMapping): string[] {
  return [...new Set([...mapping.company.keys(), ...mapping.person.keys()])].filter(
    (field) => customFieldName(field) === null,
  );
}

/** The mapping with custom properties added, each as `custom.<property>` on both object types. */
export function withCustomProperties(mapping: HubSpotMapping, properties: readonly string[]): HubSpotMapping {
  if (properties.length === 0) return mapping;
  const add = (map: ReadonlyMap<ContactField | CustomField, readonly string[]>) => {
    const extended = new Map(map);
    for (const property of properties) extended.set(customField(property), [property]);
    return extended;
  };
  return { company: add(mapping.company), person: add(mapping.person) };
}

/**
 * The fields of HubSpot's property lists (companies and contacts) as a mapping may name them:
 * the canonical field a property carries, else `custom.<property>`. A property either type has
 * counts; it is writable where every type that has it lets a value be written.
 */
export function describeProperties(
  mapping: HubSpotMapping,
  lists: Record<HubSpotObjectType, readonly HubSpotProperty[]>,
): FieldDescription[] {
  const byName = new Map<string, FieldDescription>();
  for (const objectType of ['companies', 'contacts'] as const) {
    const carried = new Map<string, string>();
    for (const [field, properties] of mapping[contactTypeOf(objectType)])
      if (properties.length === 1 && customFieldName(field) === null) carried.set(properties[0] as string, field);
    for (const property of lists[objectType]) {
      const name = carried.get(property.name) ?? customField(property.name);
      const writable = property.modificationMetadata?.readOnlyValue !== true && property.calculated !== true;
      const known = byName.get(name);
      if (known) {
        known.writable &&= writable;
        continue;
      }
      byName.set(name, {
        name,
        label: property.label,
        type: fieldTypeOf(property.type),
        writable,
        ...(property.options.length > 0 && {
          options: property.options
            .filter((option) => option.hidden !== true)
            .map(({ value, label }) => ({ value, label })),
        }),
        custom: !carried.has(property.name),
      });
    }
  }
  return [...byName.values()];
}

/** A HubSpot property type as a field type. */
function fieldTypeOf(type: string): FieldDescription['type'] {
  if (type === 'number') return 'number';
  if (type === 'date' || type === 'datetime') return 'date';
  if (type === 'bool') return 'boolean';
  if (type === 'enumeration') return 'enumeration';
  return 'text';
}

/**
 * The properties that carry canonical fields, whose history (`propertiesWithHistory`) gives each
 * field its own change time.
 */
export function propertiesWithHistoryToRead(objectType: HubSpotObjectType, mapping: HubSpotMapping): string[] {
  return [...new Set([...mapping[contactTypeOf(objectType)].values()].flat())];
}

/** The properties a picker's search looks in: those holding the name, e-mail and VAT no. (at most five, HubSpot's limit of filter groups). */
export function searchedProperties(objectType: HubSpotObjectType, mapping: HubSpotMapping): string[] {
  const held = mapping[contactTypeOf(objectType)];
  const fields: readonly string[] = SEARCHED_FIELDS;
  return [...new Set(fields.flatMap((field) => held.get(field as ContactField) ?? []))].slice(0, 5);
}

/** The properties to ask HubSpot for, so that every mapped field comes back. */
export function propertiesToRead(objectType: HubSpotObjectType, mapping: HubSpotMapping): string[] {
  const company = objectType === 'contacts' ? [COMPANY_ID_PROPERTY] : [];
  const fields = propertiesWithHistoryToRead(objectType, mapping);
  return [...new Set([MODIFIED_PROPERTY[objectType], ...fields, ...company])];
}

/** The HubSpot object type that holds a canonical contact type. */
export function objectTypeOf(type: ContactType): HubSpotObjectType {
  return type === 'company' ? 'companies' : 'contacts';
}

/** The canonical contact type a HubSpot object type holds. */
export function contactTypeOf(objectType: HubSpotObjectType): ContactType {
  return objectType === 'companies' ? 'company' : 'person';
}

/** The canonical id of a HubSpot record: `company-<id>` or `person-<id>` (no ':', see job ids). */
export function toContactId(objectType: HubSpotObjectType, hubSpotId: string): string {
  return `${contactTypeOf(objectType)}-${hubSpotId}`;
}

/** A canonical contact id: HubSpot's object type as tandem names it, and HubSpot's numeric id. */
export const CONTACT_ID = /^(company|person)-(\d{1,20})$/;

/** Splits a canonical contact id into HubSpot's object type and id; null when it is not ours. */
export function fromContactId(id: string): { objectType: HubSpotObjectType; hubSpotId: string } | null {
  const match = CONTACT_ID.exec(id);
  if (!match?.[1] || !match[2]) return null;
  return { objectType: objectTypeOf(match[1] as ContactType), hubSpotId: match[2] };
}

/** A HubSpot time as epoch ms: ISO strings, or epoch milliseconds (older portals, webhooks); NaN when neither. */
function millisOf(raw: string | null | undefined): number {
  if (raw === null || raw === undefined || raw === '') return NaN;
  return /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
}

/** A property's history, newest first (HubSpot lists it so; it is sorted anyway), unreadable times left out. */
function historyOf(object: HubSpotObject, property: string): { value: string; millis: number }[] {
  return (object.propertiesWithHistory?.[property] ?? [])
    .map((entry) => ({ value: entry.value, millis: millisOf(entry.timestamp) }))
    .filter((entry) => !Number.isNaN(entry.millis))
    .sort((a, b) => b.millis - a.millis);
}

/**
 * Maps a HubSpot company or contact to a canonical contact. Only properties present in the object
 * become fields, so a partial answer (a PATCH response) does not read as cleared fields. A field's
 * change time is the newest entry of its properties' histories; without one, the record's time stands.
 */
export function toContact(objectType: HubSpotObjectType, object: HubSpotObject, mapping: HubSpotMapping): Contact {
  const type = contactTypeOf(objectType);
  const { properties } = object;
  const fields: Contact['fields'] = {};
  const fieldModifiedAt: NonNullable<Contact['fieldModifiedAt']> = {};
  const fieldPrevious: NonNullable<Contact['fieldPrevious']> = {};
  for (const [field, sources] of mapping[type]) {
    if (!sources.some((property) => property in properties)) continue;
    fields[field] = joinPersonName(...sources.map((property) => properties[property] ?? null));
    const histories = sources.map((property) => historyOf(object, property));
    const changedAt = Math.max(...histories.map((history) => history[0]?.millis ?? -Infinity));
    if (changedAt !== -Infinity) fieldModifiedAt[field] = new Date(changedAt).toISOString();
    const before = histories.length === 1 ? histories[0]?.[1] : undefined;
    if (before)
      fieldPrevious[field] = { value: normalizeValue(before.value), at: new Date(before.millis).toISOString() };
  }
  const companyHubSpotId = type === 'person' ? normalizeValue(properties[COMPANY_ID_PROPERTY]) : null;
  const modifiedAt = millisOf(properties[MODIFIED_PROPERTY[objectType]] ?? object.updatedAt);
  return {
    entity: 'contact',
    id: toContactId(objectType, object.id),
    type,
    companyId: companyHubSpotId === null ? null : toContactId('companies', companyHubSpotId),
    fields,
    modifiedAt: new Date(Number.isNaN(modifiedAt) ? 0 : modifiedAt).toISOString(),
    ...(Object.keys(fieldModifiedAt).length > 0 && { fieldModifiedAt }),
    ...(Object.keys(fieldPrevious).length > 0 && { fieldPrevious }),
  };
}

/**
 * Maps canonical fields to HubSpot properties for one contact type. Fields the type does not map
 * are left out; null becomes '' because that is how HubSpot clears a property.
 */
export function toHubSpotProperties(
  type: ContactType,
  fields: Readonly<Record<string, FieldValue | undefined>>,
  mapping: HubSpotMapping,
): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const [field, [property, ...rest]] of mapping[type]) {
    const value = fields[field];
    if (value === undefined || property === undefined) continue;
    Object.assign(properties, rest.length > 0 ? splitPersonName(value) : { [property]: value ?? '' });
  }
  return properties;
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
 * Splits a full name on its last space: "Anna van Dijk" -> "Anna van" + "Dijk". A single word is a
 * first name, so a person called "Cher" does not become a last name only.
 */
export function splitPersonName(name: FieldValue): { firstname: string; lastname: string } {
  const text = normalizeValue(name);
  if (text === null) return { firstname: '', lastname: '' };
  const cut = text.lastIndexOf(' ');
  if (cut === -1) return { firstname: text, lastname: '' };
  return { firstname: text.slice(0, cut).trim(), lastname: text.slice(cut + 1) };
}
