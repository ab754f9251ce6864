/**
 * The Xero accounting connector: contacts as customers and vendors, accounts of type BANK as bank
 * accounts, of one organisation (tenant).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AccountKind, Entity, FieldValue } from '../../src/core/model';
import {
  ConnectorError,
  InvalidRequestError,
  InvalidResponseError,
  NotFoundError,
  RateLimitedError,
} from '../kit/errors';
import { HttpClient, type ResponseObserver, type RetryPolicy } from '../kit/http';
import type { BatchItemResult, ChangedPage, Connector, RecordUpdate } from '../kit/types';
import { RefreshTokenProvider, type XeroAuthOptions } from './auth';
import { XERO_API_URL, XeroClient } from './client';
import { ContactKinds, contactNumberFor, type ContactKindOptions } from './kinds';
import { XeroRateLimiter, type LimiterClock, type RateLimits } from './limiter';
import {
  accountToBankAccount,
  bankAccountBody,
  contactBody,
  contactToAccount,
  SUPPORTED_FIELDS,
  type ContactKind,
  type XeroAccountRecord,
} from './mappers';
import type { XeroAccount, XeroContact, XeroContactWrite } from './schemas';
import { createXeroWebhook } from './webhook';

/** Options of createXeroConnector. */
export interface XeroConnectorOptions {
  /** The connector's name in config. */
  name: string;
  /** The Accounting API base; defaults to https://api.xero.com/api.xro/2.0 (a sandbox URL in tests). */
  baseUrl?: string;
  /** The organisation's tenant id (GET https://api.xero.com/connections), sent as Xero-tenant-id. */
  tenantId: string;
  auth: XeroAuthOptions;
  retry?: Partial<RetryPolicy>;
  observe?: ResponseObserver;
  timeoutMs?: number;
  /** Enables webhooks; `key` is the webhook key of the app. */
  webhook?: { key: string };
  /** How customers and vendors are told apart (see kinds.ts and README.md). */
  contactKinds?: ContactKindOptions;
  /** Xero's limits, lowered for a tenant shared with other apps; defaults to 5 concurrent, 60 per minute. */
  rateLimits?: Partial<RateLimits>;
  /** Clock and sleep of the rate limiter, injectable for tests. */
  clock?: LimiterClock;
}

/** Contacts per POST /Contacts: Xero advises at most 50 items per write for timely answers. */
export const CONTACT_BATCH_LIMIT = 50;

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

/** Creates the accounting connector for one Xero organisation. No I/O until a method is called. */
export function createXeroConnector(options: XeroConnectorOptions): Connector {
  const name = options.name;
  const http = new HttpClient({
    connector: name,
    baseURL: (options.baseUrl ?? XERO_API_URL).replace(/\/+$/, ''),
    auth: new RefreshTokenProvider(options.auth, { timeoutMs: options.timeoutMs }),
    retry: options.retry,
    observe: options.observe,
    timeoutMs: options.timeoutMs,
  });
  const client = new XeroClient(http, options.tenantId, new XeroRateLimiter(options.rateLimits, options.clock));
  const kinds = new ContactKinds(options.contactKinds);
  const webhook =
    options.webhook === undefined
      ? undefined
      : createXeroWebhook({
          key: options.webhook.key,
          tenantId: options.tenantId,
          knownKinds: (id) => kinds.knownKinds(id),
        });

  async function toRecords(kind: ContactKind, contacts: readonly XeroContact[]): Promise<XeroAccountRecord[]> {
    const resolved = await kinds.resolve(contacts);
    return contacts.map((contact) => contactToAccount(kind, contact, resolved.get(contact.ContactID) ?? []));
  }

  async function toRecord(kind: ContactKind, contact: XeroContact): Promise<XeroAccountRecord> {
    const [record] = await toRecords(kind, [contact]);
    if (record === undefined) throw new InvalidResponseError(`${name}: contact ${contact.ContactID} was not read`);
    return record;
  }

  async function* listContacts(kind: ContactKind, since: string | null): AsyncIterable<ChangedPage> {
    let cursor = since;
    for (let page = 1; ; page++) {
      const { contacts, more } = await client.contactsPage(page, since);
      // If-Modified-Since may include the cursor's own instant: only later changes are new.
      const changed = contacts.filter((contact) => isAfter(contact.UpdatedDateUTC, since));
      const records = (await toRecords(kind, changed)).filter((record) => record.xero.kinds.includes(kind));
      cursor = cursorAfterPage(contacts, cursor, !more);
      yield { records, cursor: cursor ?? '' };
      if (!more) return;
    }
  }

  async function* listBankAccounts(since: string | null): AsyncIterable<ChangedPage> {
    const accounts = (await client.bankAccounts(since)).filter(
      (account) => account.Type === 'BANK' && isAfter(account.UpdatedDateUTC, since),
    );
    yield { records: accounts.map(accountToBankAccount), cursor: cursorAfterPage(accounts, since, true) ?? '' };
  }

  async function createContact(
    kind: ContactKind,
    fields: Record<string, FieldValue>,
    idempotencyKey: string,
    extraInput: unknown,
  ): Promise<XeroAccountRecord> {
    const extra = parseExtra(contactExtraSchema, extraInput, kind);
    const body = contactBody(kind, fields);
    const { number: givenNumber, ...properties } = extra;
    const prefix = kinds.prefix(kind);
    const number = givenNumber ?? (prefix === undefined ? null : contactNumberFor(prefix, idempotencyKey));
    if (number !== null) {
      // Xero keeps idempotency keys for a limited time; the number finds a lost create for good.
      const existing = await client.contactByNumber(number);
      if (existing !== null) {
        kinds.rememberCreated(existing.ContactID, kind);
        return await toRecord(kind, existing);
      }
    }
    const [created] = await client.saveContacts(
      [{ ...withoutNull(properties), ...body, ...(number === null ? {} : { ContactNumber: number }) }],
      idempotencyKey,
    );
    if (created === undefined) throw new InvalidResponseError(`${name}: the contact create returned no contact`);
    const error = itemError(created.ValidationErrors, `${name}: creating a ${kind}`);
    if (error) throw error;
    const contact = withContactId(created, name);
    kinds.rememberCreated(contact.ContactID, kind);
    return await toRecord(kind, contact);
  }

  async function createBankAccount(
    fields: Record<string, FieldValue>,
    idempotencyKey: string,
    extraInput: unknown,
  ): Promise<XeroAccountRecord> {
    const { number, ...properties } = parseExtra(bankAccountExtraSchema, extraInput, 'bankAccount');
    const code = number ?? contactNumberFor('', idempotencyKey).slice(0, ACCOUNT_CODE_LENGTH);
    const existing = await client.accountByCode(code);
    if (existing !== null && existing.Type === 'BANK') return accountToBankAccount(existing);
    const created = await client.createAccount(
      { ...withoutNull(properties), ...bankAccountBody(fields), Code: code, Type: 'BANK' },
      idempotencyKey,
    );
    return accountToBankAccount(created);
  }

  async function updateOne(kind: AccountKind, update: RecordUpdate): Promise<XeroAccountRecord> {
    if (kind === 'bankAccount') {
      const body = bankAccountBody(update.fields);
      if (Object.keys(body).length === 0) return requireRecord(kind, update.id, await getBankAccount(update.id));
      return accountToBankAccount(await client.updateAccount(update.id, body, randomUUID()));
    }
    const body = contactBody(kind, update.fields);
    if (Object.keys(body).length === 0) return requireRecord(kind, update.id, await getContact(kind, update.id));
    // A fresh key per write: a retry inside the client repeats it safely, a later write is new.
    const contact = await client.updateContact(update.id, body, randomUUID());
    const error = itemError(contact.ValidationErrors, `${name}: updating ${kind} ${update.id}`);
    if (error) throw error;
    return await toRecord(kind, contact);
  }

  async function getContact(kind: ContactKind, id: string): Promise<XeroAccountRecord | null> {
    const contact = await client.contact(id);
    return contact === null ? null : await toRecord(kind, contact);
  }

  async function getBankAccount(id: string): Promise<XeroAccountRecord | null> {
    const account = await client.account(id);
    return account === null || account.Type !== 'BANK' ? null : accountToBankAccount(account);
  }

  async function batchUpdateContacts(kind: ContactKind, updates: RecordUpdate[]): Promise<BatchItemResult[]> {
    const results: BatchItemResult[] = [];
    for (let start = 0; start < updates.length; start += CONTACT_BATCH_LIMIT) {
      const part = updates.slice(start, start + CONTACT_BATCH_LIMIT);
      const bodies: Record<string, unknown>[] = [];
      const refused = new Map<number, Error>();
      part.forEach((update, index) => {
        try {
          bodies.push({ ContactID: update.id, ...contactBody(kind, update.fields) });
        } catch (error) {
          refused.set(index, error as Error);
        }
      });
      const written = bodies.length === 0 ? [] : await client.saveContacts(bodies, randomUUID());
      const records = await toRecords(
        kind,
        written
          .filter((contact) => !hasErrors(contact.ValidationErrors))
          .map((contact) => withContactId(contact, name)),
      );
      const byId = new Map(records.map((record) => [record.id, record]));
      let next = 0;
      part.forEach((update, index) => {
        const early = refused.get(index);
        if (early) {
          results.push({ id: update.id, ok: false, error: early });
          return;
        }
        // summarizeErrors=false answers one item per input, in the order sent.
        const item = written[next++];
        const error =
          item === undefined
            ? new InvalidResponseError(`${name}: the batch answer has no item for ${update.id}`)
            : itemError(item.ValidationErrors, `${name}: updating ${kind} ${update.id}`);
        const record = byId.get(update.id);
        results.push(
          error || record === undefined
            ? {
                id: update.id,
                ok: false,
                error: error ?? new InvalidResponseError(`${name}: ${update.id} was not written`),
              }
            : { id: update.id, ok: true, record },
        );
      });
    }
    return results;
  }

  async function batchUpdateOneByOne(kind: AccountKind, updates: RecordUpdate[]): Promise<BatchItemResult[]> {
    const results: BatchItemResult[] = [];
    for (const update of updates) {
      try {
        results.push({ id: update.id, ok: true, record: await updateOne(kind, update) });
      } catch (error) {
        // Failures of this one record are item results; throttling and outages stop the batch.
        if (error instanceof InvalidRequestError || error instanceof NotFoundError)
          results.push({ id: update.id, ok: false, error });
        else throw error;
      }
    }
    return results;
  }

  const served = (entity: Entity): AccountKind => {
    if (entity === 'contact')
      throw new InvalidRequestError(`${name}: Xero serves customers, vendors and bank accounts, not contacts`);
    return entity;
  };

  return {
    name,
    system: 'accounting',
    entities: ['customer', 'vendor', 'bankAccount'],
    fields: {
      customer: SUPPORTED_FIELDS.customer,
      vendor: SUPPORTED_FIELDS.vendor,
      bankAccount: SUPPORTED_FIELDS.bankAccount,
    },
    ...(webhook ? { webhook } : {}),

    listChanged(entity, cursor) {
      const kind = served(entity);
      const since = parseCursor(cursor, name);
      return kind === 'bankAccount' ? listBankAccounts(since) : listContacts(kind, since);
    },

    async get(entity, id) {
      const kind = served(entity);
      return kind === 'bankAccount' ? getBankAccount(id) : getContact(kind, id);
    },

    async batchGet(entity, ids) {
      const kind = served(entity);
      const unique = [...new Set(ids)];
      if (unique.length === 0) return [];
      let records: XeroAccountRecord[];
      if (kind === 'bankAccount') {
        // Accounts cannot be filtered by a list of ids; the bank accounts are few: read them all.
        const wanted = new Set(unique);
        records = (await client.bankAccounts(null))
          .filter((account: XeroAccount) => account.Type === 'BANK' && wanted.has(account.AccountID))
          .map(accountToBankAccount);
      } else {
        records = await toRecords(kind, await client.contactsByIds(unique));
      }
      const byId = new Map(records.map((record) => [record.id, record]));
      return unique.flatMap((id) => byId.get(id) ?? []);
    },

    async create(entity, fields, createOptions) {
      const kind = served(entity);
      return kind === 'bankAccount'
        ? createBankAccount(fields, createOptions.idempotencyKey, createOptions.extra)
        : createContact(kind, fields, createOptions.idempotencyKey, createOptions.extra);
    },

    // Xero has no etags: `ifMatch` cannot be honoured and records carry no `version`.
    update: async (entity, update) => updateOne(served(entity), update),

    async batchUpdate(entity, updates) {
      const kind = served(entity);
      return kind === 'bankAccount' ? batchUpdateOneByOne(kind, updates) : batchUpdateContacts(kind, updates);
    },

    // A 429 proves the credentials as well, so it counts as healthy: readiness must not flap under load.
    checkHealth: async () => {
      try {
        await client.probe();
      } catch (error) {
        if (!(error instanceof RateLimitedError)) throw error;
      }
    },
    close: async () => {},
  };
}

/** The cursor as a date, or null for "from the start" (null or the empty cursor of an empty first run). */
function parseCursor(cursor: string | null, name: string): string | null {
  if (cursor === null || cursor === '') return null;
  const time = Date.parse(cursor);
  if (Number.isNaN(time)) throw new InvalidRequestError(`${name}: cursor '${cursor}' is not a date`);
  return new Date(time).toISOString();
}

function isAfter(updated: string | null | undefined, since: string | null): boolean {
  if (since === null) return true;
  return updated !== null && updated !== undefined && Date.parse(updated) > Date.parse(since);
}

/**
 * The cursor after a page, oldest change first: the highest UpdatedDateUTC seen. On a page that is
 * not the last it stops 1 ms below the page's last timestamp, so a record sharing that timestamp
 * on the next page is not skipped after a restart.
 */
export function cursorAfterPage(
  items: readonly { UpdatedDateUTC?: string | null }[],
  current: string | null,
  last: boolean,
): string | null {
  const times = items
    .map((item) => (item.UpdatedDateUTC ? Date.parse(item.UpdatedDateUTC) : Number.NaN))
    .filter((time) => !Number.isNaN(time));
  if (times.length === 0) return current;
  const highest = Math.max(...times) - (last ? 0 : 1);
  const floor = current === null ? Number.NEGATIVE_INFINITY : Date.parse(current);
  return highest > floor ? new Date(highest).toISOString() : current;
}

function hasErrors(errors: XeroContact['ValidationErrors']): boolean {
  return (errors ?? []).length > 0;
}

/** A per-item validation failure as a connector error; "not found" ones are NotFoundError. */
function itemError(errors: XeroContact['ValidationErrors'], what: string): ConnectorError | null {
  if (!hasErrors(errors)) return null;
  const message = `${what}: ${(errors ?? []).map((error) => error.Message ?? 'invalid').join('; ')}`;
  return /not (be )?found|could not find|does not exist/i.test(message)
    ? new NotFoundError(message)
    : new InvalidRequestError(message, 400);
}

/** A written contact Xero accepted always has its id; one without is a broken answer. */
function withContactId(contact: XeroContactWrite, name: string): XeroContact {
  const { ContactID } = contact;
  if (ContactID === null || ContactID === undefined || ContactID === '')
    throw new InvalidResponseError(`${name}: Xero accepted a contact but returned no ContactID`);
  return { ...contact, ContactID };
}

function requireRecord(kind: AccountKind, id: string, record: XeroAccountRecord | null): XeroAccountRecord {
  if (record === null) throw new NotFoundError(`xero: ${kind} ${id} does not exist`);
  return record;
}

function parseExtra<T>(schema: z.ZodType<T>, extra: unknown, kind: AccountKind): T {
  const parsed = schema.safeParse(extra ?? {});
  if (!parsed.success)
    throw new InvalidRequestError(`xero: create options for a ${kind} are invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function withoutNull(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== null && value !== undefined));
}
