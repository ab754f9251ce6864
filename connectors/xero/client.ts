/**
 * A thin typed client for Xero's contacts and accounts of type BANK, on the kit's HTTP client: every
 * call carries the Xero-tenant-id header, every answer is parsed.
 * https://developer.xero.com/documentation/api/accounting/overview
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import type { ConnectorSettings, ConnectTools } from '../kit/define';
import { NotFoundError, orNullIfNotFound } from '../kit/errors';
import type { HttpClient } from '../kit/http';
import { RefreshTokenProvider } from './auth';
import type { xeroConfig } from './config';
import { ContactKinds } from './kinds';
import { xeroAccountsSchema, xeroContactsSchema, xeroContactWritesSchema, type XeroAccount } from './schemas';

/** Contacts per page of GET /Contacts (Xero's fixed page size without pageSize), and ids per read by IDs. */
export const CONTACTS_PAGE_SIZE = 100;

/** The most contacts one page of GET /Contacts holds when asked with `pageSize`. */
export const CONTACTS_MAX_PAGE_SIZE = 1000;

/** Contacts per POST /Contacts: Xero advises at most 50 items per write for timely answers. */
export const CONTACT_BATCH_LIMIT = 50;

/** Xero accepts Idempotency-Key values of at most 128 characters. */
function idempotencyKey(key: string): Record<string, string> {
  return { 'Idempotency-Key': key.length <= 128 ? key : createHash('sha256').update(key).digest('hex') };
}

/** A where-clause string literal: Xero's filter syntax quotes with double quotes. */
function whereString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * A text that can be a tax number: a digit, and only letters, digits, spaces, dots, dashes and
 * slashes. Only such a text goes into a where clause, so no quote or backslash ever reaches one.
 */
const TAX_NUMBER_TEXT = /^(?=.*\d)[A-Za-z\d .\-/]+$/;

const since = (time: string | null) => (time === null ? {} : { 'If-Modified-Since': time });
const one = (collection: string, id: string) => `/${collection}/${encodeURIComponent(id)}`;
const bankOnly = (accounts: XeroAccount[]) => accounts.filter((account) => account.Type === 'BANK');

/** Typed calls to one Xero organisation (tenant). */
export function xeroApi(http: HttpClient, tenantId: string) {
  const call = <T>(
    schema: z.ZodType<T>,
    request: Parameters<HttpClient['json']>[1],
    headers = {},
    options: { attempts?: number } = {},
  ) => http.json(schema, { ...request, headers: { 'Xero-tenant-id': tenantId, ...headers } }, options);
  // An update goes out once: it follows a compare of the values it replaces (Xero has no etag), and
  // a retry after a backoff would write over whatever landed meanwhile. A 429 or 5xx goes back to
  // the write queue, which compares again first. Creates are retried here: their key dedupes them.
  const updateOnce = { attempts: 1 };
  // Archived contacts included; paged reads (and reads by id) are the ones that return MergedToContactID.
  const contacts = (params: Record<string, unknown>, modifiedSince: string | null = null) =>
    call(
      xeroContactsSchema,
      { url: '/Contacts', params: { page: 1, ...params, includeArchived: true } },
      since(modifiedSince),
    );
  const accounts = async (params: Record<string, unknown>, modifiedSince: string | null = null) =>
    bankOnly((await call(xeroAccountsSchema, { url: '/Accounts', params }, since(modifiedSince))).Accounts);

  return {
    /** One page of contacts, oldest change first; `modifiedSince` becomes If-Modified-Since. */
    async contactsPage(page: number, modifiedSince: string | null) {
      const answer = await contacts({ page, order: 'UpdatedDateUTC ASC' }, modifiedSince);
      // Xero reports pageCount on paged reads; without it a full page means there may be another.
      const pageCount = answer.pagination?.pageCount;
      const more = pageCount === undefined ? answer.Contacts.length >= CONTACTS_PAGE_SIZE : page < pageCount;
      return { contacts: answer.Contacts, more };
    },
    /** Contacts by id, up to CONTACTS_PAGE_SIZE per call. */
    contactsByIds: async (ids: readonly string[]) => (await contacts({ IDs: ids.join(',') })).Contacts,
    /** The contact with this ContactNumber, or null. */
    contactByNumber: async (number: string) =>
      (await contacts({ where: `ContactNumber==${whereString(number)}` })).Contacts[0] ?? null,
    /**
     * Up to `pageSize` contacts Xero's `searchTerm` finds: a case-insensitive search of Name,
     * FirstName, LastName, ContactNumber and EmailAddress. The text goes as a query value, never
     * into a where clause. https://developer.xero.com/documentation/api/accounting/contacts
     */
    searchContacts: async (text: string, pageSize: number) => (await contacts({ searchTerm: text, pageSize })).Contacts,
    /**
     * Up to `pageSize` contacts whose TaxNumber holds `text` as typed or in upper case (searchTerm
     * does not look there); none, without a call, for a text that cannot be a tax number.
     */
    contactsByTaxNumber: async (text: string, pageSize: number) => {
      if (!TAX_NUMBER_TEXT.test(text)) return [];
      const held = [...new Set([text, text.toUpperCase()])].map((value) => `TaxNumber.Contains(${whereString(value)})`);
      // TaxNumber is optional: Xero fails a filter that calls a method on a contact without one.
      return (await contacts({ where: `TaxNumber!=null&&(${held.join('||')})`, pageSize })).Contacts;
    },
    /** One contact, or null when Xero does not know the id. */
    contact: async (id: string) =>
      (await orNullIfNotFound(call(xeroContactsSchema, { url: one('Contacts', id) })))?.Contacts[0] ?? null,
    /**
     * Creates or updates contacts in one POST /Contacts?summarizeErrors=false (answered 200 with one
     * item per input, in order, each with its ValidationErrors), or contact `id` by POST /Contacts/{id}.
     */
    saveContacts: async (bodies: Record<string, unknown>[], key: string, id?: string) => {
      const request =
        id === undefined
          ? { method: 'POST', url: '/Contacts', params: { summarizeErrors: false }, data: { Contacts: bodies } }
          : { method: 'POST', url: one('Contacts', id), data: { Contacts: bodies } };
      const updates = id !== undefined || bodies.every((body) => body['ContactID'] !== undefined);
      return (await call(xeroContactWritesSchema, request, idempotencyKey(key), updates ? updateOnce : {})).Contacts;
    },
    /** Accounts of type BANK changed since `modifiedSince` (all when null). Xero does not page accounts. */
    bankAccounts: (modifiedSince: string | null) =>
      accounts({ where: 'Type=="BANK"', order: 'UpdatedDateUTC ASC' }, modifiedSince),
    /** The bank account with this Code, or null. */
    bankAccountByCode: async (code: string) => (await accounts({ where: `Code==${whereString(code)}` }))[0] ?? null,
    /** One bank account, or null when Xero does not know the id or it is not of type BANK. */
    bankAccount: async (id: string) => {
      const answer = await orNullIfNotFound(call(xeroAccountsSchema, { url: one('Accounts', id) }));
      return bankOnly(answer?.Accounts ?? [])[0] ?? null;
    },
    /** Creates or updates an account (PUT /Accounts takes one Account, POST /Accounts/{id} an envelope). */
    async saveAccount(id: string | null, body: Record<string, unknown>, key: string): Promise<XeroAccount> {
      const request =
        id === null
          ? { method: 'PUT', url: '/Accounts', data: body }
          : { method: 'POST', url: one('Accounts', id), data: { Accounts: [body] } };
      const [account] = (await call(xeroAccountsSchema, request, idempotencyKey(key), id === null ? {} : updateOnce))
        .Accounts;
      if (account === undefined) throw new NotFoundError(`xero: account ${id ?? 'create'} was not returned`);
      return account;
    },
    /** The cheapest authenticated read: the organisation's bank accounts, none changed since now. */
    probe: () => accounts({ where: 'Type=="BANK"' }, new Date().toISOString()),
  };
}

/** Builds what the connector's handlers share, once per connector; the webhook is set when configured. */
export function connectXero(settings: ConnectorSettings<typeof xeroConfig>, { context, http }: ConnectTools) {
  const { webhookKey, ...credentials } = settings.credentials;
  // Xero rotates the refresh token: the one kept from an earlier run wins over the config's.
  const refreshToken = context.storedSecrets?.refreshToken ?? credentials.refreshToken;
  const auth = new RefreshTokenProvider({ ...credentials, refreshToken }, (token) =>
    context.saveSecret?.('refreshToken', token),
  );
  const kinds = new ContactKinds(settings.contactNumberPrefix, context.relationKinds);
  const { tenantId } = settings;
  return {
    name: context.name,
    api: xeroApi(http({ baseURL: settings.baseUrl.replace(/\/+$/, ''), auth }), tenantId),
    kinds,
    webhook:
      webhookKey === undefined
        ? undefined
        : { key: webhookKey, tenantId, knownKinds: (id: string) => kinds.knownKinds(id) },
  };
}

export type XeroSession = ReturnType<typeof connectXero>;
