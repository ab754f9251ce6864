/** How each account kind is stored in Tryton: parties by category, and bank.account records (an AccountTable each). */
import { z } from 'zod';
import type { Account, AccountKind, FieldValue } from '../../src/core/model';
import { InvalidRequestError } from '../kit/errors';
import type { FieldDescription } from '../kit/types';
import type { trytonConfig } from './config';
import {
  customFieldsOf,
  customWrites,
  DESCRIBED_MODELS,
  describeAccountFields,
  namesCustomField,
  readCustomValues,
  RECORD_MODEL,
  type CustomValues,
  type TrytonField,
} from './fields';
import {
  planBankAccountWrite,
  planPartyWrite,
  SUPPORTED_FIELDS,
  toBankAccount,
  toPartyAccount,
  type ResolvedRefs,
} from './mappers';
import { containing, type Domain, type TrytonRpc } from './rpc';
import {
  BANK_ACCOUNT_FIELDS,
  bankAccountSchema,
  PARTY_FIELDS,
  partySchema,
  trytonFromIso,
  type BankAccount,
  type Party,
} from './schemas';

/** A Tryton record id as tandem writes it. */
export const TRYTON_ID = /^[1-9]\d{0,15}$/;

/** A canonical id as a Tryton record id; anything else names no record. */
export function parseId(id: string): number | null {
  return TRYTON_ID.test(id) ? Number(id) : null;
}

/** The Tryton ids of canonical ids, the ones that cannot be Tryton ids left out. */
export function parseIds(ids: readonly string[]): number[] {
  return ids.map(parseId).filter((id) => id !== null);
}

/** A create's `extra`, as the connector reads it: '' and null are "not given". */
const given = (value: unknown) => (value === '' || value === null ? undefined : value);
const recordId = z.union([z.number().int().positive(), z.string().regex(TRYTON_ID).transform(Number)]);
export const createExtraSchema = z.object({
  /** The party code: a create with a code that exists returns that party. */
  number: z.preprocess(given, z.string().optional()),
  /** A new bank account's bank and owner party. */
  bank: z.preprocess(given, recordId.optional()),
  owner: z.preprocess(given, recordId.optional()),
});

/** How one kind of account is stored: `Data` is a record with the child rows it is mapped from, and its `_timestamp`. */
export interface AccountTable<Data extends { id: number; _timestamp?: string | null }> {
  model: 'party.party' | 'bank.account';
  /** The child records (`addresses`, ...) whose changes count as the record's. */
  children: string[];
  /** The records of the kind that match `domain`. */
  search(domain: Domain[]): Promise<Data[]>;
  /** Up to `limit` records of the kind that a picker's search text finds (see `searchDomain`). */
  find(text: string, limit: number): Promise<Data[]>;
  toAccount(data: Data): Account;
  /** The `write` values that bring the record to `fields`; may write related records first. */
  plan(data: Data, fields: Record<string, FieldValue>): Promise<Record<string, unknown>>;
  /** Creates a record, or finds the one an earlier create with the same key made; its id. */
  create(fields: Record<string, FieldValue>, extra: z.infer<typeof createExtraSchema>): Promise<number>;
  /** The kind's fields as a mapping may name them, from Tryton's `fields_get`. */
  describe(): Promise<FieldDescription[]>;
}

/** The names of the custom fields the mappings in force name for a kind, without `custom.`. */
export type MappedCustomFields = () => readonly string[];

/**
 * How a kind's custom fields are read and written: which of the mapped ones Tryton offers (one
 * it no longer has is not asked for, as it would fail the whole read), and their `write` values.
 * `fields_get` is called only when a custom field is mapped or written.
 */
function customColumns(rpc: TrytonRpc, kind: AccountKind, names: MappedCustomFields) {
  const offered = async () => customFieldsOf(kind, await rpc.fieldsGet(RECORD_MODEL[kind]));
  return {
    async mapped(): Promise<TrytonField[]> {
      const wanted = names();
      if (wanted.length === 0) return [];
      const fields = await offered();
      return wanted.flatMap((name) => fields.get(name) ?? []);
    },
    async writes(fields: Record<string, FieldValue>): Promise<Record<string, unknown>> {
      return namesCustomField(fields) ? customWrites(kind, await offered(), fields) : {};
    },
    /** The description: the models DESCRIBED_MODELS names, one `fields_get` each. */
    async describe(): Promise<FieldDescription[]> {
      const models = new Map<string, Map<string, TrytonField>>();
      for (const [model, fields] of Object.entries(DESCRIBED_MODELS[kind]))
        models.set(model, await rpc.fieldsGet(model, fields ?? null));
      return describeAccountFields(kind, SUPPORTED_FIELDS[kind], models);
    },
  };
}

/**
 * The domain of records whose own write or create date, or that of a child record (`children`:
 * `addresses`, ...), is after `since`: a child edited on its own list does not touch its parent.
 */
export function changedSince(since: string, children: string[]): Domain[] {
  const after = trytonFromIso(since);
  const dates = ['', ...children.map((child) => `${child}.`)].flatMap((prefix) => [
    [`${prefix}write_date`, '>', after],
    [`${prefix}create_date`, '>', after],
  ]);
  return [['OR', ...dates]];
}

/**
 * The domain of a search: every word of `text` occurs in one of the `columns` (a clause per
 * column and pattern), or the text without its spaces, dots and dashes occurs in one of the
 * `compactColumns` (a VAT no. or IBAN typed in groups, so only a text with a digit). Words and
 * text go in as escaped ilike patterns.
 */
export function searchDomain(
  text: string,
  columns: (pattern: string) => Domain[],
  compactColumns: (pattern: string) => Domain[],
): Domain[] {
  const words = text.split(/\s+/).filter((word) => word !== '');
  const everyWord = words.map((word) => ['OR', ...columns(containing(word))]);
  const compact = text.replace(/[\s.-]/g, '');
  const compacted = compact === text || !/\d/.test(compact) ? [] : compactColumns(containing(compact));
  return [['OR', everyWord, ...compacted]];
}

/** A party's code and the code of any of its identifiers (the VAT no. among them). */
const partyCodes = (pattern: string): Domain[] => [
  ['code', 'ilike', pattern],
  ['identifiers.code', 'ilike', pattern],
];
/** What a party is searched by: name, codes and the active e-mail addresses. */
const partyColumns = (pattern: string): Domain[] => [
  ['name', 'ilike', pattern],
  ...partyCodes(pattern),
  [
    'contact_mechanisms',
    'where',
    [
      ['type', '=', 'email'],
      ['value', 'ilike', pattern],
    ],
  ],
];
/** A bank account's numbers: trytond looks in the number as written and in its compact form. */
const bankAccountNumbers = (pattern: string): Domain[] => [['numbers.number', 'ilike', pattern]];
/** What a bank account is searched by: its numbers and its owners' names. */
const bankAccountColumns = (pattern: string): Domain[] => [
  ...bankAccountNumbers(pattern),
  ['owners.name', 'ilike', pattern],
];

/** Country and currency codes are upper-case. */
const byCode = (code: string) => [['code', '=', code.toUpperCase()]];

/** Which parties are customers and vendors, and how VAT numbers are stored (the connector's config). */
type PartyRules = Pick<z.output<typeof trytonConfig>, 'customerCategory' | 'supplierCategory' | 'vatIdentifierType'>;

/** Looks up the ids a party's canonical codes stand for; unknown codes are refused with the code named. */
async function partyRefs(
  rpc: TrytonRpc,
  { countryCode, county, languageCode }: Record<string, FieldValue>,
  current: Party | null,
): Promise<ResolvedRefs> {
  const country = await rpc.ref('country.country', 'country', countryCode, byCode);
  // A county is looked up within the country written with it, else the address's own.
  const countryId = country === undefined ? current?.['addresses.'][0]?.['country.']?.id : country;
  const within = countryId == null ? [] : [['country', '=', countryId]];
  const named = (name: string) => [...within, ['OR', [['name', '=', name]], [['code', '=', name]]]];
  const subdivision = await rpc.ref('country.subdivision', 'subdivision', county, named);
  const lang = await rpc.ref('ir.lang', 'language', languageCode, (code) => [['code', '=', code]], {
    active_test: false,
  });
  return { country, subdivision, lang };
}

/** The customers or the vendors of a database: parties in the kind's category, with the custom fields mapped. */
export function partyTable(
  rpc: TrytonRpc,
  rules: PartyRules,
  kind: 'customer' | 'vendor',
  mappedCustom: MappedCustomFields,
): AccountTable<Party & CustomValues> {
  const key = kind === 'customer' ? 'customerCategory' : 'supplierCategory';
  const name = rules[key];
  const ofKind = [['categories.name', '=', name]];
  let categoryId: number | undefined;
  const category = async () => {
    const [id] = await rpc.searchIds('party.category', [['name', '=', name]]);
    if (id === undefined)
      throw new InvalidRequestError(
        `tryton: no party category '${name}' for ${kind}s: create it in Tryton or set the connector's ${key}`,
      );
    return id;
  };
  const custom = customColumns(rpc, kind, mappedCustom);
  const search = async (domain: Domain[], limit?: number) => {
    const mapped = await custom.mapped();
    const fields = [...PARTY_FIELDS, ...mapped.map((field) => field.name)];
    const rows = await rpc.search('party.party', partySchema.loose(), fields, [...ofKind, ...domain], limit);
    return rows.map((row) => ({ ...row, custom: readCustomValues(kind, mapped, row) }));
  };
  // Custom values are typed first: a value Tryton would not take is refused before any lookup.
  const plan = async (party: Party | null, fields: Record<string, FieldValue>) => {
    const customValues = await custom.writes(fields);
    const refs = await partyRefs(rpc, fields, party);
    return { ...planPartyWrite(party, fields, refs, rules.vatIdentifierType), ...customValues };
  };
  return {
    model: 'party.party',
    children: ['contact_mechanisms', 'addresses', 'identifiers'],
    search,
    find: (text, limit) => search(searchDomain(text, partyColumns, partyCodes), limit),
    toAccount: (party) => toPartyAccount(kind, party, rules.vatIdentifierType),
    plan,
    describe: () => custom.describe(),

    /** A new party of the kind, or the one whose code is `number`, given the kind's category. */
    async create(fields, { number }) {
      categoryId ??= await category();
      const categories = [['add', [categoryId]]];
      if (number !== undefined) {
        const [existing] = await rpc.searchIds('party.party', [['code', '=', number]], { active_test: false });
        if (existing !== undefined) {
          // A lost response already created it, or it exists as the other kind: make it this kind too.
          await rpc.model('party.party', 'write', [[existing], { categories }]);
          return existing;
        }
      }
      const values = { ...(await plan(null, fields)), categories };
      return await rpc.create('party.party', number === undefined ? values : { ...values, code: number });
    },
  };
}

/** The only bank there is, for a new bank account that names none. */
async function onlyBank(rpc: TrytonRpc): Promise<number> {
  const banks = await rpc.searchIds('bank', []);
  const [bank] = banks;
  if (bank === undefined || banks.length > 1)
    throw new InvalidRequestError(
      `tryton: a new bank account needs a bank: give swiftCode (the bank's BIC) or extra.bank (there are ${banks.length} banks)`,
    );
  return bank;
}

/** The one party named `name`, else a new party of that name: the owner of a bank account. */
async function ownerFor(rpc: TrytonRpc, name: string): Promise<number> {
  const named = await rpc.searchIds('party.party', [['name', '=', name]]);
  const [owner] = named;
  return owner !== undefined && named.length === 1 ? owner : await rpc.create('party.party', { name });
}

const accountRef = z.object({ account: z.number().int() });

/** The bank accounts of a database: bank.account records with their numbers and owner parties, and the custom fields mapped. */
export function bankAccountTable(
  rpc: TrytonRpc,
  mappedCustom: MappedCustomFields,
): AccountTable<BankAccount & CustomValues> {
  const refs = async ({ currencyCode, swiftCode }: Record<string, FieldValue>) => ({
    currency: await rpc.ref('currency.currency', 'currency', currencyCode, byCode, { active_test: false }),
    bank: (await rpc.ref('bank', 'bank with BIC', swiftCode, (bic) => [['bic', '=', bic.toUpperCase()]])) ?? undefined,
  });
  const custom = customColumns(rpc, 'bankAccount', mappedCustom);
  const search = async (domain: Domain[], limit?: number) => {
    const mapped = await custom.mapped();
    const fields = [...BANK_ACCOUNT_FIELDS, ...mapped.map((field) => field.name)];
    const rows = await rpc.search('bank.account', bankAccountSchema.loose(), fields, domain, limit);
    return rows.map((row) => ({ ...row, custom: readCustomValues('bankAccount', mapped, row) }));
  };
  return {
    model: 'bank.account',
    children: ['numbers', 'owners'],
    search,
    find: (text, limit) => search(searchDomain(text, bankAccountColumns, bankAccountNumbers), limit),
    toAccount: toBankAccount,
    describe: () => custom.describe(),

    /** The name is written to the first owner (a new owner party when there is none), after the custom values are typed. */
    async plan(account, fields) {
      const customValues = await custom.writes(fields);
      const values = { ...planBankAccountWrite(account, fields, await refs(fields)), ...customValues };
      const { name = null } = fields;
      const [owner] = account['owners.'];
      if (owner !== undefined && name !== null && owner.name !== name)
        await rpc.model('party.party', 'write', [[owner.id], { name }]);
      if (owner === undefined && name !== null) values.owners = [['add', [await ownerFor(rpc, name)]]];
      return values;
    },

    /** A new bank account, or the one that already has the IBAN; its bank and owner: README.md, "Bank accounts". */
    async create(fields, extra) {
      const { iban = null, name = null } = fields;
      const ibanDomain = [
        ['type', '=', 'iban'],
        ['number', '=', iban],
      ];
      const [existing] =
        iban === null ? [] : await rpc.search('bank.account.number', accountRef, ['account'], ibanDomain);
      if (existing !== undefined) return existing.account;
      const customValues = await custom.writes(fields);
      const found = await refs(fields);
      const bank = found.bank ?? extra.bank ?? (await onlyBank(rpc));
      const owner = extra.owner ?? (name === null ? undefined : await ownerFor(rpc, name));
      const values = { ...planBankAccountWrite(null, fields, found), ...customValues, bank };
      return await rpc.create('bank.account', owner === undefined ? values : { ...values, owners: [['add', [owner]]] });
    },
  };
}
