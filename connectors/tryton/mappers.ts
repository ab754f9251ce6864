/**
 * Pure mapping between trytond 6.0 records and canonical accounts, both ways.
 *
 * A customer or vendor is a party.party; its phone, fax, e-mail and website are its first active
 * contact mechanism of that type, its address is its first address, its VAT registration no. its
 * tax identifier. A bank account is a bank.account with its numbers and owner parties.
 */
import { normalizeValue, type Account, type AccountKind, type FieldValue } from '../../src/core/model';
import { InvalidRequestError } from '../kit/errors';
import type {
  AddressRow,
  BankAccountNumberRow,
  BankAccountRow,
  ContactMechanismRow,
  IdentifierRow,
  OwnerRow,
  PartyRow,
} from './schemas';
import { isoFromTryton, type TrytonDatetime } from './values';

/** Canonical fields of customers and vendors; accounts have no `mobile`. */
export const PARTY_FIELDS = [
  'name',
  'address',
  'address2',
  'postCode',
  'city',
  'county',
  'countryCode',
  'phone',
  'fax',
  'email',
  'homePage',
  'vatRegistrationNo',
  'languageCode',
] as const;
/** Canonical fields of bank accounts. */
export const BANK_ACCOUNT_FIELDS = ['name', 'iban', 'bankAccountNo', 'swiftCode', 'currencyCode'] as const;

/** The connector's fields per entity. */
export const SUPPORTED_FIELDS: Record<AccountKind, readonly string[]> = {
  customer: PARTY_FIELDS,
  vendor: PARTY_FIELDS,
  bankAccount: BANK_ACCOUNT_FIELDS,
};

/** Contact mechanism type per canonical field (party.contact_mechanism `type`). */
export const MECHANISM_TYPES = { phone: 'phone', fax: 'fax', email: 'email', homePage: 'website' } as const;
type MechanismField = keyof typeof MECHANISM_TYPES;

/** Tax identifier types of party.party.tax_identifier_types() in 6.0. */
export const TAX_IDENTIFIER_TYPES: ReadonlySet<string> = new Set(
  'ad_nrt al_nipt ar_cuit be_vat bg_vat by_unp ch_vat cl_rut cn_uscc co_rut cr_cpj cz_dic de_vat dk_cvr do_rnc ec_ruc ee_kmkr es_nif eu_vat fi_alv fr_tva gb_vat gr_vat gt_nit hu_anum id_npwp ie_vat il_hp is_vsk it_iva jp_cn kr_brn lt_pvm lu_tva lv_pvn mc_tva md_idno mt_vat mx_rfc nl_btw no_mva nz_ird pe_ruc pl_nip pt_nif py_ruc ro_cf rs_pib ru_inn se_vat si_ddv sk_dph sm_coe us_atin us_ein us_itin us_ptin us_ssn us_tin uy_ruc ve_rif za_tin'.split(
    ' ',
  ),
);

/** A party with the child records the mapping reads, children in trytond's order (sequence, id). */
export interface PartyData {
  party: PartyRow;
  mechanisms: ContactMechanismRow[];
  addresses: AddressRow[];
  identifiers: IdentifierRow[];
}

/** A bank account with its numbers and owners. */
export interface BankAccountData {
  account: BankAccountRow;
  numbers: BankAccountNumberRow[];
  owners: OwnerRow[];
}

type Stamped = { create_date: TrytonDatetime; write_date?: TrytonDatetime | null };

/**
 * The record's version and modification time: the latest create or write date of the record and
 * of every child it is mapped from, so a phone changed on its contact mechanism alone moves it.
 * ISO strings with microseconds sort the way the times do.
 */
export function versionOf(rows: Stamped[]): string {
  let latest = '';
  for (const row of rows) {
    const stamp = isoFromTryton(row.write_date ?? row.create_date);
    if (stamp > latest) latest = stamp;
  }
  return latest;
}

/** The first active mechanism of a type, as Tryton's own `party.phone` etc. pick it. */
function mechanism(data: PartyData, type: string): ContactMechanismRow | undefined {
  return data.mechanisms.find((row) => row.type === type);
}

/** The identifier that carries the VAT registration no.: the configured type first, else any tax type. */
export function taxIdentifier(data: PartyData, vatType: string): IdentifierRow | undefined {
  return (
    data.identifiers.find((row) => row.type === vatType) ??
    data.identifiers.find((row) => row.type != null && TAX_IDENTIFIER_TYPES.has(row.type))
  );
}

function streetLines(street: string | null | undefined): [FieldValue, FieldValue] {
  const lines = (street ?? '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  return [normalizeValue(lines[0]), normalizeValue(lines.slice(1).join(', '))];
}

/** A party as a canonical customer or vendor. */
export function toPartyAccount(kind: 'customer' | 'vendor', data: PartyData, vatType: string): Account {
  const address = data.addresses[0];
  const [line1, line2] = streetLines(address?.street);
  const version = versionOf([data.party, ...data.mechanisms, ...data.addresses, ...data.identifiers]);
  return {
    entity: kind,
    id: String(data.party.id),
    number: normalizeValue(data.party.code),
    fields: {
      name: normalizeValue(data.party.name),
      address: line1,
      address2: line2,
      postCode: normalizeValue(address?.postal_code),
      city: normalizeValue(address?.city),
      county: normalizeValue(address?.['subdivision.']?.name),
      countryCode: normalizeValue(address?.['country.']?.code),
      phone: normalizeValue(mechanism(data, 'phone')?.value),
      fax: normalizeValue(mechanism(data, 'fax')?.value),
      email: normalizeValue(mechanism(data, 'email')?.value),
      homePage: normalizeValue(mechanism(data, 'website')?.value),
      vatRegistrationNo: normalizeValue(taxIdentifier(data, vatType)?.code),
      languageCode: normalizeValue(data.party['lang.']?.code),
    },
    modifiedAt: version,
    version,
  };
}

/** A bank account as a canonical bank account; the name is its first owner's. */
export function toBankAccount(data: BankAccountData): Account {
  const iban = data.numbers.find((row) => row.type === 'iban');
  const other = data.numbers.find((row) => row.type === 'other');
  const version = versionOf([data.account, ...data.numbers, ...data.owners]);
  return {
    entity: 'bankAccount',
    id: String(data.account.id),
    number: normalizeValue(iban?.number_compact ?? other?.number),
    fields: {
      name: normalizeValue(data.owners[0]?.name),
      iban: normalizeValue(iban?.number_compact ?? iban?.number),
      bankAccountNo: normalizeValue(other?.number),
      swiftCode: normalizeValue(data.account['bank.']?.bic),
      currencyCode: normalizeValue(data.account['currency.']?.code),
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

/** Refuses canonical fields the entity does not have, before anything is sent. */
export function checkFields(kind: AccountKind, fields: Record<string, FieldValue>): void {
  const supported = new Set(SUPPORTED_FIELDS[kind]);
  const unknown = Object.keys(fields).filter((field) => !supported.has(field));
  if (unknown.length > 0)
    throw new InvalidRequestError(`tryton: ${kind} has no field ${unknown.map((field) => `'${field}'`).join(', ')}`);
}

/**
 * The `party.party.write` values that bring a party to the given canonical fields: its own fields,
 * and create / write / delete actions on its contact mechanisms, first address and tax identifier,
 * so the whole change is one call, one transaction, and moves the party's write_date.
 */
export function planPartyWrite(
  data: PartyData | null,
  fields: Record<string, FieldValue>,
  refs: ResolvedRefs,
  vatType: string,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const has = (field: string) => Object.prototype.hasOwnProperty.call(fields, field);
  const value = (field: string) => normalizeValue(fields[field]);

  if (has('name')) values.name = value('name');
  if (has('languageCode')) values.lang = refs.lang ?? null;

  const mechanismActions: One2ManyAction[] = [];
  for (const field of Object.keys(MECHANISM_TYPES) as MechanismField[]) {
    if (!has(field)) continue;
    const type = MECHANISM_TYPES[field];
    const current = data === null ? undefined : mechanism(data, type);
    const target = value(field);
    if (target === null) {
      if (current !== undefined) mechanismActions.push(['delete', [current.id]]);
    } else if (current === undefined) mechanismActions.push(['create', [{ type, value: target }]]);
    else if (normalizeValue(current.value) !== target)
      mechanismActions.push(['write', [current.id], { value: target }]);
  }
  if (mechanismActions.length > 0) values.contact_mechanisms = mechanismActions;

  const address = data?.addresses[0];
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
    const current = data === null ? undefined : taxIdentifier(data, vatType);
    const target = value('vatRegistrationNo');
    if (target === null) {
      if (current !== undefined) values.identifiers = [['delete', [current.id]]];
    } else if (current === undefined) values.identifiers = [['create', [{ type: vatType, code: target }]]];
    else if (current.code !== target) values.identifiers = [['write', [current.id], { code: target }]];
  }
  return values;
}

/** The `bank.account.write` values for the canonical bank account fields (the name goes to the owner). */
export function planBankAccountWrite(
  data: BankAccountData | null,
  fields: Record<string, FieldValue>,
  refs: { currency?: number | null; bank?: number },
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const has = (field: string) => Object.prototype.hasOwnProperty.call(fields, field);
  const numberActions: One2ManyAction[] = [];
  for (const [field, type] of [
    ['iban', 'iban'],
    ['bankAccountNo', 'other'],
  ] as const) {
    if (!has(field)) continue;
    const current = data?.numbers.find((row) => row.type === type);
    const target = normalizeValue(fields[field]);
    const stored =
      type === 'iban' ? normalizeValue(current?.number_compact ?? current?.number) : normalizeValue(current?.number);
    const comparable = type === 'iban' && target !== null ? target.replace(/\s+/g, '').toUpperCase() : target;
    if (target === null) {
      if (current !== undefined) numberActions.push(['delete', [current.id]]);
    } else if (current === undefined) numberActions.push(['create', [{ type, number: target }]]);
    else if (stored !== comparable) numberActions.push(['write', [current.id], { number: target }]);
  }
  if (numberActions.length > 0) values.numbers = numberActions;
  if (has('currencyCode')) values.currency = refs.currency ?? null;
  if (has('swiftCode') && refs.bank !== undefined) values.bank = refs.bank;
  return values;
}
