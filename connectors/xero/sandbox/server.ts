/**
 * A minimal in-memory stand-in for Xero's Accounting API, for the shared connector contract and
 * local runs: the identity token endpoint (refresh_token grant with rotation), GET/POST /Contacts,
 * GET/POST /Contacts/{ContactID}, GET/PUT /Accounts and GET/POST /Accounts/{AccountID},
 * If-Modified-Since, paging, Idempotency-Key replay, rate headers and 429 injection.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';

/** The API's path below the origin, as on api.xero.com. */
export const SANDBOX_API_PATH = '/api.xro/2.0';
/** The token endpoint's path, as on identity.xero.com. */
export const SANDBOX_TOKEN_PATH = '/connect/token';

/** How to start a sandbox; every option has a default. */
export interface XeroSandboxOptions {
  port?: number;
  host?: string;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  /** The refresh token the first refresh must present. */
  refreshToken?: string;
  /** Contacts per page (Xero: 100). */
  pageSize?: number;
}

/** One exchange as the sandbox saw it, for checking against the OpenAPI document. */
export interface SandboxExchange {
  method: string;
  /** Below the API base, with the query string. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  requestBody: unknown;
  status: number;
  responseBody: unknown;
}

type XeroObject = Record<string, unknown>;

/** A running sandbox. */
export interface XeroSandbox {
  readonly url: string;
  readonly tokenUrl: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The refresh token the next refresh must present (rotated on every refresh). */
  readonly refreshToken: string;
  /** Every API exchange so far. */
  readonly exchanges: readonly SandboxExchange[];
  /** The next `next429` API calls are answered 429 with Retry-After. */
  injectFailures(failures: { next429?: number; retryAfterSeconds?: number }): void;
  /** Creates a contact as a user would in Xero; returns it as the API shows it. */
  createContact(properties: XeroObject): XeroObject;
  /** Changes a contact as a user would. */
  updateContact(id: string, properties: XeroObject): XeroObject;
  /** Archives a contact. */
  archiveContact(id: string): XeroObject;
  /** Merges `from` into `into`: `from` is archived and points at `into`. */
  mergeContact(from: string, into: string): XeroObject;
  getContact(id: string): XeroObject | undefined;
  createBankAccount(properties: XeroObject): XeroObject;
  close(): Promise<void>;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
  }
}

const msDate = (ms: number) => `/Date(${ms}+0000)/`;
const msOf = (value: unknown) => Number(/\((\d+)/.exec(String(value))?.[1] ?? 0);
const NOT_FOUND = "The resource you're looking for cannot be found";

/** Starts a sandbox on a free port unless told otherwise. */
export async function startXeroSandbox(options: XeroSandboxOptions = {}): Promise<XeroSandbox> {
  const tenantId = options.tenantId ?? '8a1c6a9b-2f3d-4e5f-9a0b-1c2d3e4f5a6b';
  const clientId = options.clientId ?? 'sandbox-client';
  const clientSecret = options.clientSecret ?? 'sandbox-secret';
  const pageSize = options.pageSize ?? 100;
  let refreshToken = options.refreshToken ?? 'sandbox-refresh-0';
  const accessTokens = new Set<string>();
  const contacts = new Map<string, XeroObject>();
  const accounts = new Map<string, XeroObject>();
  const idempotent = new Map<string, { status: number; body: unknown }>();
  const exchanges: SandboxExchange[] = [];
  const calls: number[] = [];
  let failures = { next429: 0, retryAfterSeconds: 1 };
  let lastStamp = 0;
  /** Strictly increasing times, so every change has its own UpdatedDateUTC. */
  const stamp = () => (lastStamp = Math.max(Date.now(), lastStamp + 1));

  function mergeTyped(current: unknown, incoming: unknown, typeKey: string): XeroObject[] {
    const merged = new Map<string, XeroObject>();
    for (const item of (current as XeroObject[] | undefined) ?? []) merged.set(String(item[typeKey]), { ...item });
    for (const item of (incoming as XeroObject[] | undefined) ?? [])
      merged.set(String(item[typeKey]), { ...merged.get(String(item[typeKey])), ...item });
    return [...merged.values()];
  }

  function writeContact(id: string | null, properties: XeroObject): XeroObject {
    const existing = id === null ? undefined : contacts.get(id);
    if (id !== null && existing === undefined) throw new ApiError(404, NOT_FOUND);
    const name = properties.Name ?? existing?.Name;
    if (typeof name !== 'string' || name.trim() === '') throw new ApiError(400, 'The contact name must be specified.');
    for (const other of contacts.values()) {
      if (other.ContactID !== id && other.Name === name)
        throw new ApiError(
          400,
          `The contact name ${name} is already assigned to another contact. The contact name must be unique across all active contacts.`,
        );
    }
    const contactId = id ?? randomUUID();
    const { Phones, Addresses, ContactID: _ignored, ...plain } = properties;
    const contact: XeroObject = {
      ContactID: contactId,
      ContactStatus: 'ACTIVE',
      IsCustomer: false,
      IsSupplier: false,
      ...existing,
      ...plain,
      Phones: mergeTyped(existing?.Phones, Phones, 'PhoneType'),
      Addresses: mergeTyped(existing?.Addresses, Addresses, 'AddressType'),
      UpdatedDateUTC: msDate(stamp()),
      HasValidationErrors: false,
    };
    contacts.set(contactId, contact);
    return contact;
  }

  function writeAccount(id: string | null, properties: XeroObject): XeroObject {
    const existing = id === null ? undefined : accounts.get(id);
    if (id !== null && existing === undefined) throw new ApiError(404, NOT_FOUND);
    const accountId = id ?? randomUUID();
    const account: XeroObject = {
      AccountID: accountId,
      Status: 'ACTIVE',
      Type: 'BANK',
      ...existing,
      ...properties,
      UpdatedDateUTC: msDate(stamp()),
    };
    if (typeof account.Code !== 'string' || typeof account.Name !== 'string')
      throw new ApiError(400, {
        ErrorNumber: 10,
        Type: 'ValidationException',
        Message: 'A validation exception occurred',
        Elements: [{ ValidationErrors: [{ Message: 'Please enter a code and a name.' }] }],
      });
    accounts.set(accountId, account);
    return account;
  }

  /** Applies If-Modified-Since (inclusive, as Xero does) and the oldest-first order. */
  function modifiedSince(items: Iterable<XeroObject>, header: unknown): XeroObject[] {
    const since = typeof header === 'string' ? Date.parse(header) : Number.NaN;
    return [...items]
      .filter((item) => Number.isNaN(since) || msOf(item.UpdatedDateUTC) >= since)
      .sort((a, b) => msOf(a.UpdatedDateUTC) - msOf(b.UpdatedDateUTC));
  }

  /** Understands the two filters tandem sends: `Field=="value"`. */
  function whereFilter(where: unknown): (item: XeroObject) => boolean {
    if (typeof where !== 'string' || where === '') return () => true;
    const match = /^(\w+)=="((?:[^"\\]|\\.)*)"$/.exec(where.trim());
    if (match === null)
      throw new ApiError(400, {
        ErrorNumber: 10,
        Type: 'ValidationException',
        Message: `The sandbox does not understand where=${where}`,
      });
    return (item) => String(item[match[1]!] ?? '') === match[2]!.replace(/\\(.)/g, '$1');
  }

  const app = Fastify({ logger: false });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );

  app.post(SANDBOX_TOKEN_PATH, async (request, reply) => {
    const form = (request.body ?? {}) as Record<string, string>;
    const basic = Buffer.from(`${clientId}:${clientSecret}`).toString('base64');
    if (request.headers.authorization !== `Basic ${basic}`) return reply.code(401).send({ error: 'invalid_client' });
    if (form.grant_type !== 'refresh_token' || form.refresh_token !== refreshToken)
      return reply.code(400).send({ error: 'invalid_grant' });
    const access = randomBytes(16).toString('hex');
    accessTokens.add(access);
    refreshToken = randomBytes(16).toString('hex');
    return {
      access_token: access,
      refresh_token: refreshToken,
      expires_in: 1800,
      token_type: 'Bearer',
      scope: 'accounting.contacts accounting.settings offline_access',
    };
  });

  type Handler = (request: FastifyRequest) => { status?: number; body: unknown };
  function api(method: 'GET' | 'POST' | 'PUT', path: string, handler: Handler): void {
    app.route({
      method,
      url: `${SANDBOX_API_PATH}${path}`,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const relative = request.url.slice(SANDBOX_API_PATH.length);
        let status: number;
        let body: unknown;
        const now = Date.now();
        while (calls.length > 0 && calls[0]! <= now - 60_000) calls.shift();
        calls.push(now);
        if (failures.next429 > 0) {
          failures.next429--;
          status = 429;
          body = undefined;
          reply.header('Retry-After', String(failures.retryAfterSeconds)).header('X-Rate-Limit-Problem', 'minute');
        } else if (!accessTokens.has(String(request.headers.authorization ?? '').replace(/^Bearer /, ''))) {
          status = 401;
          body = undefined;
        } else if (request.headers['xero-tenant-id'] !== tenantId) {
          status = 403;
          body = undefined;
        } else {
          const key = request.headers['idempotency-key'];
          const replay = typeof key === 'string' ? idempotent.get(`${method} ${key}`) : undefined;
          try {
            ({ status = 200, body } = replay ?? handler(request));
          } catch (error) {
            if (!(error instanceof ApiError)) throw error;
            status = error.status;
            body = error.body;
          }
          if (typeof key === 'string' && status < 500) idempotent.set(`${method} ${key}`, { status, body });
        }
        exchanges.push({
          method,
          path: relative,
          headers: { ...request.headers },
          requestBody: request.body,
          status,
          responseBody: body,
        });
        reply
          .header('X-MinLimit-Remaining', String(Math.max(0, 60 - calls.length)))
          .header('X-DayLimit-Remaining', '4900');
        if (body === undefined) return reply.code(status).send();
        return typeof body === 'string'
          ? reply.code(status).type('text/plain').send(body)
          : reply.code(status).send(body);
      },
    });
  }

  api('GET', '/Contacts', (request) => {
    const query = request.query as Record<string, string | undefined>;
    const ids = query.IDs === undefined ? null : new Set(query.IDs.split(','));
    const filter = whereFilter(query.where);
    const all = modifiedSince(contacts.values(), request.headers['if-modified-since']).filter(
      (contact) =>
        (query.includeArchived === 'true' || contact.ContactStatus !== 'ARCHIVED') &&
        (ids === null || ids.has(String(contact.ContactID))) &&
        filter(contact),
    );
    if (query.page === undefined) return { body: { Contacts: all.map(withoutMerge) } };
    const page = Math.max(1, Number(query.page));
    const pageCount = Math.ceil(all.length / pageSize);
    return {
      body: {
        pagination: { page, pageSize, pageCount, itemCount: all.length },
        Contacts: all.slice((page - 1) * pageSize, page * pageSize),
      },
    };
  });

  api('GET', '/Contacts/:id', (request) => {
    const contact = contacts.get((request.params as { id: string }).id);
    if (contact === undefined) throw new ApiError(404, NOT_FOUND);
    return { body: { Contacts: [contact] } };
  });

  api('POST', '/Contacts', (request) => {
    const items = ((request.body as { Contacts?: XeroObject[] } | undefined)?.Contacts ?? []) as XeroObject[];
    const summarize = (request.query as Record<string, string | undefined>).summarizeErrors !== 'false';
    const results = items.map((item) => {
      try {
        return writeContact(typeof item.ContactID === 'string' ? item.ContactID : null, item);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        const message = error.status === 404 ? `Contact not found: ${String(item.ContactID)}` : String(error.body);
        return { ...item, HasValidationErrors: true, ValidationErrors: [{ Message: message }] };
      }
    });
    const failed = results.filter((result) => result.HasValidationErrors === true);
    if (summarize && failed.length > 0) {
      throw new ApiError(400, {
        ErrorNumber: 10,
        Type: 'ValidationException',
        Message: 'A validation exception occurred',
        Elements: failed.map((item) => ({ ValidationErrors: item.ValidationErrors })),
      });
    }
    return { body: { Contacts: results } };
  });

  api('POST', '/Contacts/:id', (request) => {
    const item = ((request.body as { Contacts?: XeroObject[] } | undefined)?.Contacts ?? [])[0] ?? {};
    try {
      return { body: { Contacts: [writeContact((request.params as { id: string }).id, item)] } };
    } catch (error) {
      if (error instanceof ApiError && error.status === 400)
        throw new ApiError(400, {
          ErrorNumber: 10,
          Type: 'ValidationException',
          Message: 'A validation exception occurred',
          Elements: [{ ValidationErrors: [{ Message: String(error.body) }] }],
        });
      throw error;
    }
  });

  api('GET', '/Accounts', (request) => {
    const filter = whereFilter((request.query as Record<string, string | undefined>).where);
    return {
      body: { Accounts: modifiedSince(accounts.values(), request.headers['if-modified-since']).filter(filter) },
    };
  });

  api('GET', '/Accounts/:id', (request) => {
    const account = accounts.get((request.params as { id: string }).id);
    if (account === undefined) throw new ApiError(404, NOT_FOUND);
    return { body: { Accounts: [account] } };
  });

  api('PUT', '/Accounts', (request) => ({
    body: { Accounts: [writeAccount(null, (request.body ?? {}) as XeroObject)] },
  }));

  api('POST', '/Accounts/:id', (request) => {
    const item = ((request.body as { Accounts?: XeroObject[] } | undefined)?.Accounts ?? [])[0] ?? {};
    return { body: { Accounts: [writeAccount((request.params as { id: string }).id, item)] } };
  });

  /** Xero returns MergedToContactID only on paged and single reads. */
  function withoutMerge(contact: XeroObject): XeroObject {
    const { MergedToContactID: _merged, ...rest } = contact;
    return rest;
  }

  const address = await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const direct = (write: () => XeroObject) => {
    try {
      return write();
    } catch (error) {
      throw error instanceof ApiError ? new Error(`xero sandbox: ${error.message}`) : error;
    }
  };
  return {
    url: `${address}${SANDBOX_API_PATH}`,
    tokenUrl: `${address}${SANDBOX_TOKEN_PATH}`,
    tenantId,
    clientId,
    clientSecret,
    get refreshToken() {
      return refreshToken;
    },
    exchanges,
    injectFailures(next) {
      failures = { next429: next.next429 ?? 0, retryAfterSeconds: next.retryAfterSeconds ?? 1 };
    },
    createContact: (properties) => direct(() => writeContact(null, properties)),
    updateContact: (id, properties) => direct(() => writeContact(id, properties)),
    archiveContact: (id) => direct(() => writeContact(id, { ContactStatus: 'ARCHIVED' })),
    mergeContact: (from, into) =>
      direct(() => writeContact(from, { ContactStatus: 'ARCHIVED', MergedToContactID: into })),
    getContact: (id) => contacts.get(id),
    createBankAccount: (properties) => direct(() => writeAccount(null, properties)),
    close: () => app.close(),
  };
}
