/**
 * The Xero accounting connector on the kit: contacts as customers and vendors, accounts of type
 * BANK as bank accounts, of one organisation (tenant).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { cursorAfterPage, isAfterCursor, parseTimeCursor } from '../kit/cursor';
import { defineConnector, type ConnectorContext, type EntityDefinition } from '../kit/define';
import { ConnectorError, InvalidRequestError, InvalidResponseError, NotFoundError } from '../kit/errors';
import { parseRequest } from '../kit/parse';
import { longestWord } from '../kit/search';
import { foldText, searchWords } from '../kit/search';
import type { BatchItemResult, Connector } from '../kit/types';
import type { XeroCredentials } from './auth';
import {
  CONTACT_BATCH_LIMIT,
  CONTACTS_MAX_PAGE_SIZE,
  CONTACTS_PAGE_SIZE,
  connectXero,
  type XeroSession,
} from './client';
import { XERO_API_URL, xeroConfig } from './config';
import { contactNumberFor } from './kinds';
import { accountToBankAccount, bankAccountBody, contactBody, SUPPORTED_FIELDS, type ContactKind } from './mappers';
import type { XeroAccount, XeroContact, XeroContactWrite } from './schemas';
import { createXeroWebhook } from './webhook';

const MINUTE_MS = 60_000;

/** Bank account codes are at most 10 characters in Xero. */
const ACCOUNT_CODE_LENGTH = 10;

/** The Xero contact properties a create's `extra` may carry besides the canonical fields. */
const contactExtraSchema = z.strictObject({
  number: z.string().max(50).nullish(),
  /** The name of a contact created without one (Xero requires a name); the canonical name wins. */
  Name: z.string().max(255).nullish(),
  AccountNumber: z.string().max(50).nullish(),
  CompanyNumber: z.string().max(50).nullish(),
  FirstName: z.string().max(255).nullish(),
  LastName: z.string().max(255).nullish(),
  BankAccountDetails: z.string().nullish(),
  AccountsReceivableTaxType: z.string().nullish(),
  AccountsPayableTaxType: z.string().nullish(),
  SalesDefaultAccountCode: z.string().nullish(),
  PurchasesDefaultAccountCode: z.string().nullish(),
});

/** The Xero account properties a bank account create's `extra` may carry. */
const bankAccountExtraSchema = z.strictObject({
  number: z.string().max(ACCOUNT_CODE_LENGTH).nullish(),
  BankAccountType: z.enum(['BANK', 'CREDITCARD', 'PAYPAL']).nullish(),
  TaxType: z.string().nullish(),
});

/**
 * Contacts a search reads per record it may return: Xero's searchTerm knows nothing of kinds, and
 * a contact counts as a kind by more than IsCustomer / IsSupplier (kinds.ts), so a where clause on
 * the flags would miss tracked ones; the other kinds are dropped after reading.
 */
const SEARCH_KIND_OVERFETCH = 2;

/** Xero's ContactID and AccountID are GUIDs. */
const XERO_ID = {
  pattern: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  means: 'a Xero id (a GUID)',
};

/** The Xero connector, as the registry lists it. */
export const xero = defineConnector({
  name: 'xero',
  side: 'accounting',
  config: xeroConfig,
  secrets: ['clientSecret', 'refreshToken', 'webhookKey'],
  // Per tenant: 5 calls in flight, 60 a minute and 5,000 a day; Xero counts what is left in
  // X-MinLimit-Remaining and X-DayLimit-Remaining. A full minute is waited out, a used-up day goes
  // back to the queue. https://developer.xero.com/documentation/guides/oauth2/limits/
  limits: {
    concurrency: 5,
    requests: [
      { max: 60, perMs: MINUTE_MS, remainingHeader: 'X-MinLimit-Remaining' },
      { max: 5000, perMs: 24 * 60 * MINUTE_MS, remainingHeader: 'X-DayLimit-Remaining' },
    ],
    maxWaitMs: MINUTE_MS,
    batchSize: { read: CONTACTS_PAGE_SIZE, write: CONTACT_BATCH_LIMIT },
  },
  connect: connectXero,
  entities: { customer: contactEntity('customer'), vendor: contactEntity('vendor'), bankAccount: bankAccountEntity() },
  webhook: (session) => session.webhook && createXeroWebhook(session.webhook),
  // Subscriptions are set up in the Xero developer portal: there is no `subscribe`.
  health: ({ api }) => api.probe(),
});

/** Customers or vendors: Xero contacts told apart by ContactKinds; without etags, `ifMatch` cannot be honoured. */
function contactEntity(kind: ContactKind): EntityDefinition<XeroSession> {
  const get = async ({ api, kinds }: XeroSession, id: string) => {
    const contact = await api.contact(id);
    return contact && (await kinds.record(kind, contact));
  };
  return {
    fields: () => SUPPORTED_FIELDS[kind],
    id: XERO_ID,
    get,
    async *listChanged({ api, kinds, name }, cursor) {
      const since = parseTimeCursor(cursor, name);
      let current = since;
      for (let page = 1, more = true; more; page++) {
        const answer = await api.contactsPage(page, since);
        more = answer.more;
        // If-Modified-Since may include the cursor's own instant: only later changes are new.
        const changed = answer.contacts.filter((contact) => isAfterCursor(contact.UpdatedDateUTC, since));
        const records = (await kinds.records(kind, changed)).filter((record) => record.xero.kinds.includes(kind));
        const times = answer.contacts.map((contact) => contact.UpdatedDateUTC);
        current = cursorAfterPage(times, current, !more);
        yield { records, cursor: current ?? '' };
      }
    },
    batchGet: async ({ api, kinds }, ids) => await kinds.records(kind, await api.contactsByIds(ids)),

    // searchTerm (name, contact number, e-mail) and, for a text that can be one, TaxNumber; see the README.
    async search({ api, kinds }, text, limit) {
      const pageSize = Math.min(CONTACTS_MAX_PAGE_SIZE, limit * SEARCH_KIND_OVERFETCH);
      const [byTaxNumber, found] = await Promise.all([
        api.contactsByTaxNumber(text, limit),
        // The longest word: whether Xero matches a phrase or words is not documented; the kit keeps the records holding all.
        api.searchContacts(longestWord(text), pageSize),
      ]);
      const contacts = [...new Map([...byTaxNumber, ...found].map((contact) => [contact.ContactID, contact])).values()];
      const records = await kinds.records(kind, contacts);
      return records.filter((record) => record.xero.kinds.includes(kind)).slice(0, limit);
    },

    async create({ api, kinds, name }, fields, { idempotencyKey, extra }) {
      const { number: given, ...properties } = parseRequest(contactExtraSchema, extra ?? {}, `${name}: create options`);
      const body = { ...withoutNull(properties), ...contactBody(kind, fields) };
      const prefix = kinds.prefix(kind);
      const number = given ?? (prefix === undefined ? null : contactNumberFor(prefix, idempotencyKey));
      // Xero keeps idempotency keys for a limited time; the number finds a lost create for good.
      let contact = number === null ? null : await api.contactByNumber(number);
      if (contact === null) {
        const written = await api.saveContacts(
          [number === null ? body : { ...body, ContactNumber: number }],
          idempotencyKey,
        );
        contact = accepted(written[0], `${name}: creating a ${kind}`);
      }
      kinds.rememberCreated(contact.ContactID, kind);
      return await kinds.record(kind, contact);
    },

    async update(session, { id, fields }) {
      const body = contactBody(kind, fields);
      if (Object.keys(body).length === 0) return required(`${kind} ${id}`, await get(session, id));
      // A fresh key per write: a later write is new (the client sends an update once, see client.ts).
      const [written] = await session.api.saveContacts([body], randomUUID(), id);
      return await session.kinds.record(kind, accepted(written, `${session.name}: updating ${kind} ${id}`));
    },

    async batchUpdate({ api, kinds, name }, updates) {
      // A field Xero cannot write refuses the whole call, which the kit then writes one by one.
      const bodies = updates.map(({ id, fields }) => ({ ContactID: id, ...contactBody(kind, fields) }));
      const written = await api.saveContacts(bodies, randomUUID());
      // One item per input, in the order sent; the kit fails an item the answer leaves out.
      const failed: BatchItemResult[] = [];
      const contacts: XeroContact[] = [];
      updates.forEach(({ id }, index) => {
        const item = written[index];
        const what = `${name}: updating ${kind} ${id}`;
        const error = item && itemError(item, what);
        if (error) failed.push({ id, ok: false, error });
        else if (item) contacts.push(accepted(item, what));
      });
      const records = await kinds.records(kind, contacts);
      return [...failed, ...records.map((record): BatchItemResult => ({ id: record.id, ok: true, record }))];
    },
  };
}

/** Bank accounts: Xero accounts of type BANK, written one at a time. */
function bankAccountEntity(): EntityDefinition<XeroSession> {
  const get = async ({ api }: XeroSession, id: string) => {
    const account = await api.bankAccount(id);
    return account && accountToBankAccount(account);
  };
  return {
    fields: () => SUPPORTED_FIELDS.bankAccount,
    id: XERO_ID,
    get,
    // Xero does not page accounts: one call, one page.
    async *listChanged({ api, name }, cursor) {
      const since = parseTimeCursor(cursor, name);
      const listed = await api.bankAccounts(since);
      const accounts = listed.filter((account) => isAfterCursor(account.UpdatedDateUTC, since));
      const times = accounts.map((account) => account.UpdatedDateUTC);
      yield { records: accounts.map(accountToBankAccount), cursor: cursorAfterPage(times, since, true) ?? '' };
    },
    // Accounts cannot be filtered by a list of ids; the bank accounts are few: read them all.
    batchGet: async ({ api }, ids) =>
      (await api.bankAccounts(null)).filter((account) => ids.includes(account.AccountID)).map(accountToBankAccount),
    // Accounts have no search; the bank accounts are few: read them all and keep those every word occurs in.
    search: async ({ api }, text, limit) =>
      (await api.bankAccounts(null))
        .filter((account) => holdsEveryWord(account, text))
        .slice(0, limit)
        .map(accountToBankAccount),

    async create({ api, name }, fields, { idempotencyKey, extra }) {
      const { number, ...properties } = parseRequest(bankAccountExtraSchema, extra ?? {}, `${name}: create options`);
      const code = number ?? contactNumberFor('', idempotencyKey).slice(0, ACCOUNT_CODE_LENGTH);
      const body = { ...withoutNull(properties), ...bankAccountBody(fields), Code: code, Type: 'BANK' };
      const account = (await api.bankAccountByCode(code)) ?? (await api.saveAccount(null, body, idempotencyKey));
      return accountToBankAccount(account);
    },

    async update(session, { id, fields }) {
      const body = bankAccountBody(fields);
      if (Object.keys(body).length === 0) return required(`bankAccount ${id}`, await get(session, id));
      // A fresh key per write: a later write is new (the client sends an update once, see client.ts).
      return accountToBankAccount(await session.api.saveAccount(id, body, randomUUID()));
    },
  };
}

/** Whether every word of a search occurs in the account's name, code or bank account number. */
function holdsEveryWord({ Name, Code, BankAccountNumber }: XeroAccount, text: string): boolean {
  const haystack = foldText([Name, Code, BankAccountNumber].filter(Boolean).join(' '));
  return searchWords(text).every((word) => haystack.includes(word));
}

/** A per-item validation failure as a connector error; "not found" ones are NotFoundError. */
function itemError({ ValidationErrors: errors }: XeroContactWrite, what: string): ConnectorError | null {
  if (!errors || errors.length === 0) return null;
  const message = `${what}: ${errors.map((error) => error.Message ?? 'invalid').join('; ')}`;
  return /not (be )?found|could not find|does not exist/i.test(message)
    ? new NotFoundError(message)
    : new InvalidRequestError(message, 400);
}

/** The contact of a write answer item Xero accepted; its validation errors thrown, a broken answer too. */
function accepted(item: XeroContactWrite | undefined, what: string): XeroContact {
  if (item === undefined) throw new InvalidResponseError(`${what}: Xero answered no contact`);
  const error = itemError(item, what);
  if (error) throw error;
  const { ContactID } = item;
  if (!ContactID) throw new InvalidResponseError(`${what}: Xero accepted the contact but returned no ContactID`);
  return { ...item, ContactID };
}

function required<T>(what: string, record: T | null): T {
  if (record === null) throw new NotFoundError(`xero: ${what} does not exist`);
  return record;
}

function withoutNull(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== null && value !== undefined));
}

/** Options of createXeroConnector: the build context, the organisation and the app's credentials. */
export interface XeroConnectorOptions extends ConnectorContext {
  /** The Accounting API base; defaults to https://api.xero.com/api.xro/2.0 (a sandbox URL in tests). */
  baseUrl?: string;
  /** The organisation's tenant id (GET https://api.xero.com/connections), sent as Xero-tenant-id. */
  tenantId: string;
  /** The app's credentials; `onRefreshToken` receives each rotated refresh token (else `saveSecret` does). */
  auth: XeroCredentials & { onRefreshToken?: (newRefreshToken: string) => void | Promise<void> };
  /** Enables webhooks; `key` is the webhook key of the app. */
  webhook?: { key: string };
  /** ContactNumber prefixes that mark a contact as a customer or vendor (default: none). */
  contactNumberPrefix?: Partial<Record<ContactKind, string>>;
}

/** Creates a Xero connector without a config file (tests, scripts). No I/O until a method is called. */
export function createXeroConnector(options: XeroConnectorOptions): Connector {
  const { baseUrl = XERO_API_URL, tenantId, auth, webhook, contactNumberPrefix, ...context } = options;
  const { onRefreshToken, ...credentials } = auth;
  const settings = {
    baseUrl,
    tenantId,
    credentials: { ...credentials, webhookKey: webhook?.key },
    contactNumberPrefix: { customer: '', vendor: '', ...contactNumberPrefix },
  };
  const saveSecret = onRefreshToken ? async (_name: string, token: string) => await onRefreshToken(token) : undefined;
  return xero.create(settings, { ...context, saveSecret: saveSecret ?? context.saveSecret });
}
