/**
 * Canonical access to one trytond 6.0 database: customers and vendors (parties in the configured
 * categories) and bank accounts. Every call goes through TrytonRpc (session, retries, errors).
 */
import type { Account, FieldValue } from '../../src/core/model';
import { InvalidRequestError, NotFoundError, PreconditionFailedError } from '../kit/errors';
import type { ChangedPage, RecordUpdate } from '../kit/types';
import { advance, formatCursor, parseCursor, searchFrom, unseen } from './cursor';
import {
  checkFields,
  planBankAccountWrite,
  planPartyWrite,
  toBankAccount,
  toPartyAccount,
  type BankAccountData,
  type PartyData,
  type ResolvedRefs,
} from './mappers';
import type { TrytonContext, TrytonRpc } from './rpc';
import {
  addressSchema,
  bankAccountNumberSchema,
  bankAccountSchema,
  contactMechanismSchema,
  idRowSchema,
  identifierSchema,
  ownerSchema,
  parseRows,
  partySchema,
} from './schemas';
import { trytonFromIso } from './values';
import type { z } from 'zod';

/** Which parties are customers and vendors, and how VAT numbers are stored. */
export interface TrytonRules {
  /** party.category name that makes a party a customer. */
  customerCategory: string;
  /** party.category name that makes a party a vendor (Tryton calls them suppliers). */
  supplierCategory: string;
  /** party.identifier type written for a new VAT registration no. */
  vatIdentifierType: string;
  /** Records per page of listChanged. */
  pageSize: number;
  /** How far before the cursor each poll looks again (see cursor.ts). */
  overlapMs: number;
}

type PartyKind = 'customer' | 'vendor';
type Domain = unknown[];

/** search_read answers at most this many rows per call here; larger sets are read in slices. */
const SEARCH_LIMIT = 500;
/** Ids per `('id', 'in', ...)` read. */
const IDS_PER_READ = 200;

const PARTY_FIELDS = ['name', 'code', 'lang.code', '_timestamp', 'create_date', 'write_date'];
const STAMP_FIELDS = ['create_date', 'write_date'];
const BY_SEQUENCE = [
  ['sequence', 'ASC'],
  ['id', 'ASC'],
];

/** The party and bank account models of one trytond database, in canonical records. */
export class TrytonApi {
  private readonly categoryIds = new Map<string, number>();

  constructor(
    readonly rpc: TrytonRpc,
    readonly rules: TrytonRules,
  ) {}

  /** Every row matching `domain`, read in slices of SEARCH_LIMIT. */
  async searchRead<T>(
    model: string,
    schema: z.ZodType<T>,
    domain: Domain,
    fields: string[],
    order: unknown[] = [['id', 'ASC']],
    context: TrytonContext = {},
  ): Promise<T[]> {
    const rows: T[] = [];
    for (let offset = 0; ; offset += SEARCH_LIMIT) {
      const page = parseRows(
        schema,
        await this.rpc.model(model, 'search_read', [domain, offset, SEARCH_LIMIT, order, fields], context),
        model,
      );
      rows.push(...page);
      if (page.length < SEARCH_LIMIT) return rows;
    }
  }

  private async readByIds<T>(
    model: string,
    schema: z.ZodType<T>,
    ids: number[],
    fields: string[],
    order?: unknown[],
    context?: TrytonContext,
  ): Promise<T[]> {
    const rows: T[] = [];
    for (let start = 0; start < ids.length; start += IDS_PER_READ) {
      rows.push(
        ...(await this.searchRead(
          model,
          schema,
          [['id', 'in', ids.slice(start, start + IDS_PER_READ)]],
          fields,
          order,
          context,
        )),
      );
    }
    return rows;
  }

  private categoryName(kind: PartyKind): string {
    return kind === 'customer' ? this.rules.customerCategory : this.rules.supplierCategory;
  }

  private kindDomain(kind: PartyKind): Domain {
    return ['categories.name', '=', this.categoryName(kind)];
  }

  /** The id of the kind's party category; the category must exist. */
  async categoryId(kind: PartyKind): Promise<number> {
    const name = this.categoryName(kind);
    const cached = this.categoryIds.get(name);
    if (cached !== undefined) return cached;
    const [row] = await this.searchRead('party.category', idRowSchema, [['name', '=', name]], ['id']);
    if (row === undefined) {
      throw new InvalidRequestError(
        `tryton: no party category '${name}' for ${kind}s: create it in Tryton or set the connector's ${kind === 'customer' ? 'customerCategory' : 'supplierCategory'}`,
      );
    }
    this.categoryIds.set(name, row.id);
    return row.id;
  }

  // ---- parties ----------------------------------------------------------------------------------

  /** Parties with their contact mechanisms, addresses and identifiers, in the order of `ids`. */
  async readParties(ids: number[], extraDomain: Domain[] = []): Promise<PartyData[]> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return [];
    const parties: z.infer<typeof partySchema>[] = [];
    for (let start = 0; start < unique.length; start += IDS_PER_READ) {
      const slice = unique.slice(start, start + IDS_PER_READ);
      parties.push(
        ...(await this.searchRead('party.party', partySchema, [['id', 'in', slice], ...extraDomain], PARTY_FIELDS)),
      );
    }
    const found = parties.map((party) => party.id);
    if (found.length === 0) return [];
    const children = async <T>(model: string, schema: z.ZodType<T>, fields: string[]) => {
      const rows: T[] = [];
      for (let start = 0; start < found.length; start += IDS_PER_READ) {
        rows.push(
          ...(await this.searchRead(
            model,
            schema,
            [['party', 'in', found.slice(start, start + IDS_PER_READ)]],
            [...fields, 'party', ...STAMP_FIELDS],
            BY_SEQUENCE,
          )),
        );
      }
      return rows;
    };
    const mechanisms = await children('party.contact_mechanism', contactMechanismSchema, ['type', 'value']);
    const addresses = await children('party.address', addressSchema, [
      'street',
      'postal_code',
      'city',
      'country.code',
      'subdivision.name',
      'subdivision.code',
    ]);
    const identifiers = await children('party.identifier', identifierSchema, ['type', 'code']);
    const byParty = new Map(
      parties.map((party) => [party.id, { party, mechanisms: [], addresses: [], identifiers: [] } as PartyData]),
    );
    for (const row of mechanisms) byParty.get(row.party)?.mechanisms.push(row);
    for (const row of addresses) byParty.get(row.party)?.addresses.push(row);
    for (const row of identifiers) byParty.get(row.party)?.identifiers.push(row);
    return unique.map((id) => byParty.get(id)).filter((data): data is PartyData => data !== undefined);
  }

  /**
   * Parties of the kind changed after `since`: their own write or create date, or that of a
   * contact mechanism, address or identifier (edited on its own list, it does not touch the party).
   */
  private async changedPartyIds(kind: PartyKind, since: string | null): Promise<number[]> {
    const domain: Domain[] = [this.kindDomain(kind)];
    if (since !== null) {
      const after = trytonFromIso(since);
      const dates: Domain = ['OR'];
      for (const prefix of ['', 'contact_mechanisms.', 'addresses.', 'identifiers.']) {
        dates.push([`${prefix}write_date`, '>', after], [`${prefix}create_date`, '>', after]);
      }
      domain.push(dates);
    }
    return (await this.searchRead('party.party', idRowSchema, domain, ['id'])).map((row) => row.id);
  }

  async getParty(kind: PartyKind, id: string): Promise<Account | null> {
    const partyId = parseId(id);
    if (partyId === null) return null;
    const [data] = await this.readParties([partyId], [this.kindDomain(kind)]);
    return data === undefined ? null : toPartyAccount(kind, data, this.rules.vatIdentifierType);
  }

  async batchGetParties(kind: PartyKind, ids: string[]): Promise<Account[]> {
    const partyIds = ids.map(parseId).filter((id): id is number => id !== null);
    return (await this.readParties(partyIds, [this.kindDomain(kind)])).map((data) =>
      toPartyAccount(kind, data, this.rules.vatIdentifierType),
    );
  }

  /** Looks up the ids canonical codes stand for; unknown codes are refused with the code named. */
  private async resolveRefs(fields: Record<string, FieldValue>, current: PartyData | null): Promise<ResolvedRefs> {
    const refs: ResolvedRefs = {};
    const value = (field: string) =>
      Object.prototype.hasOwnProperty.call(fields, field) ? (fields[field] ?? null) : undefined;
    const countryCode = value('countryCode');
    if (countryCode !== undefined)
      refs.country =
        countryCode === null
          ? null
          : await this.lookupId(
              'country.country',
              [['code', '=', countryCode.toUpperCase()]],
              `country '${countryCode}'`,
            );
    const county = value('county');
    if (county !== undefined) {
      let countryId = refs.country;
      if (countryId === undefined) countryId = current?.addresses[0]?.['country.']?.id ?? null;
      const within: Domain[] = countryId === null ? [] : [['country', '=', countryId]];
      refs.subdivision =
        county === null
          ? null
          : await this.lookupId(
              'country.subdivision',
              [...within, ['OR', [['name', '=', county]], [['code', '=', county]]]],
              `subdivision '${county}'`,
            );
    }
    const language = value('languageCode');
    if (language !== undefined)
      refs.lang =
        language === null
          ? null
          : await this.lookupId('ir.lang', [['code', '=', language]], `language '${language}'`, { active_test: false });
    return refs;
  }

  private async lookupId(model: string, domain: Domain[], what: string, context: TrytonContext = {}): Promise<number> {
    const [row] = await this.searchRead(model, idRowSchema, domain, ['id'], [['id', 'ASC']], context);
    if (row === undefined) throw new InvalidRequestError(`tryton: no ${what} in ${model}`);
    return row.id;
  }

  /** Creates a party of the kind, or returns the one whose code is `number` (given the kind's category). */
  async createParty(
    kind: PartyKind,
    fields: Record<string, FieldValue>,
    extra: Record<string, unknown> = {},
  ): Promise<Account> {
    checkFields(kind, fields);
    const number = extraString(extra, 'number');
    const categoryId = await this.categoryId(kind);
    if (number !== null) {
      const [existing] = await this.searchRead(
        'party.party',
        idRowSchema,
        [['code', '=', number]],
        ['id'],
        [['id', 'ASC']],
        { active_test: false },
      );
      if (existing !== undefined) {
        // A lost response already created it, or it exists as the other kind: make it this kind too.
        await this.rpc.model('party.party', 'write', [[existing.id], { categories: [['add', [categoryId]]] }]);
        return (await this.getParty(kind, String(existing.id)))!;
      }
    }
    const refs = await this.resolveRefs(fields, null);
    const values = {
      ...planPartyWrite(null, fields, refs, this.rules.vatIdentifierType),
      categories: [['add', [categoryId]]],
      ...(number === null ? {} : { code: number }),
    };
    const created = await this.rpc.model('party.party', 'create', [[values]]);
    const id = Array.isArray(created) && typeof created[0] === 'number' ? created[0] : null;
    if (id === null) throw new InvalidRequestError(`tryton: party.party.create answered ${JSON.stringify(created)}`);
    return (await this.getParty(kind, String(id)))!;
  }

  /**
   * Writes a party. `ifMatch` is compared with the version read just before; the write then carries
   * the party's `_timestamp`, so trytond itself refuses it if the party row changed in between. A
   * change to only a contact mechanism or address in that short gap is not caught (README.md).
   */
  async updateParty(kind: PartyKind, update: RecordUpdate): Promise<Account> {
    checkFields(kind, update.fields);
    const partyId = parseId(update.id);
    const [data] = partyId === null ? [] : await this.readParties([partyId], [this.kindDomain(kind)]);
    if (data === undefined) throw new NotFoundError(`tryton: ${kind} ${update.id} not found`);
    const current = toPartyAccount(kind, data, this.rules.vatIdentifierType);
    if (update.ifMatch !== undefined && update.ifMatch !== current.version) {
      throw new PreconditionFailedError(
        `tryton: ${kind} ${update.id} changed since version ${update.ifMatch} (now ${current.version})`,
      );
    }
    const refs = await this.resolveRefs(update.fields, data);
    const values = planPartyWrite(data, update.fields, refs, this.rules.vatIdentifierType);
    if (Object.keys(values).length === 0) return current;
    const timestamp = data.party._timestamp
      ? { _timestamp: { [`party.party,${data.party.id}`]: data.party._timestamp } }
      : {};
    await this.rpc.model('party.party', 'write', [[data.party.id], values], timestamp);
    const written = await this.getParty(kind, update.id);
    if (written === null) throw new NotFoundError(`tryton: ${kind} ${update.id} disappeared while being written`);
    return written;
  }

  // ---- bank accounts ----------------------------------------------------------------------------

  async readBankAccounts(ids: number[]): Promise<BankAccountData[]> {
    const unique = [...new Set(ids)];
    const accounts = await this.readByIds('bank.account', bankAccountSchema, unique, [
      'owners',
      'currency.code',
      'bank.bic',
      '_timestamp',
      ...STAMP_FIELDS,
    ]);
    if (accounts.length === 0) return [];
    const accountIds = accounts.map((account) => account.id);
    const numbers = await this.searchRead(
      'bank.account.number',
      bankAccountNumberSchema,
      [['account', 'in', accountIds]],
      ['account', 'type', 'number', 'number_compact', ...STAMP_FIELDS],
      BY_SEQUENCE,
    );
    const owners = await this.readByIds(
      'party.party',
      ownerSchema,
      [...new Set(accounts.flatMap((account) => account.owners))],
      ['name', ...STAMP_FIELDS],
      [['id', 'ASC']],
      { active_test: false },
    );
    const ownerById = new Map(owners.map((owner) => [owner.id, owner]));
    const byId = new Map(
      accounts.map((account) => [
        account.id,
        {
          account,
          numbers: numbers.filter((row) => row.account === account.id),
          owners: account.owners
            .map((id) => ownerById.get(id))
            .filter((owner): owner is z.infer<typeof ownerSchema> => owner !== undefined),
        },
      ]),
    );
    return unique.map((id) => byId.get(id)).filter((data): data is BankAccountData => data !== undefined);
  }

  private async changedBankAccountIds(since: string | null): Promise<number[]> {
    const domain: Domain[] = [];
    if (since !== null) {
      const after = trytonFromIso(since);
      const dates: Domain = ['OR'];
      for (const prefix of ['', 'numbers.', 'owners.'])
        dates.push([`${prefix}write_date`, '>', after], [`${prefix}create_date`, '>', after]);
      domain.push(dates);
    }
    return (await this.searchRead('bank.account', idRowSchema, domain, ['id'])).map((row) => row.id);
  }

  async getBankAccount(id: string): Promise<Account | null> {
    const accountId = parseId(id);
    if (accountId === null) return null;
    const [data] = await this.readBankAccounts([accountId]);
    return data === undefined ? null : toBankAccount(data);
  }

  async batchGetBankAccounts(ids: string[]): Promise<Account[]> {
    return (await this.readBankAccounts(ids.map(parseId).filter((id): id is number => id !== null))).map(toBankAccount);
  }

  private async bankRefs(fields: Record<string, FieldValue>): Promise<{ currency?: number | null; bank?: number }> {
    const refs: { currency?: number | null; bank?: number } = {};
    if (Object.prototype.hasOwnProperty.call(fields, 'currencyCode')) {
      const code = fields.currencyCode ?? null;
      refs.currency =
        code === null
          ? null
          : await this.lookupId('currency.currency', [['code', '=', code.toUpperCase()]], `currency '${code}'`, {
              active_test: false,
            });
    }
    const bic = fields.swiftCode ?? null;
    if (bic !== null)
      refs.bank = await this.lookupId('bank', [['bic', '=', bic.toUpperCase()]], `bank with BIC '${bic}'`);
    return refs;
  }

  /**
   * Creates a bank account, or returns the one that already has the IBAN. The bank is the one with
   * the BIC in `swiftCode`, else `extra.bank` (an id), else the only bank there is. The owner is
   * `extra.owner` (a party id), else the one party named `name`, else a new party of that name.
   */
  async createBankAccount(fields: Record<string, FieldValue>, extra: Record<string, unknown> = {}): Promise<Account> {
    checkFields('bankAccount', fields);
    const iban = fields.iban ?? null;
    if (iban !== null) {
      const [existing] = await this.searchRead(
        'bank.account.number',
        z_accountRef,
        [
          ['type', '=', 'iban'],
          ['number', '=', iban],
        ],
        ['account'],
      );
      if (existing !== undefined) return (await this.getBankAccount(String(existing.account)))!;
    }
    const refs = await this.bankRefs(fields);
    const bank = refs.bank ?? extraId(extra, 'bank') ?? (await this.onlyBank());
    const ownerId = extraId(extra, 'owner') ?? (await this.ownerFor(fields.name ?? null));
    const values = {
      ...planBankAccountWrite(null, fields, refs),
      bank,
      ...(ownerId === null ? {} : { owners: [['add', [ownerId]]] }),
    };
    const created = await this.rpc.model('bank.account', 'create', [[values]]);
    const id = Array.isArray(created) && typeof created[0] === 'number' ? created[0] : null;
    if (id === null) throw new InvalidRequestError(`tryton: bank.account.create answered ${JSON.stringify(created)}`);
    return (await this.getBankAccount(String(id)))!;
  }

  private async onlyBank(): Promise<number> {
    const banks = await this.searchRead('bank', idRowSchema, [], ['id']);
    if (banks.length !== 1)
      throw new InvalidRequestError(
        `tryton: a new bank account needs a bank: give swiftCode (the bank's BIC) or extra.bank (there are ${banks.length} banks)`,
      );
    return banks[0]!.id;
  }

  private async ownerFor(name: FieldValue): Promise<number | null> {
    if (name === null) return null;
    const named = await this.searchRead('party.party', idRowSchema, [['name', '=', name]], ['id'], [['id', 'ASC']], {});
    if (named.length === 1) return named[0]!.id;
    const created = await this.rpc.model('party.party', 'create', [[{ name }]]);
    return Array.isArray(created) && typeof created[0] === 'number' ? created[0] : null;
  }

  /** Writes a bank account; the name is written to its first owner (a new owner party when it has none). */
  async updateBankAccount(update: RecordUpdate): Promise<Account> {
    checkFields('bankAccount', update.fields);
    const accountId = parseId(update.id);
    const [data] = accountId === null ? [] : await this.readBankAccounts([accountId]);
    if (data === undefined) throw new NotFoundError(`tryton: bankAccount ${update.id} not found`);
    const current = toBankAccount(data);
    if (update.ifMatch !== undefined && update.ifMatch !== current.version) {
      throw new PreconditionFailedError(
        `tryton: bankAccount ${update.id} changed since version ${update.ifMatch} (now ${current.version})`,
      );
    }
    const refs = await this.bankRefs(update.fields);
    const values = planBankAccountWrite(data, update.fields, refs);
    if (Object.prototype.hasOwnProperty.call(update.fields, 'name')) {
      const name = update.fields.name ?? null;
      const owner = data.owners[0];
      if (owner !== undefined && name !== null && owner.name !== name)
        await this.rpc.model('party.party', 'write', [[owner.id], { name }]);
      if (owner === undefined && name !== null) {
        const ownerId = await this.ownerFor(name);
        if (ownerId !== null) values.owners = [['add', [ownerId]]];
      }
    }
    if (Object.keys(values).length > 0) {
      const timestamp = data.account._timestamp
        ? { _timestamp: { [`bank.account,${data.account.id}`]: data.account._timestamp } }
        : {};
      await this.rpc.model('bank.account', 'write', [[data.account.id], values], timestamp);
    }
    const written = await this.getBankAccount(update.id);
    if (written === null) throw new NotFoundError(`tryton: bankAccount ${update.id} disappeared while being written`);
    return written;
  }

  // ---- polling ----------------------------------------------------------------------------------

  /**
   * Pages of accounts changed since `cursor`, oldest version first, so a cursor saved after any
   * page covers exactly the records handed out so far (see cursor.ts).
   */
  async *listChanged(kind: PartyKind | 'bankAccount', cursor: string | null): AsyncIterable<ChangedPage> {
    let state = parseCursor(cursor);
    const since = searchFrom(state, this.rules.overlapMs);
    const ids =
      kind === 'bankAccount' ? await this.changedBankAccountIds(since) : await this.changedPartyIds(kind, since);
    const records: Account[] = [];
    for (let start = 0; start < ids.length; start += IDS_PER_READ) {
      const slice = ids.slice(start, start + IDS_PER_READ);
      records.push(
        ...(kind === 'bankAccount'
          ? await this.batchGetBankAccounts(slice.map(String))
          : await this.batchGetParties(kind, slice.map(String))),
      );
    }
    const fresh = unseen(state, records).sort((a, b) =>
      a.modifiedAt < b.modifiedAt ? -1 : a.modifiedAt > b.modifiedAt ? 1 : Number(a.id) - Number(b.id),
    );
    if (fresh.length === 0) {
      yield { records: [], cursor: formatCursor(advance(state, [], this.rules.overlapMs)) };
      return;
    }
    for (let start = 0; start < fresh.length; start += this.rules.pageSize) {
      const page = fresh.slice(start, start + this.rules.pageSize);
      state = advance(state, page, this.rules.overlapMs);
      yield { records: page, cursor: formatCursor(state) };
    }
  }
}

const z_accountRef = idRowSchema.extend({ account: idRowSchema.shape.id });

/** A canonical id as a Tryton record id; anything else names no record. */
export function parseId(id: string): number | null {
  return /^[1-9]\d{0,15}$/.test(id) ? Number(id) : null;
}

function extraString(extra: Record<string, unknown>, key: string): string | null {
  const value = extra[key];
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw new InvalidRequestError(`tryton: extra.${key} must be text`);
  return value;
}

function extraId(extra: Record<string, unknown>, key: string): number | null {
  const value = extra[key];
  if (value === undefined || value === null || value === '') return null;
  const id = typeof value === 'number' ? value : typeof value === 'string' ? parseId(value) : null;
  if (id === null || !Number.isInteger(id) || id <= 0)
    throw new InvalidRequestError(`tryton: extra.${key} must be a record id`);
  return id;
}
