/**
 * Pure mapping between trytond 6.0 records and canonical accounts, both ways (README.md,
 * "Customers and vendors" and "Bank accounts").
 */
import {
  customField,
  customFieldName,
  normalizeValue,
  type Account,
  type AccountKind,
  type FieldValue,
} from '../../src/core/model';
import { InvalidRequestError } from '../kit/errors';
import type { CustomValues } from './fields';
import type { BankAccount, Party } from './schemas';

/** Tax identifier types of party.party.tax_identifier_types() in 6.0. */
const TAX_IDENTIFIER_TYPES: ReadonlySet<string> = new Set(
  'ad_nrt al_nipt ar_cuit be_vat bg_vat by_unp ch_vat cl_rut cn_uscc co_rut cr_cpj cz_dic de_vat dk_cvr do_rnc ec_ruc ee_kmkr es_nif eu_vat fi_alv fr_tva gb_vat gr_vat gt_nit hu_anum id_npwp ie_vat il_hp is_vsk it_iva jp_cn kr_brn lt_pvm lu_tva lv_pvn mc_tva md_idno mt_vat mx_rfc nl_btw no_mva nz_ird pe_ruc pl_nip pt_nif py_ruc ro_cf rs_pib ru_inn se_vat si_ddv sk_dph sm_coe us_atin us_ein us_itin us_ptin us_ssn us_tin uy_ruc ve_rif za_tin'.split(
    ' ',
  ),
);

/** Contact mechanism type per canonical field (party.contact_mechanism `type`). */
const MECHANISM_TYPES = { phone: 'phone', fax: 'fax', email: 'email', homePage: 'website' } as const;

/** The first active mechanism of a type, as Tryton's own `party.phone` etc. pick it. */
const mechanism = (party: Party, type: string) => party['contact_mechanisms.'].find((row) => row.type === type);

/** The identifier that carries the VAT registration no.: the configured type first, else any tax type. */
function taxIdentifier(party: Party, vatType: string) {
  const identifiers = party['identifiers.'];
  return (
    identifiers.find((row) => row.type === vatType) ??
    identifiers.find((row) => row.type != null && TAX_IDENTIFIER_TYPES.has(row.type))
  );
}

function streetLines(street: string | null | undefined): [FieldValue, FieldValue] {
  const lines = (street ?? '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  return [normalizeValue(lines[0]), normalizeValue(lines.slice(1).join(', '))];
}

const firstAddress = (party: Party) => party['addresses.'][0];
const mechanismReader = (type: string) => (party: Party) => mechanism(party, type)?.value;

/** Each canonical field of a customer or vendor, as read from the party; accounts have no `mobile`. */
const PARTY_READERS: Record<string, (party: Party, vatType: string) => string | null | undefined> = {
  name: (party) => party.name,
  address: (party) => streetLines(firstAddress(party)?.street)[0],
  address2: (party) => streetLines(firstAddress(party)?.street)[1],
  postCode: (party) => firstAddress(party)?.postal_code,
  city: (party) => firstAddress(party)?.city,
  county: (party) => firstAddress(party)?.['subdivision.']?.name,
  countryCode: (party) => firstAddress(party)?.['country.']?.code,
  ...Object.fromEntries(Object.entries(MECHANISM_TYPES).map(([field, type]) => [field, mechanismReader(type)])),
  vatRegistrationNo: (party, vatType) => taxIdentifier(party, vatType)?.code,
  languageCode: (party) => party['lang.']?.code,
};

/** The connector's fields per entity. */
export const SUPPORTED_FIELDS: Record<AccountKind, readonly string[]> = {
  customer: Object.keys(PARTY_READERS),
  vendor: Object.keys(PARTY_READERS),
  bankAccount: ['name', 'iban', 'bankAccountNo', 'swiftCode', 'currencyCode'],
};

/**
 * The record's version and modification time: the latest create or write date of the record and
 * of every child it is mapped from (a phone changed on its contact mechanism alone moves it).
 */
function versionOf(rows: { create_date: string; write_date?: string | null }[]): string {
  return rows.map((row) => row.write_date ?? row.create_date).reduce((a, b) => (b > a ? b : a), '');
}

/** The custom fields a record was read with, as `custom.<field>` entries. */
const customEntries = ({ custom }: Partial<CustomValues>) =>
  Object.entries(custom ?? {}).map(([name, value]): [string, FieldValue] => [customField(name), value]);

/** A party as a canonical customer or vendor, with the custom fields it was read with. */
export function toPartyAccount(
  kind: 'customer' | 'vendor',
  party: Party & Partial<CustomValues>,
  vatType: string,
): Account {
  const version = versionOf([party, ...party['contact_mechanisms.'], ...party['addresses.'], ...party['identifiers.']]);
  const fields = Object.entries(PARTY_READERS).map(([field, read]): [string, FieldValue] => [
    field,
    normalizeValue(read(party, vatType)),
  ]);
  return {
    entity: kind,
    id: String(party.id),
    number: normalizeValue(party.code),
    fields: Object.fromEntries([...fields, ...customEntries(party)]),
    modifiedAt: version,
    version,
  };
}

/** A bank account as a canonical bank account, with the custom fields it was read with; the name is its first owner's. */
export function toBankAccount(account: BankAccount & Partial<CustomValues>): Account {
  const iban = account['numbers.'].find((row) => row.type === 'iban');
  const other = account['numbers.'].find((row) => row.type === 'other');
  const version = versionOf([account, ...account['numbers.'], ...account['owners.']]);
  return {
    entity: 'bankAccount',
    id: String(account.id),
    number: normalizeValue(iban?.number_compact ?? other?.number),
    fields: {
      name: normalizeValue(account['owners.'][0]?.name),
      iban: normalizeValue(iban?.number_compact ?? iban?.number),
      bankAccountNo: normalizeValue(other?.number),
      swiftCode: normalizeValue(account['bank.']?.bic),
      currencyCode: normalizeValue(account['currency.']?.code),
      ...Object.fromEntries(customEntries(account)),
    },
    modifiedAt: version,
    version,
  };
}

/** Ids of the records canonical codes stand for, looked up before a write is planned. */
export interface ResolvedRefs {
  country?: number | null;
  subdivision?: number | null;
  lang?: number | null;
}

type One2ManyAction =
  ['create', Record<string, unknown>[]] | ['write', number[], Record<string, unknown>] | ['delete', number[]];

/** The action that brings a child record of `type` to `target` under `key`: deleted for null, created, or written unless `same`. */
function childAction(
  current: { id: number } | undefined,
  [key, target]: [string, FieldValue],
  same: boolean,
  type: string,
): One2ManyAction[] {
  if (target === null) return current === undefined ? [] : [['delete', [current.id]]];
  if (current === undefined) return [['create', [{ type, [key]: target }]]];
  return same ? [] : [['write', [current.id], { [key]: target }]];
}

/** Refuses canonical fields the entity does not have, before anything is sent; custom fields are checked against Tryton's schema when written. */
export function checkFields(kind: AccountKind, fields: Record<string, FieldValue>): void {
  const supported = new Set(SUPPORTED_FIELDS[kind]);
  const unknown = Object.keys(fields).filter((field) => !supported.has(field) && customFieldName(field) === null);
  if (unknown.length > 0)
    throw new InvalidRequestError(`tryton: ${kind} has no field ${unknown.map((field) => `'${field}'`).join(', ')}`);
}

/**
 * The `party.party.write` values that bring a party to the given canonical fields: its own fields,
 * and create / write / delete actions on its contact mechanisms, first address and tax identifier,
 * so the whole change is one call, one transaction, and moves the party's write_date.
 */
export function planPartyWrite(
  party: Party | null,
  fields: Record<string, FieldValue>,
  refs: ResolvedRefs,
  vatType: string,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const has = (field: string) => Object.prototype.hasOwnProperty.call(fields, field);
  const value = (field: string) => normalizeValue(fields[field]);

  if (has('name')) values.name = value('name');
  if (has('languageCode')) values.lang = refs.lang ?? null;

  const mechanisms = Object.entries(MECHANISM_TYPES).flatMap(([field, type]) => {
    if (!has(field)) return [];
    const current = party === null ? undefined : mechanism(party, type);
    return childAction(current, ['value', value(field)], normalizeValue(current?.value) === value(field), type);
  });
  if (mechanisms.length > 0) values.contact_mechanisms = mechanisms;

  const address = party?.['addresses.'][0];
  const addressValues: Record<string, unknown> = {};
  if (has('address') || has('address2')) {
    const [line1, line2] = streetLines(address?.street);
    const lines = [has('address') ? value('address') : line1, has('address2') ? value('address2') : line2].filter(
      (line): line is string => line !== null,
    );
    addressValues.street = lines.length === 0 ? null : lines.join('\n');
  }
  if (has('postCode')) addressValues.postal_code = value('postCode');
  if (has('city')) addressValues.city = value('city');
  if (has('countryCode')) addressValues.country = refs.country ?? null;
  if (has('county')) addressValues.subdivision = refs.subdivision ?? null;
  if (Object.keys(addressValues).length > 0) {
    values.addresses = address === undefined ? [['create', [addressValues]]] : [['write', [address.id], addressValues]];
  }

  if (has('vatRegistrationNo')) {
    const current = party === null ? undefined : taxIdentifier(party, vatType);
    const target = value('vatRegistrationNo');
    const identifiers = childAction(current, ['code', target], current?.code === target, vatType);
    if (identifiers.length > 0) values.identifiers = identifiers;
  }
  return values;
}

/** The `bank.account.write` values for the canonical bank account fields (the name goes to the owner). */
export function planBankAccountWrite(
  account: BankAccount | null,
  fields: Record<string, FieldValue>,
  refs: { currency?: number | null; bank?: number },
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const has = (field: string) => Object.prototype.hasOwnProperty.call(fields, field);
  const numbers = (['iban', 'bankAccountNo'] as const).flatMap((field) => {
    if (!has(field)) return [];
    const type = field === 'iban' ? 'iban' : 'other';
    const current = account?.['numbers.'].find((row) => row.type === type);
    const target = normalizeValue(fields[field]);
    // An IBAN is compared in its compact form, as trytond keeps it in number_compact.
    const same =
      type === 'iban'
        ? normalizeValue(current?.number_compact ?? current?.number) === target?.replace(/\s+/g, '').toUpperCase()
        : normalizeValue(current?.number) === target;
    return childAction(current, ['number', target], same, type);
  });
  if (numbers.length > 0) values.numbers = numbers;
  if (has('currencyCode')) values.currency = refs.currency ?? null;
  if (has('swiftCode') && refs.bank !== undefined) values.bank = refs.bank;
  return values;
}
