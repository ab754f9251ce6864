/**
 * vCards as canonical contacts and back (pure). A card is a company contact when it is KIND:org
 * (vCard 4.0) or its FN is its ORG's organisation name (how address book apps write company
 * cards); every other card is a person. Writing changes only the properties of the fields written,
 * keeping their parameters and every other property, and stamps REV.
 */
import { normalizeValue, type Contact, type FieldValue } from '../../src/core/model';
import {
  escapeText,
  formatStructured,
  paramValues,
  structuredValue,
  unescapeText,
  type VCard,
  type VCardProperty,
} from './vcard';

/** The canonical fields a card carries. */
export const CARD_FIELDS = [
  'name',
  'address',
  'address2',
  'postCode',
  'city',
  'county',
  'countryCode',
  'phone',
  'mobile',
  'fax',
  'email',
  'homePage',
] as const;
type CardField = (typeof CARD_FIELDS)[number];

/** ADR's components (RFC 6350 section 6.3.1): canonical field -> index. */
const ADR_COMPONENTS: Partial<Record<CardField, number>> = {
  address2: 1,
  address: 2,
  city: 3,
  county: 4,
  postCode: 5,
  countryCode: 6,
};

const first = (card: VCard, name: string) => card.properties.find((property) => property.name === name);

/** The TEL of a kind: cell and fax by TYPE, the phone one that is neither (PREF=1 first). */
function telOf(card: VCard, kind: 'phone' | 'mobile' | 'fax'): VCardProperty | undefined {
  const tels = card.properties
    .filter((property) => property.name === 'TEL')
    .filter((tel) => {
      const types = paramValues(tel, 'TYPE');
      if (kind === 'mobile') return types.includes('cell');
      if (kind === 'fax') return types.includes('fax');
      return !types.includes('cell') && !types.includes('fax');
    });
  return tels.find((tel) => paramValues(tel, 'PREF').includes('1')) ?? tels[0];
}

/** A TEL value without the `tel:` of vCard 4.0's URI form. */
const telText = (tel: VCardProperty) => unescapeText(tel.value).replace(/^tel:/i, '');

/** Whether the card is a company's. */
export function isCompanyCard(card: VCard): boolean {
  const kind = first(card, 'KIND')?.value.trim().toLowerCase();
  if (kind === 'org') return true;
  if (kind !== undefined && kind !== 'individual') return false;
  const org = first(card, 'ORG');
  const fn = first(card, 'FN');
  return org !== undefined && fn !== undefined && structuredValue(org)[0]?.trim() === unescapeText(fn.value).trim();
}

/** A REV timestamp (20261206T222500Z, or ISO 8601) as ISO 8601, or null. */
export function revTime(value: string): string | null {
  const basic = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value.trim());
  const text = basic ? `${basic[1]}-${basic[2]}-${basic[3]}T${basic[4]}:${basic[5]}:${basic[6]}Z` : value.trim();
  const time = Date.parse(text);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

/** A card's canonical fields. */
export function cardFields(card: VCard): Record<CardField, FieldValue> {
  const adr = first(card, 'ADR');
  const components = adr ? structuredValue(adr) : [];
  const fields = {} as Record<CardField, FieldValue>;
  for (const field of CARD_FIELDS) {
    const index = ADR_COMPONENTS[field];
    if (index !== undefined) fields[field] = normalizeValue(components[index]);
  }
  const fn = first(card, 'FN');
  fields.name = normalizeValue(fn && unescapeText(fn.value));
  for (const kind of ['phone', 'mobile', 'fax'] as const) {
    const tel = telOf(card, kind);
    fields[kind] = normalizeValue(tel && telText(tel));
  }
  const email = first(card, 'EMAIL');
  fields.email = normalizeValue(email && unescapeText(email.value));
  const url = first(card, 'URL');
  fields.homePage = normalizeValue(url?.value);
  return fields;
}

/** A card as a canonical contact; `modifiedAt` is REV, else the server's last-modified time. */
export function toContact(id: string, etag: string, card: VCard, lastModified: string | null): Contact {
  const rev = first(card, 'REV');
  const modifiedAt = (rev && revTime(rev.value)) ?? lastModified ?? new Date(0).toISOString();
  return {
    entity: 'contact',
    id,
    type: isCompanyCard(card) ? 'company' : 'person',
    companyId: null,
    fields: cardFields(card),
    modifiedAt,
    version: etag,
  };
}

/** Replaces the first property `name` (or `found`) with `value`, appends one, or removes it for null. */
function setProperty(card: VCard, found: VCardProperty | undefined, fresh: VCardProperty, value: string | null): void {
  if (value === null) {
    if (found) card.properties.splice(card.properties.indexOf(found), 1);
  } else if (found) found.value = fresh.value;
  else card.properties.push(fresh);
}

const property = (name: string, value: string, params: VCardProperty['params'] = []): VCardProperty => ({
  group: null,
  name,
  params,
  value,
});

/** REV as vCard's basic format (RFC 6350 section 6.7.4). */
export function revValue(time: Date): string {
  return time
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** The card with the canonical fields written into it (a copy; unknown properties kept). */
export function applyFields(card: VCard, fields: Readonly<Record<string, FieldValue>>, now: Date): VCard {
  const next: VCard = {
    version: card.version,
    properties: card.properties.map((line) => ({ ...line, params: line.params.map((p) => ({ ...p })) })),
  };
  const v4 = next.version.startsWith('4');
  const company = isCompanyCard(card);
  for (const [field, raw] of Object.entries(fields)) {
    const value = normalizeValue(raw);
    if (field === 'name') {
      // FN is required (RFC 6350 section 6.2.1): an empty name keeps the property, empty.
      setProperty(next, first(next, 'FN'), property('FN', escapeText(value ?? '')), escapeText(value ?? ''));
      if (!first(next, 'N') && !v4)
        next.properties.push(property('N', formatStructured([value ?? '', '', '', '', ''])));
      // A company card's FN is its ORG's name: both move, so it stays a company card.
      const org = first(next, 'ORG');
      if (company && org && value !== null) org.value = formatStructured([value, ...structuredValue(org).slice(1)]);
    } else if (field === 'phone' || field === 'mobile' || field === 'fax') {
      const found = telOf(next, field);
      const type = field === 'mobile' ? 'cell' : field === 'fax' ? 'fax' : 'work,voice';
      const text = value === null ? null : found && /^tel:/i.test(found.value) ? `tel:${value}` : escapeText(value);
      setProperty(next, found, property('TEL', text ?? '', [{ name: 'TYPE', values: [type] }]), text);
    } else if (field === 'email') {
      const text = value === null ? null : escapeText(value);
      setProperty(next, first(next, 'EMAIL'), property('EMAIL', text ?? ''), text);
    } else if (field === 'homePage') {
      setProperty(next, first(next, 'URL'), property('URL', value ?? ''), value);
    } else {
      const index = ADR_COMPONENTS[field as CardField];
      if (index === undefined) continue;
      let adr = first(next, 'ADR');
      if (!adr) {
        if (value === null) continue;
        adr = property('ADR', ';;;;;;', [{ name: 'TYPE', values: ['work'] }]);
        next.properties.push(adr);
      }
      const components = structuredValue(adr);
      while (components.length < 7) components.push('');
      components[index] = value ?? '';
      adr.value = formatStructured(components);
    }
  }
  const rev = property('REV', revValue(now));
  setProperty(next, first(next, 'REV'), rev, rev.value);
  return next;
}

/** A new card with a UID, FN and the fields; KIND:org (4.0) for a company. */
export function newCard(
  uid: string,
  type: 'company' | 'person',
  fields: Readonly<Record<string, FieldValue>>,
  now: Date,
): VCard {
  const name = normalizeValue(fields.name) ?? '';
  const properties = [property('VERSION', '4.0'), property('UID', `urn:uuid:${uid}`), property('FN', escapeText(name))];
  if (type === 'company') properties.push(property('KIND', 'org'), property('ORG', formatStructured([name])));
  return applyFields({ version: '4.0', properties }, fields, now);
}

/**
 * Where a person card names its company: each vCard 4.0 RELATED value (RFC 6350 section 6.6.6,
 * the company card's UID, usually urn:uuid:...) and the ORG's organisation name, in that order.
 */
export function companyLinks(card: VCard): { uids: string[]; org: string | null } {
  const uids = card.properties
    .filter((line) => line.name === 'RELATED')
    .map((line) => unescapeText(line.value).trim())
    .filter((value) => value !== '');
  const org = first(card, 'ORG');
  return { uids, org: normalizeValue(org && structuredValue(org)[0]) };
}
