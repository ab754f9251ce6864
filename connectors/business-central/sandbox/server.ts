/**
 * A local stand-in for Business Central's API v2.0: the subset tandem uses (customers, vendors,
 * bank accounts, contacts, sales quotes and orders, purchase orders, $batch, webhook
 * subscriptions), its OAuth token endpoint, and knobs for latency, throttling and failures.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { isCollectionName, WEBHOOK_COLLECTIONS, type CollectionName } from './collections';
import { Notifier, parseSubscriptionResource, validateNotificationUrl } from './notifier';
import { compileFilter, compileOrderBy, FilterSyntaxError } from './odata-filter';
import type { BusinessCentralSandboxSeed } from './seed';
import {
  etagOf,
  ifMatchAccepts,
  SandboxError,
  SandboxStore,
  type StoredRecord,
  type StoredSubscription,
} from './store';

/** The company every sandbox has unless told otherwise. */
export const SANDBOX_COMPANY_ID = '3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
/** The path of the API below the origin, as on api.businesscentral.dynamics.com. */
export const SANDBOX_API_PATH = '/v2.0/sandbox/production/api/v2.0';
/** The token endpoint's path, as on login.microsoftonline.com. */
export const SANDBOX_TOKEN_PATH = '/oauth2/v2.0/token';

const SUBSCRIPTION_LIFETIME_MS = 3 * 24 * 60 * 60 * 1000;
const BATCH_LIMIT = 100;

/** How to start a sandbox; every option has a default. */
export interface BusinessCentralSandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  companyId?: string;
  companyName?: string;
  clientId?: string;
  clientSecret?: string;
  tokenTtlSeconds?: number;
  latencyMs?: number;
  /** Random failures of API requests, as probabilities between 0 and 1. */
  failures?: { rate429?: number; rate5xx?: number };
  /** JSON file to load at start and save after every write. */
  file?: string;
  seed?: BusinessCentralSandboxSeed;
  /** Records per page before @odata.nextLink (default 100). */
  pageSize?: number;
  /** Wait after a change before notifying (default 50 ms; BC waits 30 s). */
  notificationDelayMs?: number;
  /** More changes than this per subscription become one `collection` notification (default 1000). */
  collectionThreshold?: number;
  /** Delivery attempts per notification (default 3). */
  deliveryAttempts?: number;
}

/** One API request as the sandbox saw it. */
export interface SandboxRequest {
  method: string;
  /** The path below the API base, for example `companies(...)/customers`, or `token`. */
  path: string;
  query: string;
  status: number;
}

/** A direct-access helper set for one collection: edits behave like a user working in BC. */
export interface SandboxCollectionAccess {
  create(fields: Record<string, unknown>): Record<string, unknown>;
  update(id: string, fields: Record<string, unknown>): Record<string, unknown>;
  delete(id: string): void;
  get(id: string): Record<string, unknown> | undefined;
  list(): Array<Record<string, unknown>>;
}

/** A running sandbox. */
export interface BusinessCentralSandbox {
  /** The API base up to and including /api/v2.0. */
  readonly url: string;
  readonly tokenUrl: string;
  readonly companyId: string;
  readonly port: number;
  readonly clientId: string;
  readonly clientSecret: string;
  close(): Promise<void>;
  /** The next API requests fail deterministically: first `next429` with 429, then `next5xx` with 503. */
  injectFailures(failures: { next429?: number; next5xx?: number; retryAfterSeconds?: number }): void;
  setLatency(ms: number): void;
  /** Makes every issued token invalid, as if it had expired. */
  revokeTokens(): void;
  /** Every API and token request so far. */
  readonly requests: readonly SandboxRequest[];
  /** How many logged requests match; `path` matches when the logged path contains it. */
  countRequests(filter?: { method?: string; path?: string }): number;
  clearRequestLog(): void;
  /** Sends pending notifications now and waits for their delivery. */
  flushNotifications(): Promise<void>;
  /** Every notification delivery attempt (status 0 = no answer). */
  readonly deliveries: ReadonlyArray<{ notificationUrl: string; status: number; items: number }>;
  subscriptions(): Array<Record<string, unknown>>;
  collection(name: CollectionName): SandboxCollectionAccess;
  createCustomer(fields: Record<string, unknown>): Record<string, unknown>;
  updateCustomer(id: string, fields: Record<string, unknown>): Record<string, unknown>;
  deleteCustomer(id: string): void;
  getCustomer(id: string): Record<string, unknown> | undefined;
  listCustomers(): Array<Record<string, unknown>>;
  createVendor(fields: Record<string, unknown>): Record<string, unknown>;
  updateVendor(id: string, fields: Record<string, unknown>): Record<string, unknown>;
  deleteVendor(id: string): void;
  getVendor(id: string): Record<string, unknown> | undefined;
  listVendors(): Array<Record<string, unknown>>;
  createBankAccount(fields: Record<string, unknown>): Record<string, unknown>;
  updateBankAccount(id: string, fields: Record<string, unknown>): Record<string, unknown>;
  deleteBankAccount(id: string): void;
  getBankAccount(id: string): Record<string, unknown> | undefined;
  listBankAccounts(): Array<Record<string, unknown>>;
  createContact(fields: Record<string, unknown>): Record<string, unknown>;
  updateContact(id: string, fields: Record<string, unknown>): Record<string, unknown>;
  deleteContact(id: string): void;
  getContact(id: string): Record<string, unknown> | undefined;
  listContacts(): Array<Record<string, unknown>>;
}

interface ApiResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

const jsonObject = z.record(z.string(), z.unknown());
const subscriptionBodySchema = z.object({
  notificationUrl: z.url(),
  resource: z.string().min(1),
  clientState: z.string().max(2048).optional(),
});
const batchBodySchema = z.object({
  requests: z.array(
    z.object({
      id: z.string(),
      method: z.string(),
      url: z.string(),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.unknown().optional(),
    }),
  ),
});

function view(record: StoredRecord): Record<string, unknown> {
  const { version, ...properties } = record;
  return { '@odata.etag': etagOf(version, record.id), ...properties };
}

function subscriptionView(subscription: StoredSubscription): Record<string, unknown> {
  const { version, ...properties } = subscription;
  return { '@odata.etag': etagOf(version, subscription.subscriptionId), ...properties };
}

function odataError(status: number, code: string, message: string): ApiResponse {
  return { status, body: { error: { code, message } } };
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts a sandbox and resolves once it listens. */
export async function startBusinessCentralSandbox(
  options: BusinessCentralSandboxOptions = {},
): Promise<BusinessCentralSandbox> {
  const companyId = (options.companyId ?? SANDBOX_COMPANY_ID).toLowerCase();
  const companyName = options.companyName ?? 'CRONUS Sandbox';
  const clientId = options.clientId ?? 'sandbox-client';
  const clientSecret = options.clientSecret ?? 'sandbox-secret';
  const tokenTtlSeconds = options.tokenTtlSeconds ?? 3599;
  const pageSize = options.pageSize ?? 100;
  let latencyMs = options.latencyMs ?? 0;
  const forced = { next429: 0, next5xx: 0, retryAfterSeconds: 1 };
  const tokens = new Map<string, number>();
  const requests: SandboxRequest[] = [];
  let origin = '';

  const notifier: Notifier = new Notifier(
    {
      companyId,
      subscriptions: () => [...store.subscriptions.values()],
      removeSubscription: (id) => {
        store.subscriptions.delete(id);
        store.save();
      },
    },
    {
      delayMs: options.notificationDelayMs ?? 50,
      collectionThreshold: options.collectionThreshold ?? 1000,
      deliveryAttempts: options.deliveryAttempts ?? 3,
      retryDelayMs: 20,
    },
  );
  const store: SandboxStore = new SandboxStore((change) => notifier.enqueue(change), options.file);
  const loaded = options.file !== undefined && store.list('customers').length + store.list('vendors').length > 0;
  if (!loaded && options.seed !== undefined) {
    for (const name of ['customers', 'vendors', 'bankAccounts', 'contacts'] as const) {
      for (const record of options.seed[name] ?? []) store.create(name, record, { silent: true });
    }
  }

  // ---- OAuth token endpoint -------------------------------------------------------------------
  const issueToken = (body: string): ApiResponse => {
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') {
      return {
        status: 400,
        body: {
          error: 'unsupported_grant_type',
          error_description: 'AADSTS70003: The app requested an unsupported grant type.',
        },
      };
    }
    if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
      return {
        status: 401,
        body: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' },
      };
    }
    const token = randomBytes(24).toString('base64url');
    tokens.set(token, Date.now() + tokenTtlSeconds * 1000);
    return {
      status: 200,
      body: { token_type: 'Bearer', expires_in: tokenTtlSeconds, ext_expires_in: tokenTtlSeconds, access_token: token },
    };
  };

  const authorized = (authorization: string | undefined): boolean => {
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    const expiresAt = token === undefined ? undefined : tokens.get(token);
    return expiresAt !== undefined && expiresAt > Date.now();
  };

  // ---- Collections ----------------------------------------------------------------------------
  const listCollection = (collection: CollectionName, path: string, query: URLSearchParams): ApiResponse => {
    let rows = store.list(collection);
    const filter = query.get('$filter');
    if (filter !== null) {
      const predicate = compileFilter(filter);
      rows = rows.filter((row) => predicate(row));
    }
    const orderBy = query.get('$orderby');
    if (orderBy !== null) rows = [...rows].sort(compileOrderBy(orderBy));
    const skip = Number(query.get('$skip') ?? 0);
    const top = query.get('$top') === null ? undefined : Number(query.get('$top'));
    if (!Number.isInteger(skip) || skip < 0 || (top !== undefined && (!Number.isInteger(top) || top < 0))) {
      return odataError(400, 'BadRequest', 'Invalid $skip or $top.');
    }
    const window = rows.slice(skip, top === undefined ? undefined : skip + top);
    const offset = Number(query.get('$skiptoken') ?? 0);
    const page = window.slice(offset, offset + pageSize);
    const body: Record<string, unknown> = {
      '@odata.context': `${origin}${SANDBOX_API_PATH}/$metadata#${path}`,
      value: page.map(view),
    };
    if (offset + pageSize < window.length) {
      const next = new URLSearchParams(query);
      next.set('$skiptoken', String(offset + pageSize));
      body['@odata.nextLink'] = `${origin}${SANDBOX_API_PATH}/${path}?${next.toString().replace(/\+/g, '%20')}`;
    }
    return { status: 200, body };
  };

  const parseJsonBody = (body: unknown): Record<string, unknown> => {
    const parsed = jsonObject.safeParse(body);
    if (!parsed.success) throw new SandboxError(400, 'BadRequest', 'The request body must be a JSON object.');
    return parsed.data;
  };

  const requireIfMatch = (headers: Record<string, string | string[] | undefined>): string => {
    const ifMatch = header(headers, 'if-match');
    if (ifMatch === undefined || ifMatch === '') {
      throw new SandboxError(
        400,
        'BadRequest',
        'Could not validate the client concurrency token required by the service. Please provide a valid token in the client request.',
      );
    }
    return ifMatch;
  };

  // ---- Subscriptions --------------------------------------------------------------------------
  const liveSubscriptions = (): StoredSubscription[] => {
    const now = Date.now();
    for (const subscription of [...store.subscriptions.values()]) {
      if (Date.parse(subscription.expirationDateTime) <= now) store.subscriptions.delete(subscription.subscriptionId);
    }
    return [...store.subscriptions.values()];
  };

  const checkSubscriptionResource = (resource: string): void => {
    const target = parseSubscriptionResource(resource);
    if (
      target === null ||
      target.companyId !== companyId ||
      !WEBHOOK_COLLECTIONS.some((name) => name.toLowerCase() === target.collection.toLowerCase())
    ) {
      throw new SandboxError(400, 'BadRequest', `The resource '${resource}' does not support webhooks.`);
    }
  };

  const subscriptionRoute = async (
    method: string,
    id: string | undefined,
    headers: Record<string, string | string[] | undefined>,
    rawBody: unknown,
  ): Promise<ApiResponse> => {
    if (id === undefined) {
      if (method === 'GET') return { status: 200, body: { value: liveSubscriptions().map(subscriptionView) } };
      if (method !== 'POST')
        return odataError(
          405,
          'BadRequest_MethodNotAllowed',
          `'${method}' requests for 'subscriptions' of EdmType 'Collection' are not allowed.`,
        );
      const parsed = subscriptionBodySchema.safeParse(rawBody);
      if (!parsed.success) return odataError(400, 'BadRequest', 'notificationUrl and resource are required.');
      checkSubscriptionResource(parsed.data.resource);
      if (!(await validateNotificationUrl(parsed.data.notificationUrl))) {
        return odataError(
          400,
          'BadRequest',
          'The subscription was not validated: the notification URL did not return the validation token.',
        );
      }
      const now = Date.now();
      const subscription: StoredSubscription = {
        subscriptionId: randomUUID().replace(/-/g, ''),
        notificationUrl: parsed.data.notificationUrl,
        resource: parsed.data.resource,
        clientState: parsed.data.clientState ?? '',
        expirationDateTime: new Date(now + SUBSCRIPTION_LIFETIME_MS).toISOString(),
        lastModifiedDateTime: new Date(now).toISOString(),
        userId: '00000000-0000-0000-0000-000000000001',
        version: store.nextVersion(),
      };
      store.subscriptions.set(subscription.subscriptionId, subscription);
      store.save();
      return { status: 201, body: subscriptionView(subscription) };
    }
    const subscription = liveSubscriptions().find((candidate) => candidate.subscriptionId === id);
    if (subscription === undefined)
      return odataError(404, 'BadRequest_NotFound', `The subscription '${id}' does not exist.`);
    if (method === 'GET') return { status: 200, body: subscriptionView(subscription) };
    const ifMatch = requireIfMatch(headers);
    if (!ifMatchAccepts(ifMatch, subscription.version, subscription.subscriptionId)) {
      return odataError(412, 'Request_EntityChanged', 'Another user has already changed the record.');
    }
    if (method === 'DELETE') {
      store.subscriptions.delete(id);
      store.save();
      return { status: 204 };
    }
    if (method !== 'PATCH') return odataError(405, 'BadRequest_MethodNotAllowed', `'${method}' is not allowed here.`);
    const parsed = subscriptionBodySchema.partial().safeParse(rawBody);
    if (!parsed.success) return odataError(400, 'BadRequest', 'Invalid subscription body.');
    const next = { ...subscription, ...parsed.data };
    checkSubscriptionResource(next.resource);
    // Renewal performs the handshake again, like creation.
    if (!(await validateNotificationUrl(next.notificationUrl))) {
      return odataError(
        400,
        'BadRequest',
        'The subscription was not validated: the notification URL did not return the validation token.',
      );
    }
    const now = Date.now();
    Object.assign(subscription, next, {
      expirationDateTime: new Date(now + SUBSCRIPTION_LIFETIME_MS).toISOString(),
      lastModifiedDateTime: new Date(now).toISOString(),
      version: store.nextVersion(),
    });
    store.save();
    return { status: 200, body: subscriptionView(subscription) };
  };

  // ---- Dispatch -------------------------------------------------------------------------------
  const companiesView = () => [
    { id: companyId, systemVersion: '24.0', name: companyName, displayName: companyName, businessProfileId: '' },
  ];

  /** Answers one API request (also each request inside a $batch). */
  const dispatch = async (
    method: string,
    target: string,
    headers: Record<string, string | string[] | undefined>,
    rawBody: unknown,
  ): Promise<ApiResponse> => {
    try {
      const [rawPath = '', rawQuery = ''] = target.split('?', 2);
      const path = decodeURIComponent(rawPath.replace(/^\/+/, ''));
      const query = new URLSearchParams(rawQuery);
      if (path === 'companies') {
        return method === 'GET'
          ? { status: 200, body: { value: companiesView() } }
          : odataError(405, 'BadRequest_MethodNotAllowed', 'Not allowed.');
      }
      const subscription = /^subscriptions(?:\('?([^')]+)'?\))?$/.exec(path);
      if (subscription !== null) return await subscriptionRoute(method, subscription[1], headers, rawBody);

      const match = /^companies\('?([^')]+)'?\)(?:\/([A-Za-z]+)(?:\(([^)]+)\))?)?$/.exec(path);
      if (match === null)
        return odataError(
          404,
          'BadRequest_NotFound',
          `No HTTP resource was found that matches the request URI '${path}'.`,
        );
      if (match[1]!.toLowerCase() !== companyId)
        return odataError(404, 'BadRequest_NotFound', `The company '${match[1]!}' does not exist.`);
      if (match[2] === undefined)
        return method === 'GET'
          ? { status: 200, body: companiesView()[0] }
          : odataError(405, 'BadRequest_MethodNotAllowed', 'Not allowed.');
      const collection = match[2];
      if (!isCollectionName(collection))
        return odataError(404, 'BadRequest_NotFound', `The resource '${collection}' does not exist.`);
      const id = match[3]?.replace(/^'(.*)'$/, '$1');
      if (id === undefined) {
        if (method === 'GET') return listCollection(collection, path, query);
        if (method === 'POST') return { status: 201, body: view(store.create(collection, parseJsonBody(rawBody))) };
        return odataError(
          405,
          'BadRequest_MethodNotAllowed',
          `'${method}' requests for '${collection}' of EdmType 'Collection' are not allowed.`,
        );
      }
      if (method === 'GET') return { status: 200, body: view(store.get(collection, id)) };
      if (method === 'PATCH')
        return {
          status: 200,
          body: view(store.update(collection, id, parseJsonBody(rawBody), requireIfMatch(headers))),
        };
      if (method === 'DELETE') {
        store.delete(collection, id, requireIfMatch(headers));
        return { status: 204 };
      }
      return odataError(405, 'BadRequest_MethodNotAllowed', `'${method}' is not allowed here.`);
    } catch (error) {
      if (error instanceof SandboxError) return odataError(error.status, error.code, error.message);
      if (error instanceof FilterSyntaxError) return odataError(400, 'BadRequest', `Invalid $filter: ${error.message}`);
      throw error;
    }
  };

  const runBatch = async (rawBody: unknown): Promise<ApiResponse> => {
    const parsed = batchBodySchema.safeParse(rawBody);
    if (!parsed.success) return odataError(400, 'BadRequest', 'The $batch body must be JSON with a requests array.');
    if (parsed.data.requests.length > BATCH_LIMIT) {
      return odataError(400, 'BadRequest', `The batch request exceeds the maximum of ${BATCH_LIMIT} operations.`);
    }
    const responses = [];
    for (const inner of parsed.data.requests) {
      const target = inner.url.startsWith('http')
        ? inner.url.slice(inner.url.indexOf(SANDBOX_API_PATH) + SANDBOX_API_PATH.length)
        : inner.url;
      const headers = Object.fromEntries(
        Object.entries(inner.headers ?? {}).map(([key, value]) => [key.toLowerCase(), value]),
      );
      const answer = await dispatch(inner.method.toUpperCase(), target, headers, inner.body);
      const etag = jsonObject.safeParse(answer.body).data?.['@odata.etag'];
      responses.push({
        id: inner.id,
        status: answer.status,
        headers: {
          'content-type': 'application/json; odata.metadata=minimal',
          ...(typeof etag === 'string' ? { etag } : {}),
        },
        ...(answer.body === undefined ? {} : { body: answer.body }),
      });
    }
    return { status: 200, body: { responses } };
  };

  // ---- HTTP -----------------------------------------------------------------------------------
  const send = (response: ServerResponse, answer: ApiResponse): void => {
    const headers: Record<string, string> = { ...answer.headers };
    if (answer.body === undefined) {
      response.writeHead(answer.status, headers).end();
      return;
    }
    headers['content-type'] ??= 'application/json; odata.metadata=minimal';
    response.writeHead(answer.status, headers).end(JSON.stringify(answer.body));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const method = (request.method ?? 'GET').toUpperCase();
    const url = new URL(request.url ?? '/', origin);
    const text = await readBody(request);
    const log = (path: string, status: number) =>
      requests.push({ method, path, query: decodeURIComponent(url.search), status });

    if (method === 'POST' && url.pathname.endsWith(SANDBOX_TOKEN_PATH)) {
      const answer = issueToken(text);
      log('token', answer.status);
      send(response, answer);
      return;
    }
    const apiPrefix = /^\/v2\.0\/[^/]+\/[^/]+\/api\/v2\.0(?:\/|$)/.exec(url.pathname);
    if (apiPrefix === null) {
      send(
        response,
        odataError(
          404,
          'BadRequest_NotFound',
          `No HTTP resource was found that matches the request URI '${url.pathname}'.`,
        ),
      );
      return;
    }
    const path = url.pathname.slice(apiPrefix[0].length);
    if (latencyMs > 0) await sleep(latencyMs);

    let answer: ApiResponse;
    if (forced.next429 > 0 || Math.random() < (options.failures?.rate429 ?? 0)) {
      if (forced.next429 > 0) forced.next429--;
      answer = {
        ...odataError(429, 'Application_TooManyRequests', 'Too many requests reached. Please try again later.'),
        headers: { 'retry-after': String(forced.retryAfterSeconds) },
      };
    } else if (forced.next5xx > 0 || Math.random() < (options.failures?.rate5xx ?? 0)) {
      if (forced.next5xx > 0) forced.next5xx--;
      answer = odataError(503, 'Internal_ServiceUnavailable', 'The service is temporarily unavailable.');
    } else if (!authorized(header(request.headers, 'authorization'))) {
      answer = {
        ...odataError(401, 'Authentication_InvalidCredentials', 'The server has rejected the client credentials.'),
        headers: { 'www-authenticate': 'Bearer realm="sandbox"' },
      };
    } else {
      const body = parseJson(text);
      if (!body.ok) answer = odataError(400, 'BadRequest', 'The request body is not valid JSON.');
      else if (path === '$batch')
        answer =
          method === 'POST'
            ? await runBatch(body.value)
            : odataError(405, 'BadRequest_MethodNotAllowed', 'Use POST for $batch.');
      else answer = await dispatch(method, `${path}${url.search}`, request.headers, body.value);
    }
    log(path, answer.status);
    send(response, answer);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent)
        send(response, odataError(500, 'Internal_ServerError', error instanceof Error ? error.message : String(error)));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the sandbox is not listening on a TCP port');
  origin = `http://${options.host ?? '127.0.0.1'}:${address.port}`;

  const access = (name: CollectionName): SandboxCollectionAccess => ({
    create: (fields) => view(store.create(name, fields)),
    update: (id, fields) => view(store.update(name, id, fields, null)),
    delete: (id) => store.delete(name, id, null),
    get: (id) => {
      const record = store.find(name, id);
      return record === undefined ? undefined : view(record);
    },
    list: () => store.list(name).map(view),
  });
  const customers = access('customers');
  const vendors = access('vendors');
  const bankAccounts = access('bankAccounts');
  const contacts = access('contacts');

  return {
    url: `${origin}${SANDBOX_API_PATH}`,
    tokenUrl: `${origin}${SANDBOX_TOKEN_PATH}`,
    companyId,
    port: address.port,
    clientId,
    clientSecret,
    requests,
    deliveries: notifier.deliveries,
    async close() {
      await notifier.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    injectFailures(failures) {
      forced.next429 += failures.next429 ?? 0;
      forced.next5xx += failures.next5xx ?? 0;
      if (failures.retryAfterSeconds !== undefined) forced.retryAfterSeconds = failures.retryAfterSeconds;
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    revokeTokens() {
      tokens.clear();
    },
    countRequests(filter = {}) {
      return requests.filter(
        (entry) =>
          (filter.method === undefined || entry.method === filter.method.toUpperCase()) &&
          (filter.path === undefined || entry.path.includes(filter.path)),
      ).length;
    },
    clearRequestLog() {
      requests.length = 0;
    },
    flushNotifications: () => notifier.flush(),
    subscriptions: () => liveSubscriptions().map(subscriptionView),
    collection: access,
    createCustomer: customers.create,
    updateCustomer: customers.update,
    deleteCustomer: customers.delete,
    getCustomer: customers.get,
    listCustomers: customers.list,
    createVendor: vendors.create,
    updateVendor: vendors.update,
    deleteVendor: vendors.delete,
    getVendor: vendors.get,
    listVendors: vendors.list,
    createBankAccount: bankAccounts.create,
    updateBankAccount: bankAccounts.update,
    deleteBankAccount: bankAccounts.delete,
    getBankAccount: bankAccounts.get,
    listBankAccounts: bankAccounts.list,
    createContact: contacts.create,
    updateContact: contacts.update,
    deleteContact: contacts.delete,
    getContact: contacts.get,
    listContacts: contacts.list,
  };
}
