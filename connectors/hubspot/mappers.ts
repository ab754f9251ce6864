/**
 * Pure mappers between HubSpot companies/contacts and canonical contacts. HubSpot companies become
 * contacts of type `company`, HubSpot contacts become contacts of type `person`.
 */
import {
  type Contact,
  type ContactField,
  type FieldEarlier,
  type FieldValue,
  normalizeValue,
} from '../../src/core/model';
import type { HubSpotObject } from './schemas';

/** The HubSpot object types tandem syncs, as they appear in API paths. */
export type HubSpotObjectType = 'companies' | 'contacts';
/** The canonical contact type each HubSpot object type maps to. */
export type ContactType = Contact['type'];

/** Canonical field -> HubSpot property name; `null` switches a default mapping off. */
export type PropertyMap = Partial<Record<ContactField, string | null>>;

/** Per object type overrides of the default property maps. */
export type PropertyMapOverrides = Partial<Record<ContactType, PropertyMap>>;

/** The property maps in force, after overrides. */
export interface HubSpotMapping {
  company: ReadonlyMap<ContactField, string>;
  person: ReadonlyMap<ContactField, string>;
  /** A person's name is written as firstname + lastname unless `person.name` names a property. */
  splitPersonName: boolean;
}

/** The property that holds a record's last modification time, per object type. */
export const MODIFIED_PROPERTY: Record<HubSpotObjectType, string> = {
  companies: 'hs_lastmodifieddate',
  contacts: 'lastmodifieddate',
};

/** The custom property that carries a create's idempotency key (must exist in the portal). */
export const IDEMPOTENCY_PROPERTY = 'tandem_idempotency_key';

/** The contact property that names a person's primary company. */
const COMPANY_ID_PROPERTY = 'associatedcompanyid';

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
export const DEFAULT_PERSON_MAP: Readonly<PropertyMap> = {
  ...SHARED_PROPERTIES,
  // Contacts have their own fax and email properties, and no address2.
  email: 'email',
  fax: 'fax',
  address2: 'tandem_address2',
  mobile: 'mobilephone',
};

/** Builds the mappings in force from the defaults and the configured overrides. */
export function resolveMapping(overrides: PropertyMapOverrides = {}): HubSpotMapping {
  const build = (defaults: PropertyMap, override: PropertyMap = {}) => {
    const merged: PropertyMap = { ...defaults, ...override };
    const map = new Map<ContactField, string>();
    for (const [field, property] of Object.entries(merged) as [ContactField, string | null | undefined][]) {
      if (property) map.set(field, property);
    }
    return map;
  };
  const personOverride = overrides.person ?? {};
  return {
    company: build(DEFAULT_COMPANY_MAP, overrides.company),
    person: build(DEFAULT_PERSON_MAP, personOverride),
    // An explicit `name` (a property, or null to leave names alone) replaces the split.
    splitPersonName: !('name' in personOverride),
  };
}

/** The canonical fields a mapping can read and write, over both object types. */
export function supportedFields(mapping: HubSpotMapping): ContactField[] {
  const fields = new Set<ContactField>([...mapping.company.keys(), ...mapping.person.keys()]);
  if (mapping.splitPersonName) fields.add('name');
  return [...fields];
}

/** The properties to ask HubSpot for, so that every mapped field comes back. */
export function propertiesToRead(objectType: HubSpotObjectType, mapping: HubSpotMapping): string[] {
  const properties = new Set<string>([MODIFIED_PROPERTY[objectType]]);
  const map = objectType === 'companies' ? mapping.company : mapping.person;
  for (const property of map.values()) properties.add(property);
  if (objectType === 'contacts') {
    properties.add(COMPANY_ID_PROPERTY);
    if (mapping.splitPersonName) {
      properties.add('firstname');
      properties.add('lastname');
    }
  }
  return [...properties];
}

/**
 * The properties that carry canonical fields, whose history (`propertiesWithHistory`) gives each
 * field its own change time.
 */
export function propertiesWithHistoryToRead(objectType: HubSpotObjectType, mapping: HubSpotMapping): string[] {
  const properties = new Set<string>(objectType === 'companies' ? mapping.company.values() : mapping.person.values());
  if (objectType === 'contacts' && mapping.splitPersonName) {
    properties.add('firstname');
    properties.add('lastname');
  }
  return [...properties];
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

/** Splits a canonical contact id into HubSpot's object type and id; null when it is not ours. */
export function fromContactId(id: string): { objectType: HubSpotObjectType; hubSpotId: string } | null {
  const match = /^(company|person)-(\d+)$/.exec(id);
  if (!match?.[1] || !match[2]) return null;
  return { objectType: objectTypeOf(match[1] as ContactType), hubSpotId: match[2] };
}

/** A HubSpot time as epoch ms: ISO strings, or epoch milliseconds (older portals, webhooks); NaN when neither. */
function millisOf(raw: string | null | undefined): number {
  if (raw === null || raw === undefined || raw === '') return NaN;
  return /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
}

/** The modification time of a HubSpot record (ISO 8601), from its property or `updatedAt`. */
function modifiedAtOf(objectType: HubSpotObjectType, object: HubSpotObject): string | null {
  const millis = millisOf(object.properties[MODIFIED_PROPERTY[objectType]] ?? object.updatedAt);
  return Number.isNaN(millis) ? null : new Date(millis).toISOString();
}

/**
 * When the properties last changed (ISO 8601): the newest entry of their histories, or null when
 * none of them has one. HubSpot lists a history newest first; the latest time is taken anyway.
 */
function changedAtOf(object: HubSpotObject, properties: readonly string[]): string | null {
  const times = properties
    .flatMap((property) => object.propertiesWithHistory?.[property] ?? [])
    .map((entry) => millisOf(entry.timestamp))
    .filter((millis) => !Number.isNaN(millis));
  return times.length === 0 ? null : new Date(Math.max(...times)).toISOString();
}

/** The value a property held before its newest one, and when it was set, from its history. */
function previousOf(object: HubSpotObject, property: string): FieldEarlier | null {
  const entries = (object.propertiesWithHistory?.[property] ?? [])
    .map((entry) => ({ value: entry.value, millis: millisOf(entry.timestamp) }))
    .filter((entry) => !Number.isNaN(entry.millis))
    .sort((a, b) => b.millis - a.millis);
  const before = entries[1];
  return before === undefined
    ? null
    : { value: normalizeValue(before.value), at: new Date(before.millis).toISOString() };
}

/**
 * Maps a HubSpot company or contact to a canonical contact. Only properties present in the object
 * become fields, so a partial answer (a PATCH response) does not read as cleared fields.
 */
export function toContact(objectType: HubSpotObjectType, object: HubSpotObject, mapping: HubSpotMapping): Contact {
  const type = contactTypeOf(objectType);
  const map = type === 'company' ? mapping.company : mapping.person;
  const { properties } = object;
  const fields: Partial<Record<ContactField, FieldValue>> = {};
  for (const [field, property] of map) {
    if (property in properties) fields[field] = normalizeValue(properties[property]);
  }
  if (type === 'person' && mapping.splitPersonName && ('firstname' in properties || 'lastname' in properties)) {
    fields.name = joinPersonName(properties.firstname ?? null, properties.lastname ?? null);
  }
  const companyHubSpotId = type === 'person' ? normalizeValue(properties[COMPANY_ID_PROPERTY]) : null;
  // A field's own change time from its property's history; without one, the record's time stands.
  const fieldModifiedAt: Partial<Record<ContactField, string>> = {};
  const fieldPrevious: Partial<Record<ContactField, FieldEarlier>> = {};
  for (const field of Object.keys(fields) as ContactField[]) {
    const sources =
      field === 'name' && type === 'person' && mapping.splitPersonName ? ['firstname', 'lastname'] : [map.get(field)];
    const changedAt = changedAtOf(
      object,
      sources.filter((property) => property !== undefined),
    );
    if (changedAt !== null) fieldModifiedAt[field] = changedAt;
    const previous = sources.length === 1 && sources[0] !== undefined ? previousOf(object, sources[0]) : null;
    if (previous !== null) fieldPrevious[field] = previous;
  }
  return {
    entity: 'contact',
    id: toContactId(objectType, object.id),
    type,
    companyId: companyHubSpotId === null ? null : toContactId('companies', companyHubSpotId),
    fields,
    modifiedAt: modifiedAtOf(objectType, object) ?? new Date(0).toISOString(),
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
  const properties: Record<string, string> =
    type === 'person' && mapping.splitPersonName && fields.name !== undefined ? splitPersonName(fields.name) : {};
  for (const [field, property] of type === 'company' ? mapping.company : mapping.person) {
    const value = fields[field];
    if (value !== undefined) properties[property] = value ?? '';
  }
  return properties;
}

/** Joins first and last name with a space, skipping empty parts. */
export function joinPersonName(firstname: string | null, lastname: string | null): FieldValue {
  return normalizeValue(
    [normalizeValue(firstname), normalizeValue(lastname)].filter((part) => part !== null).join(' '),
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
