/**
 * Pure mappers between Pipedrive organizations and persons (API v2) and canonical contacts.
 * Organizations become contacts of type `company`, persons contacts of type `person` belonging to
 * the organization of their `org_id`. Fields Pipedrive has no property for (an organization's
 * phone and e-mail, a VAT no.) are custom fields, addressed by their keys
 * (https://pipedrive.readme.io/docs/core-api-concepts-custom-fields).
 *
 * The request bodies are typed with the official client's models (`pipedrive` package, generated
 * from Pipedrive's OpenAPI document), so a property the API does not have fails `tsc`.
 */
import type { AddOrganizationRequest } from 'pipedrive/dist/versions/v2/models/add-organization-request';
import type { AddPersonRequest } from 'pipedrive/dist/versions/v2/models/add-person-request';
import type { OrganizationItemAddress } from 'pipedrive/dist/versions/v2/models/organization-item-address';
import type { PersonItemEmail } from 'pipedrive/dist/versions/v2/models/person-item-email';
import type { UpdateOrganizationRequest } from 'pipedrive/dist/versions/v2/models/update-organization-request';
import type { UpdatePersonRequest } from 'pipedrive/dist/versions/v2/models/update-person-request';
import {
  type Contact,
  type ContactField,
  type CustomField,
  customField,
  customFieldName,
  type FieldValue,
  normalizeValue,
} from '../../src/core/model';
import type { PipedriveAddress, PipedriveLabelledValue, PipedriveOrganization, PipedrivePerson } from './schemas';

type ContactType = Contact['type'];

/** The parts of a Pipedrive address tandem maps (the rest is kept as Pipedrive has it). */
export type AddressPart = 'route' | 'subpremise' | 'postal_code' | 'locality' | 'admin_area_level_1' | 'country';

/** Where a canonical field lives on a Pipedrive record. */
export type FieldSource =
  | { kind: 'name' }
  | { kind: 'website' }
  | { kind: 'address'; part: AddressPart }
  | { kind: 'email' }
  | { kind: 'phone'; label: 'work' | 'mobile' }
  | { kind: 'custom'; key: string };

/** The mapping in force, per contact type: each field and where it lives. */
export type PipedriveMapping = Record<ContactType, ReadonlyMap<ContactField | CustomField, FieldSource>>;

const ADDRESS_FIELDS: Partial<Record<ContactField, AddressPart>> = {
  address: 'route',
  address2: 'subpremise',
  postCode: 'postal_code',
  city: 'locality',
  county: 'admin_area_level_1',
  countryCode: 'country',
};

/** The canonical fields Pipedrive's own properties hold, per contact type. */
function builtInSources(type: ContactType): Map<ContactField, FieldSource> {
  const sources = new Map<ContactField, FieldSource>([['name', { kind: 'name' }]]);
  for (const [field, part] of Object.entries(ADDRESS_FIELDS) as [ContactField, AddressPart][])
    sources.set(field, { kind: 'address', part });
  if (type === 'company') sources.set('homePage', { kind: 'website' });
  else {
    sources.set('email', { kind: 'email' });
    sources.set('phone', { kind: 'phone', label: 'work' });
    sources.set('mobile', { kind: 'phone', label: 'mobile' });
  }
  return sources;
}

/** A canonical field -> custom field key map of the config; null switches a built-in mapping off. */
export type CustomFieldMap = Partial<Record<ContactField, string | null>>;

/**
 * The mappings in force: Pipedrive's own properties, the configured custom field keys per type
 * (which win over a built-in property), and `extraKeys`: custom fields a mapping names as
 * `custom.<key>` on both types.
 */
export function buildMapping(
  overrides: Partial<Record<ContactType, CustomFieldMap>> = {},
  extraKeys: readonly string[] = [],
): PipedriveMapping {
  const build = (type: ContactType) => {
    const map = new Map<ContactField | CustomField, FieldSource>(builtInSources(type));
    for (const [field, key] of Object.entries(overrides[type] ?? {}) as [ContactField, string | null][]) {
      if (key === null) map.delete(field);
      else map.set(field, { kind: 'custom', key });
    }
    for (const key of extraKeys) map.set(customFieldOf(key), { kind: 'custom', key });
    return map;
  };
  return { company: build('company'), person: build('person') };
}

/**
 * The mapping name of a custom field key. Pipedrive's keys are 40 hex digits and may start with a
 * digit, which a mapping name may not: those get a leading `_` (`custom._9f3c...`).
 */
export function customFieldOf(key: string): CustomField {
  return customField(/^[A-Za-z_]/.test(key) ? key : `_${key}`);
}

/** The custom field key a mapping name `custom.<name>` stands for; null when it is no custom field. */
export function customFieldKey(field: string): string | null {
  const name = customFieldName(field);
  if (name === null) return null;
  return /^_[0-9]/.test(name) ? name.slice(1) : name;
}

/** The canonical fields a mapping can read and write, over both types (custom ones left out). */
export function supportedFields(mapping: PipedriveMapping): string[] {
  return [...new Set([...mapping.company.keys(), ...mapping.person.keys()])].filter(
    (field) => customFieldName(field) === null,
  );
}

/** The canonical id of a Pipedrive record: `company-<id>` or `person-<id>` (no ':', see job ids). */
export function toContactId(type: ContactType, pipedriveId: number | string): string {
  return `${type}-${pipedriveId}`;
}

/** A canonical contact id: the type and Pipedrive's numeric id. */
export const CONTACT_ID = /^(company|person)-([1-9]\d{0,15})$/;

/** Splits a canonical contact id into type and Pipedrive id; null when it is not one of ours. */
export function fromContactId(id: string): { type: ContactType; pipedriveId: number } | null {
  const match = CONTACT_ID.exec(id);
  if (!match?.[1] || !match[2]) return null;
  return { type: match[1] as ContactType, pipedriveId: Number(match[2]) };
}

/** A custom field's value as text: text and numbers as they are, a monetary or other object by its `value`. */
function customValueOf(raw: unknown): FieldValue {
  if (typeof raw === 'string') return normalizeValue(raw);
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  if (typeof raw === 'boolean') return raw ? 'true' : 'false';
  if (typeof raw === 'object' && raw !== null && 'value' in raw)
    return customValueOf((raw as { value: unknown }).value);
  return null;
}

/** The street line of an address: its route, or the unparsed `value` when Pipedrive split nothing out. */
function addressPartOf(address: PipedriveAddress | null | undefined, part: AddressPart): FieldValue {
  if (!address) return null;
  if (part === 'route') {
    const street = [address.route, address.street_number].map((piece) => normalizeValue(piece ?? null));
    const line = street.filter((piece) => piece !== null).join(' ');
    const split = (['route', 'postal_code', 'locality', 'country'] as const).some(
      (key) => normalizeValue(address[key] ?? null) !== null,
    );
    return normalizeValue(line !== '' ? line : split ? null : (address.value ?? null));
  }
  return normalizeValue(address[part] ?? null);
}

/** The primary entry of a person's e-mails or phones (the first when none is marked), or the one labelled `label`. */
function entryOf(entries: readonly PipedriveLabelledValue[] | null | undefined, label?: 'mobile'): FieldValue {
  const list = entries ?? [];
  const found =
    label === 'mobile'
      ? list.find((entry) => entry.label === 'mobile')
      : (list.find((entry) => entry.primary === true && entry.label !== 'mobile') ??
        list.find((entry) => entry.label !== 'mobile'));
  return normalizeValue(found?.value ?? null);
}

/** Reads one field of a record from where the mapping says it lives; undefined when the answer does not carry it. */
function readField(
  source: FieldSource,
  record: { name?: string | null; custom_fields?: Record<string, unknown> | null },
  address: PipedriveAddress | null | undefined,
  extras: {
    website?: string | null;
    emails?: PipedriveLabelledValue[] | null;
    phones?: PipedriveLabelledValue[] | null;
  },
): FieldValue | undefined {
  switch (source.kind) {
    case 'name':
      return 'name' in record ? normalizeValue(record.name ?? null) : undefined;
    case 'website':
      return 'website' in extras ? normalizeValue(extras.website ?? null) : undefined;
    case 'address':
      return address === undefined ? undefined : addressPartOf(address, source.part);
    case 'email':
      return 'emails' in extras ? entryOf(extras.emails) : undefined;
    case 'phone':
      return 'phones' in extras ? entryOf(extras.phones, source.label === 'mobile' ? 'mobile' : undefined) : undefined;
    case 'custom':
      return record.custom_fields ? customValueOf(record.custom_fields[source.key]) : undefined;
  }
}

/** Pipedrive's RFC 3339 time as ISO 8601 (the epoch when missing, so any other side's change wins). */
function modifiedAtOf(updateTime: string | null | undefined): string {
  const millis = Date.parse(updateTime ?? '');
  return new Date(Number.isNaN(millis) ? 0 : millis).toISOString();
}

/** Maps an organization to a company contact. Only what the answer carries becomes a field. */
export function organizationToContact(organization: PipedriveOrganization, mapping: PipedriveMapping): Contact {
  const fields: Contact['fields'] = {};
  const extras = 'website' in organization ? { website: organization.website } : {};
  for (const [field, source] of mapping.company) {
    const value = readField(source, organization, 'address' in organization ? organization.address : undefined, extras);
    if (value !== undefined) fields[field] = value;
  }
  return {
    entity: 'contact',
    id: toContactId('company', organization.id),
    type: 'company',
    companyId: null,
    fields,
    modifiedAt: modifiedAtOf(organization.update_time),
  };
}

/** Maps a person to a person contact, belonging to the company contact of its `org_id`. */
export function personToContact(person: PipedrivePerson, mapping: PipedriveMapping): Contact {
  const fields: Contact['fields'] = {};
  const extras = {
    ...('emails' in person && { emails: person.emails }),
    ...('phones' in person && { phones: person.phones }),
  };
  for (const [field, source] of mapping.person) {
    const value = readField(source, person, 'postal_address' in person ? person.postal_address : undefined, extras);
    if (value !== undefined) fields[field] = value;
  }
  return {
    entity: 'contact',
    id: toContactId('person', person.id),
    type: 'person',
    companyId: typeof person.org_id === 'number' ? toContactId('company', person.org_id) : null,
    fields,
    modifiedAt: modifiedAtOf(person.update_time),
  };
}

type FieldWrites = Readonly<Record<string, FieldValue | undefined>>;

/**
 * The address to send when any of its mapped parts changes: the current address with the changes
 * laid over it, and `value` (what Pipedrive shows) formatted anew from the parts, so that a change
 * of one part never rests on how Pipedrive merges a partial address object.
 */
function addressBody(
  sources: ReadonlyMap<string, FieldSource>,
  fields: FieldWrites,
  current: PipedriveAddress | null | undefined,
): OrganizationItemAddress | undefined {
  const changes: Partial<Record<AddressPart, string>> = {};
  for (const [field, source] of sources) {
    const value = fields[field];
    if (source.kind === 'address' && value !== undefined) changes[source.part] = value ?? '';
  }
  if (Object.keys(changes).length === 0) return undefined;
  const parts: OrganizationItemAddress = {};
  for (const key of [
    'country',
    'admin_area_level_1',
    'admin_area_level_2',
    'locality',
    'sublocality',
    'route',
    'street_number',
    'subpremise',
    'postal_code',
  ] as const) {
    const kept = current?.[key];
    if (typeof kept === 'string') parts[key] = kept;
  }
  // A new street line replaces route and number together: the canonical address holds both.
  if (changes.route !== undefined) delete parts.street_number;
  Object.assign(parts, changes);
  const line = (...pieces: (string | undefined)[]) =>
    pieces.filter((piece) => piece !== undefined && piece !== '').join(' ');
  parts.value = [
    line(parts.route, parts.street_number),
    parts.subpremise,
    line(parts.postal_code, parts.locality),
    parts.admin_area_level_1,
    parts.country,
  ]
    .filter((piece) => piece !== undefined && piece !== '')
    .join(', ');
  return parts;
}

/** The custom_fields of a body: each mapped custom field that is written; null clears it. */
function customFieldsBody(
  sources: ReadonlyMap<string, FieldSource>,
  fields: FieldWrites,
): Record<string, string | null> | undefined {
  const custom: Record<string, string | null> = {};
  for (const [field, source] of sources) {
    const value = fields[field];
    if (source.kind === 'custom' && value !== undefined) custom[source.key] = value;
  }
  return Object.keys(custom).length > 0 ? custom : undefined;
}

/** The name of a body: Pipedrive requires one and refuses an empty name, so a cleared name is not sent. */
function nameBody(sources: ReadonlyMap<string, FieldSource>, fields: FieldWrites): string | undefined {
  for (const [field, source] of sources)
    if (source.kind === 'name' && typeof fields[field] === 'string') return fields[field];
  return undefined;
}

/** The PATCH /api/v2/organizations/{id} body for canonical field writes; `current` is the organization as last read. */
export function toOrganizationUpdate(
  fields: FieldWrites,
  mapping: PipedriveMapping,
  current?: PipedriveOrganization | null,
): UpdateOrganizationRequest {
  const sources = mapping.company;
  const body: UpdateOrganizationRequest = {};
  const name = nameBody(sources, fields);
  if (name !== undefined) body.name = name;
  for (const [field, source] of sources)
    if (source.kind === 'website' && fields[field] !== undefined) body.website = fields[field] ?? null;
  const address = addressBody(sources, fields, current?.address);
  if (address) body.address = address;
  const custom = customFieldsBody(sources, fields);
  if (custom) body.custom_fields = custom;
  return body;
}

/** The POST /api/v2/organizations body for a new company contact; null without a name (Pipedrive requires one). */
export function toOrganizationCreate(fields: FieldWrites, mapping: PipedriveMapping): AddOrganizationRequest | null {
  const { name, ...rest } = toOrganizationUpdate(fields, mapping);
  return name === undefined ? null : { name, ...rest };
}

/**
 * A person's e-mails or phones with one entry set: `work` replaces the primary entry (or becomes
 * it), `mobile` the entry labelled mobile; null removes that entry. The other entries stay.
 */
function withEntry(
  entries: readonly PipedriveLabelledValue[] | null | undefined,
  value: FieldValue,
  label: 'work' | 'mobile',
): PersonItemEmail[] {
  const list = (entries ?? []).map(({ value: text, primary, label: entryLabel }) => ({
    ...(typeof text === 'string' && { value: text }),
    ...(typeof primary === 'boolean' && { primary }),
    ...(typeof entryLabel === 'string' && { label: entryLabel }),
  }));
  const at =
    label === 'mobile'
      ? list.findIndex((entry) => entry.label === 'mobile')
      : (() => {
          const primary = list.findIndex((entry) => entry.primary === true && entry.label !== 'mobile');
          return primary !== -1 ? primary : list.findIndex((entry) => entry.label !== 'mobile');
        })();
  if (value === null) {
    if (at !== -1) list.splice(at, 1);
    return list;
  }
  const existing = at === -1 ? undefined : list[at];
  const entry = {
    value,
    primary: existing?.primary ?? !list.some((other) => other.primary === true),
    label: existing?.label ?? label,
  };
  if (at === -1) list.push(entry);
  else list[at] = entry;
  return list;
}

/** The PATCH /api/v2/persons/{id} body for canonical field writes; `current` is the person as last read. */
export function toPersonUpdate(
  fields: FieldWrites,
  mapping: PipedriveMapping,
  current?: PipedrivePerson | null,
): UpdatePersonRequest {
  const sources = mapping.person;
  const body: UpdatePersonRequest = {};
  const name = nameBody(sources, fields);
  if (name !== undefined) body.name = name;
  let emails = current?.emails;
  let phones = current?.phones;
  for (const [field, source] of sources) {
    const value = fields[field];
    if (value === undefined) continue;
    if (source.kind === 'email') body.emails = emails = withEntry(emails, value, 'work');
    if (source.kind === 'phone') body.phones = phones = withEntry(phones, value, source.label);
  }
  const address = addressBody(sources, fields, current?.postal_address);
  if (address) body.postal_address = address;
  const custom = customFieldsBody(sources, fields);
  if (custom) body.custom_fields = custom;
  return body;
}

/** The POST /api/v2/persons body for a new person contact, in the organization `orgId`; null without a name. */
export function toPersonCreate(
  fields: FieldWrites,
  mapping: PipedriveMapping,
  orgId: number | null,
): AddPersonRequest | null {
  const { name, ...rest } = toPersonUpdate(fields, mapping);
  if (name === undefined) return null;
  return { name, ...rest, ...(orgId !== null && { org_id: orgId }) };
}
