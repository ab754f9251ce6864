/**
 * A minimal in-memory stand-in for Xero's Accounting API, for the shared connector contract and
 * local runs: the identity token endpoint (refresh_token grant with rotation), GET/POST /Contacts,
 * GET/POST /Contacts/{ContactID}, GET/PUT /Accounts and GET/POST /Accounts/{AccountID},
 * If-Modified-Since, paging, Idempotency-Key replay, Xero's rate limits and headers, and the kit's knobs.
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { addTokenEndpoint, BearerTokens } from '../../kit/sandbox/oauth';
import type { RateLimit, SandboxAnswer } from '../../kit/sandbox/rate-limits';
import { type ChangedBy, RecordStore, type StoredRecord } from '../../kit/sandbox/records';
import {
  type SandboxControls,
  type SandboxOptions,
  type SandboxRequest,
  replayedAnswer,
  sendAnswer,
  createSandboxServer,
  SandboxClock,
  SandboxRefusal,
} from '../../kit/sandbox/server';

/** The API's path below the origin, as on api.xero.com. */
export const SANDBOX_API_PATH = '/api.xro/2.0';
/** The token endpoint's path, as on identity.xero.com. */
export const SANDBOX_TOKEN_PATH = '/connect/token';

/** The rate limits the sandbox enforces, by name (see XERO_RATE_LIMITS). */
export type XeroRateLimitName = 'minute' | 'day' | 'concurrent';

/** How to start a sandbox; every option has a default. */
export interface XeroSandboxOptions extends SandboxOptions<XeroRateLimitName> {
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  /** The refresh token the first refresh must present. */
  refreshToken?: string;
  /** Contacts per page (Xero: 100). */
  pageSize?: number;
}

/** One API exchange as the sandbox saw it, for checking against the OpenAPI document: path with query. */
export type SandboxExchange = SandboxRequest;

type XeroObject = Record<string, unknown>;

/** A running sandbox. */
export interface XeroSandbox extends SandboxControls {
  readonly url: string;
  readonly tokenUrl: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The refresh token the next refresh must present (rotated on every refresh). */
  readonly refreshToken: string;
  /** Every API exchange so far (the token endpoint's calls left out). */
  readonly exchanges: readonly SandboxExchange[];
  /** Makes every issued access token invalid, as if it had expired. */
  revokeTokens(): void;
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
}

/** A refusal in Xero's words: a plain-text message, or a ValidationException body. */
const refusal = (status: number, body: unknown) => new SandboxRefusal({ status, body });
const validationError = (elements: unknown[], message = 'A validation exception occurred') =>
  refusal(400, {
    ErrorNumber: 10,
    Type: 'ValidationException',
    Message: message,
    ...(elements.length > 0 ? { Elements: elements } : {}),
  });
const validationMessages = (...messages: string[]) => ({ ValidationErrors: messages.map((Message) => ({ Message })) });

/** Xero's "nothing to report" rate-limit headers and its X-Rate-Limit-Problem on a 429. */
const problem = (name: string) => () => ({ headers: { 'X-Rate-Limit-Problem': name } });

/**
 * Xero's limits per tenant: 60 calls a minute, 5,000 a day (reported in X-MinLimit-Remaining and
 * X-DayLimit-Remaining) and 5 in flight at once; a 429 names the limit in X-Rate-Limit-Problem.
 * https://developer.xero.com/documentation/guides/oauth2/limits/
 */
export const XERO_RATE_LIMITS: Record<XeroRateLimitName, RateLimit> = {
  minute: {
    limit: 60,
    windowMs: 60_000,
    refuse: problem('minute'),
    report: (remaining) => ({ 'X-MinLimit-Remaining': String(remaining) }),
  },
  day: {
    limit: 5000,
    windowMs: 86_400_000,
    refuse: problem('day'),
    report: (remaining) => ({ 'X-DayLimit-Remaining': String(remaining) }),
  },
  concurrent: { limit: 5, refuse: problem('concurrent') },
};

const NOT_FOUND = "The resource you're looking for cannot be found";
const objectSchema = z.record(z.string(), z.unknown());
const objectsSchema = z.array(objectSchema).catch([]);
const itemsOf = (body: unknown, key: Collection) => objectsSchema.parse(objectSchema.catch({}).parse(body)[key]);
const querySchema = z.record(z.string(), z.string());

/** The collections the sandbox serves, as in their paths, with the id property and the defaults of their records. */
const COLLECTIONS = {
  Contacts: { id: 'ContactID', defaults: { ContactStatus: 'ACTIVE', IsCustomer: false, IsSupplier: false } },
  Accounts: { id: 'AccountID', defaults: { Status: 'ACTIVE', Type: 'BANK' } },
};
type Collection = keyof typeof COLLECTIONS;

/** A record as the API shows it: its id, its properties and UpdatedDateUTC in Xero's /Date()/ form. */
function view(collection: Collection, { id, updatedAt, fields }: StoredRecord<XeroObject>): XeroObject {
  return { [COLLECTIONS[collection].id]: id, ...fields, UpdatedDateUTC: `/Date(${updatedAt}+0000)/` };
}

/** Phones or addresses written over the current ones, one per type. */
function mergeTyped(current: unknown, incoming: unknown, typeKey: string): XeroObject[] {
  const merged = new Map<string, XeroObject>();
  for (const item of [...objectsSchema.parse(current ?? []), ...objectsSchema.parse(incoming ?? [])])
    merged.set(String(item[typeKey]), { ...merged.get(String(item[typeKey])), ...item });
  return [...merged.values()];
}

type ItemTest = (item: XeroObject) => boolean;

/** Xero's answer to a filter that calls a method on a property a record does not have. */
const UNKNOWN_ERROR = {
  ErrorNumber: 500,
  Type: 'UnknownErrorException',
  Message:
    'An error occurred in Xero. Check the API Status page http://status.developer.xero.com for current service status. Contact the API support team at api@xero.com for more assistance.',
};

/** The tokens of a where clause: string literals, names, operators and parentheses. */
const WHERE_TOKEN = /\s*(?:"((?:[^"\\]|\\.)*)"|(\w+)|(==|!=|&&|\|\||[().]))/y;

/** A property's value as a where clause compares it: text, or null when the record has none. */
function propertyText(item: XeroObject, field: string): string | null {
  const actual = item[field];
  return ['string', 'number', 'boolean'].includes(typeof actual) ? String(actual) : null;
}

/**
 * Understands the filters tandem sends: `Field=="value"`, `Field!=null`, `Field.Contains("value")`
 * (and StartsWith, EndsWith), joined by `&&` and `||`, in parentheses. As in Xero, a method called
 * on a property the record lacks fails the call, which is why filters test optional ones for null
 * first (https://developer.xero.com/documentation/api/accounting/requests-and-responses).
 */
function whereFilter(where: string | undefined): ItemTest {
  if (where === undefined || where === '') return () => true;
  const refused = () => validationError([], `The sandbox does not understand where=${where}`);
  const tokens: { text?: string; word?: string; symbol?: string }[] = [];
  for (let position = 0; where.slice(position).trim() !== ''; position = WHERE_TOKEN.lastIndex) {
    WHERE_TOKEN.lastIndex = position;
    const match = WHERE_TOKEN.exec(where);
    if (match === null) throw refused();
    const [, text, word, symbol] = match;
    tokens.push(text === undefined ? { word, symbol } : { text: text.replace(/\\(.)/g, '$1') });
  }
  let at = 0;
  const next = () => tokens[at++] ?? {};
  const take = (symbol: string) => {
    if (next().symbol !== symbol) throw refused();
  };
  const literal = () => {
    const token = next();
    if (token.text !== undefined) return token.text;
    if (token.word === 'null') return null;
    throw refused();
  };
  const condition = (): ItemTest => {
    const token = next();
    if (token.symbol === '(') {
      const inner = either();
      take(')');
      return inner;
    }
    const field = token.word;
    if (field === undefined) throw refused();
    const operator = next().symbol;
    if (operator === '==' || operator === '!=') {
      const value = literal();
      return (item) => (propertyText(item, field) === value) === (operator === '==');
    }
    const method = operator === '.' ? next().word : undefined;
    const test = { Contains: 'includes', StartsWith: 'startsWith', EndsWith: 'endsWith' } as const;
    if (method !== 'Contains' && method !== 'StartsWith' && method !== 'EndsWith') throw refused();
    take('(');
    const value = literal();
    take(')');
    if (value === null) throw refused();
    return (item) => {
      const actual = propertyText(item, field);
      if (actual === null) throw refusal(500, UNKNOWN_ERROR);
      return actual[test[method]](value);
    };
  };
  const both = (): ItemTest => {
    let test = condition();
    while (tokens[at]?.symbol === '&&') {
      at++;
      const [left, right] = [test, condition()];
      test = (item) => left(item) && right(item);
    }
    return test;
  };
  const either = (): ItemTest => {
    let test = both();
    while (tokens[at]?.symbol === '||') {
      at++;
      const [left, right] = [test, both()];
      test = (item) => left(item) || right(item);
    }
    return test;
  };
  const filter = either();
  if (at !== tokens.length) throw refused();
  return filter;
}

/** The properties Xero's `searchTerm` looks in, case-insensitively (GET /Contacts in xero_accounting.yaml). */
const SEARCH_TERM_FIELDS = ['Name', 'FirstName', 'LastName', 'ContactNumber', 'EmailAddress'];

/** Whether a contact holds a searchTerm in one of the properties it covers. */
function holdsSearchTerm(term: string): ItemTest {
  const wanted = term.toLowerCase();
  return (item) => SEARCH_TERM_FIELDS.some((field) => propertyText(item, field)?.toLowerCase().includes(wanted));
}

/** The page size a read asks for: Xero documents `pageSize` up to 1000; anything else is refused here. */
function pageSizeOf(given: string | undefined, fallback: number): number {
  if (given === undefined) return fallback;
  const size = Number(given);
  if (!Number.isInteger(size) || size < 1 || size > 1000)
    throw validationError([], `pageSize must be a whole number from 1 to 1000, not ${given}`);
  return size;
}

/** Starts a sandbox on a free port unless told otherwise. */
export async function startXeroSandbox(options: XeroSandboxOptions = {}): Promise<XeroSandbox> {
  const tenantId = options.tenantId ?? '8a1c6a9b-2f3d-4e5f-9a0b-1c2d3e4f5a6b';
  const clientId = options.clientId ?? 'sandbox-client';
  const clientSecret = options.clientSecret ?? 'sandbox-secret';
  const pageSize = options.pageSize ?? 100;
  const tokens = new BearerTokens();
  // Every change gets its own UpdatedDateUTC.
  const clock = new SandboxClock(options.clockOffsetMs);
  const store = new RecordStore({
    now: clock.now,
    collections: ['Contacts', 'Accounts'] as const,
    fields: objectSchema,
    distinctTimes: true,
  });
  const idempotent = new Map<string, SandboxAnswer>();

  /** Creates (no id) or changes a record, refused as Xero refuses it. */
  function write(collection: Collection, id: string | null, properties: XeroObject, by: ChangedBy): XeroObject {
    const existing = id === null ? undefined : store.get(collection, id);
    if (id !== null && existing === undefined) throw refusal(404, NOT_FOUND);
    const { [COLLECTIONS[collection].id]: _id, UpdatedDateUTC: _stamp, ...given } = properties;
    const fields: XeroObject = { ...COLLECTIONS[collection].defaults, ...existing?.fields, ...given };
    if (collection === 'Contacts') {
      const name = given.Name ?? existing?.fields.Name;
      if (typeof name !== 'string' || name.trim() === '') throw refusal(400, 'The contact name must be specified.');
      if (store.list('Contacts').some((other) => other.id !== id && other.fields.Name === name))
        throw refusal(
          400,
          `The contact name ${name} is already assigned to another contact. The contact name must be unique across all active contacts.`,
        );
      fields.Phones = mergeTyped(existing?.fields.Phones, given.Phones, 'PhoneType');
      fields.Addresses = mergeTyped(existing?.fields.Addresses, given.Addresses, 'AddressType');
      fields.HasValidationErrors = false;
    } else if (typeof fields.Code !== 'string' || typeof fields.Name !== 'string')
      throw validationError([validationMessages('Please enter a code and a name.')]);
    const record = existing ? store.update(collection, existing, fields, by) : store.create(collection, fields, by);
    return view(collection, record);
  }

  const { app, listen } = createSandboxServer(
    {
      api: /^\/api\.xro\/2\.0(?=\/|$)/,
      tokenPath: SANDBOX_TOKEN_PATH,
      pathWithQuery: true,
      authenticate: (request) => {
        if (!tokens.accepts(request.headers.authorization)) return { status: 401 };
        return request.headers['xero-tenant-id'] === tenantId ? undefined : { status: 403 };
      },
      throttled: problem('minute'),
      unavailable: () => ({ status: 503 }),
      failure: (status, message) => ({ status, body: status === 404 ? NOT_FOUND : message }),
      rateLimits: XERO_RATE_LIMITS,
    },
    options,
    clock,
  );
  const token = addTokenEndpoint(app, tokens, {
    path: SANDBOX_TOKEN_PATH,
    clientId,
    clientSecret,
    grant: 'refresh_token',
    ttlSeconds: 1800,
    refreshToken: options.refreshToken ?? 'sandbox-refresh-0',
    extra: { scope: 'accounting.contacts accounting.settings offline_access' },
  });

  /** Adds an API route; a repeated Idempotency-Key gets the first answer again. */
  function api(method: 'GET' | 'POST' | 'PUT', path: string, handler: (request: FastifyRequest) => unknown): void {
    app.route({
      method,
      url: `${SANDBOX_API_PATH}${path}`,
      handler: (request, reply) => {
        const key = request.headers['idempotency-key'];
        const replayKey = typeof key === 'string' ? `${method} ${key}` : undefined;
        return sendAnswer(
          reply,
          replayedAnswer(idempotent, replayKey, () => handler(request)),
        );
      },
    });
  }
  const idParam = (request: FastifyRequest) => z.object({ id: z.string() }).parse(request.params).id;

  for (const collection of ['Contacts', 'Accounts'] as const) {
    // If-Modified-Since is inclusive, as in Xero; the oldest change comes first.
    api('GET', `/${collection}`, (request) => {
      const query = querySchema.parse(request.query);
      const ids = query.IDs?.split(',');
      const filter = whereFilter(query.where);
      // searchTerm is a parameter of GET /Contacts only.
      if (query.searchTerm !== undefined && collection === 'Accounts')
        throw validationError([], 'The sandbox does not understand searchTerm on Accounts');
      const searched = query.searchTerm === undefined ? () => true : holdsSearchTerm(query.searchTerm);
      const size = pageSizeOf(query.pageSize, pageSize);
      const since = request.headers['if-modified-since'];
      const all = store
        .changedSince(collection, typeof since === 'string' ? Date.parse(since) : undefined)
        .map((record) => view(collection, record))
        .filter(
          (item) =>
            (query.includeArchived === 'true' || item.ContactStatus !== 'ARCHIVED') &&
            (ids === undefined || ids.includes(String(item[COLLECTIONS[collection].id]))) &&
            searched(item) &&
            filter(item),
        );
      // Xero pages contacts only, and returns MergedToContactID only on paged and single reads.
      if (query.page === undefined || collection === 'Accounts')
        return { [collection]: all.map(({ MergedToContactID: _merged, ...rest }) => rest) };
      const page = Math.max(1, Number(query.page));
      return {
        pagination: { page, pageSize: size, pageCount: Math.ceil(all.length / size), itemCount: all.length },
        Contacts: all.slice((page - 1) * size, page * size),
      };
    });

    api('GET', `/${collection}/:id`, (request) => {
      const record = store.get(collection, idParam(request));
      if (record === undefined) throw refusal(404, NOT_FOUND);
      return { [collection]: [view(collection, record)] };
    });

    api('POST', `/${collection}/:id`, (request) => {
      try {
        return {
          [collection]: [write(collection, idParam(request), itemsOf(request.body, collection)[0] ?? {}, 'api')],
        };
      } catch (error) {
        // A refusal in plain text (a contact's name) comes back as a ValidationException here.
        if (error instanceof SandboxRefusal && typeof error.answer.body === 'string' && error.answer.status === 400)
          throw validationError([validationMessages(error.message)]);
        throw error;
      }
    });
  }

  api('POST', '/Contacts', (request) => {
    const summarize = querySchema.parse(request.query).summarizeErrors !== 'false';
    const results = itemsOf(request.body, 'Contacts').map((item) => {
      try {
        return write('Contacts', typeof item.ContactID === 'string' ? item.ContactID : null, item, 'api');
      } catch (error) {
        if (!(error instanceof SandboxRefusal)) throw error;
        const message = error.answer.status === 404 ? `Contact not found: ${String(item.ContactID)}` : error.message;
        return { ...item, HasValidationErrors: true, ...validationMessages(message) };
      }
    });
    const failed = results.filter((result) => result.HasValidationErrors === true);
    if (summarize && failed.length > 0)
      throw validationError(failed.map((item) => ({ ValidationErrors: item.ValidationErrors })));
    return { Contacts: results };
  });

  api('PUT', '/Accounts', (request) => ({
    Accounts: [write('Accounts', null, objectSchema.catch({}).parse(request.body), 'api')],
  }));

  const { origin, controls } = await listen();

  /** An edit as a user makes it in Xero; a refusal is thrown as an Error. */
  const direct = (collection: Collection, id: string | null, properties: XeroObject) => {
    try {
      return write(collection, id, properties, 'user');
    } catch (error) {
      throw error instanceof SandboxRefusal ? new Error(`xero sandbox: ${error.message}`) : error;
    }
  };
  return {
    ...controls,
    url: `${origin}${SANDBOX_API_PATH}`,
    tokenUrl: `${origin}${SANDBOX_TOKEN_PATH}`,
    tenantId,
    clientId,
    clientSecret,
    get refreshToken() {
      return token.refreshToken;
    },
    get exchanges() {
      return controls.requests.filter((entry) => entry.path !== 'token');
    },
    revokeTokens: () => tokens.revoke(),
    createContact: (properties) => direct('Contacts', null, properties),
    updateContact: (id, properties) => direct('Contacts', id, properties),
    archiveContact: (id) => direct('Contacts', id, { ContactStatus: 'ARCHIVED' }),
    mergeContact: (from, into) => direct('Contacts', from, { ContactStatus: 'ARCHIVED', MergedToContactID: into }),
    getContact: (id) => {
      const record = store.get('Contacts', id);
      return record && view('Contacts', record);
    },
    createBankAccount: (properties) => direct('Accounts', null, properties),
  };
}
