/**
 * A thin typed client for the parts of Xero's Accounting API tandem uses: contacts and accounts.
 * Every call carries the Xero-tenant-id header, passes the rate limiter, goes through the shared
 * HttpClient (auth, retries, 429 Retry-After, error translation), and every answer is parsed.
 * https://developer.xero.com/documentation/api/accounting/overview
 */
import { createHash } from 'node:crypto';
import type { AxiosRequestConfig } from 'axios';
import { NotFoundError } from '../kit/errors';
import type { HttpClient } from '../kit/http';
import type { XeroRateLimiter } from './limiter';
import {
  parseResponse,
  xeroAccountsSchema,
  xeroContactsSchema,
  xeroContactWritesSchema,
  type XeroAccount,
  type XeroContact,
  type XeroContactWrite,
} from './schemas';

/** Xero's Accounting API base. */
export const XERO_API_URL = 'https://api.xero.com/api.xro/2.0';

/** Contacts per page of GET /Contacts (Xero's fixed page size without pageSize). */
export const CONTACTS_PAGE_SIZE = 100;

/** Xero accepts Idempotency-Key values of at most 128 characters. */
export function idempotencyHeader(key: string): string {
  return key.length <= 128 ? key : createHash('sha256').update(key).digest('hex');
}

/** A where-clause string literal: Xero's filter syntax quotes with double quotes. */
function whereString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Typed access to one Xero organisation (tenant). */
export class XeroClient {
  constructor(
    private readonly http: HttpClient,
    private readonly tenantId: string,
    private readonly limiter: XeroRateLimiter,
  ) {}

  private async send(config: AxiosRequestConfig): Promise<unknown> {
    return this.limiter.run(async () => {
      const response = await this.http.request({
        ...config,
        headers: {
          'Xero-tenant-id': this.tenantId,
          ...(config.data === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...(config.headers as Record<string, string> | undefined),
        },
      });
      this.limiter.observe(response.headers as Record<string, unknown>);
      return response.data;
    });
  }

  /**
   * One page of contacts, archived ones included, oldest change first. Paging is always used: only
   * paged reads return MergedToContactID. `since` becomes If-Modified-Since.
   */
  async contactsPage(page: number, since: string | null): Promise<{ contacts: XeroContact[]; more: boolean }> {
    const data = await this.send({
      method: 'GET',
      url: '/Contacts',
      params: { page, includeArchived: true, order: 'UpdatedDateUTC ASC' },
      headers: since === null ? {} : { 'If-Modified-Since': since },
    });
    const parsed = parseResponse(xeroContactsSchema, data, 'contacts page');
    // Xero reports pageCount on paged reads; without it a full page means there may be another.
    const pageCount = parsed.pagination?.pageCount;
    const more = pageCount === undefined ? parsed.Contacts.length >= CONTACTS_PAGE_SIZE : page < pageCount;
    return { contacts: parsed.Contacts, more };
  }

  /** Contacts by id (archived included), up to a page per call. */
  async contactsByIds(ids: readonly string[]): Promise<XeroContact[]> {
    const found: XeroContact[] = [];
    for (let start = 0; start < ids.length; start += CONTACTS_PAGE_SIZE) {
      const part = ids.slice(start, start + CONTACTS_PAGE_SIZE);
      const data = await this.send({
        method: 'GET',
        url: '/Contacts',
        params: { IDs: part.join(','), includeArchived: true, page: 1 },
      });
      found.push(...parseResponse(xeroContactsSchema, data, 'contacts by id').Contacts);
    }
    return found;
  }

  /** The contact with this ContactNumber, archived included, or null. */
  async contactByNumber(number: string): Promise<XeroContact | null> {
    const data = await this.send({
      method: 'GET',
      url: '/Contacts',
      params: { where: `ContactNumber==${whereString(number)}`, includeArchived: true, page: 1 },
    });
    return parseResponse(xeroContactsSchema, data, 'contact by number').Contacts[0] ?? null;
  }

  /** One contact, or null when Xero does not know the id. */
  async contact(id: string): Promise<XeroContact | null> {
    try {
      const data = await this.send({ method: 'GET', url: `/Contacts/${encodeURIComponent(id)}` });
      return parseResponse(xeroContactsSchema, data, 'contact').Contacts[0] ?? null;
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  /**
   * Creates or updates several contacts in one call. With summarizeErrors=false Xero answers 200
   * with one item per input, in order, each carrying its own ValidationErrors.
   */
  async saveContacts(contacts: Record<string, unknown>[], idempotencyKey: string): Promise<XeroContactWrite[]> {
    const data = await this.send({
      method: 'POST',
      url: '/Contacts',
      params: { summarizeErrors: false },
      data: { Contacts: contacts },
      headers: { 'Idempotency-Key': idempotencyHeader(idempotencyKey) },
    });
    return parseResponse(xeroContactWritesSchema, data, 'contacts write').Contacts;
  }

  /** Updates one contact; a 404 is a NotFoundError. */
  async updateContact(id: string, body: Record<string, unknown>, idempotencyKey: string): Promise<XeroContact> {
    const data = await this.send({
      method: 'POST',
      url: `/Contacts/${encodeURIComponent(id)}`,
      data: { Contacts: [body] },
      headers: { 'Idempotency-Key': idempotencyHeader(idempotencyKey) },
    });
    const contact = parseResponse(xeroContactsSchema, data, 'contact update').Contacts[0];
    if (contact === undefined) throw new NotFoundError(`xero: contact ${id} was not returned by its update`);
    return contact;
  }

  /** Accounts of type BANK changed since `since` (all when null). Xero does not page accounts. */
  async bankAccounts(since: string | null): Promise<XeroAccount[]> {
    const data = await this.send({
      method: 'GET',
      url: '/Accounts',
      params: { where: 'Type=="BANK"', order: 'UpdatedDateUTC ASC' },
      headers: since === null ? {} : { 'If-Modified-Since': since },
    });
    return parseResponse(xeroAccountsSchema, data, 'accounts').Accounts;
  }

  /** The account with this Code, or null. */
  async accountByCode(code: string): Promise<XeroAccount | null> {
    const data = await this.send({ method: 'GET', url: '/Accounts', params: { where: `Code==${whereString(code)}` } });
    return parseResponse(xeroAccountsSchema, data, 'account by code').Accounts[0] ?? null;
  }

  /** One account, or null when Xero does not know the id. */
  async account(id: string): Promise<XeroAccount | null> {
    try {
      const data = await this.send({ method: 'GET', url: `/Accounts/${encodeURIComponent(id)}` });
      return parseResponse(xeroAccountsSchema, data, 'account').Accounts[0] ?? null;
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  /** Creates an account (PUT /Accounts takes one Account, not an envelope). */
  async createAccount(body: Record<string, unknown>, idempotencyKey: string): Promise<XeroAccount> {
    const data = await this.send({
      method: 'PUT',
      url: '/Accounts',
      data: body,
      headers: { 'Idempotency-Key': idempotencyHeader(idempotencyKey) },
    });
    const account = parseResponse(xeroAccountsSchema, data, 'account create').Accounts[0];
    if (account === undefined) throw new NotFoundError('xero: the created account was not returned');
    return account;
  }

  /** Updates one account; a 404 is a NotFoundError. */
  async updateAccount(id: string, body: Record<string, unknown>, idempotencyKey: string): Promise<XeroAccount> {
    const data = await this.send({
      method: 'POST',
      url: `/Accounts/${encodeURIComponent(id)}`,
      data: { Accounts: [body] },
      headers: { 'Idempotency-Key': idempotencyHeader(idempotencyKey) },
    });
    const account = parseResponse(xeroAccountsSchema, data, 'account update').Accounts[0];
    if (account === undefined) throw new NotFoundError(`xero: account ${id} was not returned by its update`);
    return account;
  }

  /** The cheapest authenticated read: the organisation's bank accounts, none changed since now. */
  async probe(): Promise<void> {
    await this.send({
      method: 'GET',
      url: '/Accounts',
      params: { where: 'Type=="BANK"' },
      headers: { 'If-Modified-Since': new Date().toISOString() },
    });
  }
}
