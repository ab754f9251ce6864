/**
 * A local stand-in for Business Central's API v2.0: the subset tandem uses (customers, vendors,
 * bank accounts, contacts, sales quotes and orders, purchase orders, $batch, webhook
 * subscriptions), its OAuth token endpoint, its published rate limit, and the kit's knobs.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { addTokenEndpoint, BearerTokens } from '../../kit/sandbox/oauth';
import type { RateLimit, SandboxAnswer } from '../../kit/sandbox/rate-limits';
import { type NamedEdits, namedEdits } from '../../kit/sandbox/direct-edits';
import { createSandboxServer, type SandboxControls, type SandboxOptions, sendAnswer } from '../../kit/sandbox/server';
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
const ODATA_JSON = 'application/json; odata.metadata=minimal';
// Any environment of any tenant: /v2.0/<tenant or environment>/<environment>/api/v2.0/...
const API_PREFIX = /^\/v2\.0\/[^/]+\/[^/]+\/api\/v2\.0(?:\/|$)/;

/** The rate limit the sandbox enforces (see BUSINESS_CENTRAL_RATE_LIMITS). */
export type BusinessCentralRateLimitName = 'perUser';

/** How to start a sandbox; every option has a default. */
export interface BusinessCentralSandboxOptions extends SandboxOptions<BusinessCentralRateLimitName> {
  companyId?: string;
  companyName?: string;
  clientId?: string;
  clientSecret?: string;
  tokenTtlSeconds?: number;
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

/** A direct-access helper set for one collection: edits behave like a user working in BC. */
export interface SandboxCollectionAccess {
  readonly create: (fields: Record<string, unknown>) => Record<string, unknown>;
  readonly update: (id: string, fields: Record<string, unknown>) => Record<string, unknown>;
  readonly delete: (id: string) => void;
  readonly get: (id: string) => Record<string, unknown> | undefined;
  readonly list: () => Array<Record<string, unknown>>;
}

/**
 * A running sandbox: besides `collection(name)`, createCustomer, updateCustomer, deleteCustomer,
 * getCustomer and listCustomers, and the same for vendors, bank accounts and contacts. Its
 * request log's paths are below the API base (`companies(...)/customers`), or `token`.
 */
export interface BusinessCentralSandbox
  extends
    SandboxControls,
    NamedEdits<'Customer', SandboxCollectionAccess>,
    NamedEdits<'Vendor', SandboxCollectionAccess>,
    NamedEdits<'BankAccount', SandboxCollectionAccess>,
    NamedEdits<'Contact', SandboxCollectionAccess> {
  /** The API base up to and including /api/v2.0. */
  readonly url: string;
  readonly tokenUrl: string;
  readonly companyId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Makes every issued token invalid, as if it had expired. */
  revokeTokens(): void;
  /** Forgets the request log (resetRequests under its older name). */
  clearRequestLog(): void;
  /** Sends pending notifications now and waits for their delivery. */
  flushNotifications(): Promise<void>;
  /** Every notification delivery attempt (status 0 = no answer). */
  readonly deliveries: ReadonlyArray<{ notificationUrl: string; status: number; items: number }>;
  subscriptions(): Array<Record<string, unknown>>;
  collection(name: CollectionName): SandboxCollectionAccess;
}

type Headers = Record<string, string | string[] | undefined>;

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

/** BC's error body, `{ error: { code, message } }`. */
function odataError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): SandboxAnswer {
  return { status, headers: { 'content-type': ODATA_JSON, ...headers }, body: { error: { code, message } } };
}
const notFound = (what: string) => odataError(404, 'BadRequest_NotFound', what);
const notAllowed = (message = 'Not allowed.') => odataError(405, 'BadRequest_MethodNotAllowed', message);
const notAllowedOn = (method: string, name: string) =>
  notAllowed(`'${method}' requests for '${name}' of EdmType 'Collection' are not allowed.`);
const noResource = (path: string) => notFound(`No HTTP resource was found that matches the request URI '${path}'.`);
const notValidated = () =>
  odataError(
    400,
    'BadRequest',
    'The subscription was not validated: the notification URL did not return the validation token.',
  );

/**
 * BC's limit: 6,000 calls per user (the app's service principal) in a sliding five minutes.
 * https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/administration/operational-limits-online
 */
export const BUSINESS_CENTRAL_RATE_LIMITS: Record<BusinessCentralRateLimitName, RateLimit> = {
  perUser: {
    limit: 6000,
    windowMs: 300_000,
    refuse: () =>
      odataError(429, 'Application_TooManyRequests', 'Too many requests reached.  Actual (6001).  Maximum (6000).'),
  },
};

function view(record: StoredRecord | StoredSubscription): Record<string, unknown> {
  const { version, ...properties } = record;
  return { '@odata.etag': etagOf(version, 'id' in record ? record.id : record.subscriptionId), ...properties };
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

function requireIfMatch(headers: Headers): string {
  const ifMatch = header(headers, 'if-match');
  if (ifMatch === undefined || ifMatch === '')
    throw new SandboxError(
      400,
      'BadRequest',
      'Could not validate the client concurrency token required by the service. Please provide a valid token in the client request.',
    );
  return ifMatch;
}

function jsonBody(body: unknown): Record<string, unknown> {
  const parsed = jsonObject.safeParse(body);
  if (!parsed.success) throw new SandboxError(400, 'BadRequest', 'The request body must be a JSON object.');
  return parsed.data;
}

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
  const tokens = new BearerTokens();
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

  // ---- Collections ----------------------------------------------------------------------------
  const listCollection = (collection: CollectionName, path: string, query: URLSearchParams): SandboxAnswer => {
    let rows = store.list(collection);
    const filter = query.get('$filter');
    if (filter !== null) rows = rows.filter(compileFilter(filter));
    const orderBy = query.get('$orderby');
    if (orderBy !== null) rows = [...rows].sort(compileOrderBy(orderBy));
    const skip = Number(query.get('$skip') ?? 0);
    const top = query.get('$top') === null ? undefined : Number(query.get('$top'));
    if (!Number.isInteger(skip) || skip < 0 || (top !== undefined && (!Number.isInteger(top) || top < 0)))
      return odataError(400, 'BadRequest', 'Invalid $skip or $top.');
    const window = rows.slice(skip, top === undefined ? undefined : skip + top);
    const offset = Number(query.get('$skiptoken') ?? 0);
    const next = new URLSearchParams(query);
    next.set('$skiptoken', String(offset + pageSize));
    const nextLink = `${origin}${SANDBOX_API_PATH}/${path}?${next.toString().replace(/\+/g, '%20')}`;
    const body = {
      '@odata.context': `${origin}${SANDBOX_API_PATH}/$metadata#${path}`,
      value: window.slice(offset, offset + pageSize).map(view),
      ...(offset + pageSize < window.length ? { '@odata.nextLink': nextLink } : {}),
    };
    return { status: 200, body };
  };

  // ---- Subscriptions --------------------------------------------------------------------------
  const liveSubscriptions = (): StoredSubscription[] => {
    for (const subscription of [...store.subscriptions.values()]) {
      if (Date.parse(subscription.expirationDateTime) <= Date.now())
        store.subscriptions.delete(subscription.subscriptionId);
    }
    return [...store.subscriptions.values()];
  };

  /** Checks the resource and performs the handshake (creation and renewal alike); a refusal, or undefined. */
  const refuseSubscription = async (resource: string, notificationUrl: string): Promise<SandboxAnswer | undefined> => {
    const target = parseSubscriptionResource(resource);
    const supported = WEBHOOK_COLLECTIONS.some((name) => name.toLowerCase() === target?.collection.toLowerCase());
    if (target?.companyId !== companyId || !supported)
      return odataError(400, 'BadRequest', `The resource '${resource}' does not support webhooks.`);
    return (await validateNotificationUrl(notificationUrl)) ? undefined : notValidated();
  };

  const renewed = () => ({
    expirationDateTime: new Date(Date.now() + SUBSCRIPTION_LIFETIME_MS).toISOString(),
    lastModifiedDateTime: new Date().toISOString(),
    version: store.nextVersion(),
  });

  const subscriptionRoute = async (
    method: string,
    id: string | undefined,
    headers: Headers,
    rawBody: unknown,
  ): Promise<SandboxAnswer> => {
    if (id === undefined) {
      if (method === 'GET') return { status: 200, body: { value: liveSubscriptions().map(view) } };
      if (method !== 'POST') return notAllowedOn(method, 'subscriptions');
      const parsed = subscriptionBodySchema.safeParse(rawBody);
      if (!parsed.success) return odataError(400, 'BadRequest', 'notificationUrl and resource are required.');
      const { notificationUrl, resource, clientState = '' } = parsed.data;
      const refusal = await refuseSubscription(resource, notificationUrl);
      if (refusal) return refusal;
      const subscriptionId = randomUUID().replace(/-/g, '');
      const userId = '00000000-0000-0000-0000-000000000001';
      const subscription = { subscriptionId, notificationUrl, resource, clientState, userId, ...renewed() };
      store.subscriptions.set(subscriptionId, subscription);
      store.save();
      return { status: 201, body: view(subscription) };
    }
    const subscription = liveSubscriptions().find((candidate) => candidate.subscriptionId === id);
    if (subscription === undefined) return notFound(`The subscription '${id}' does not exist.`);
    if (method === 'GET') return { status: 200, body: view(subscription) };
    if (!ifMatchAccepts(requireIfMatch(headers), subscription.version, subscription.subscriptionId))
      return odataError(412, 'Request_EntityChanged', 'Another user has already changed the record.');
    if (method === 'DELETE') {
      store.subscriptions.delete(id);
      store.save();
      return { status: 204 };
    }
    if (method !== 'PATCH') return notAllowed(`'${method}' is not allowed here.`);
    const parsed = subscriptionBodySchema.partial().safeParse(rawBody);
    if (!parsed.success) return odataError(400, 'BadRequest', 'Invalid subscription body.');
    const next = { ...subscription, ...parsed.data };
    const refusal = await refuseSubscription(next.resource, next.notificationUrl);
    if (refusal) return refusal;
    Object.assign(subscription, next, renewed());
    store.save();
    return { status: 200, body: view(subscription) };
  };

  // ---- Dispatch -------------------------------------------------------------------------------
  const companyView = {
    id: companyId,
    systemVersion: '24.0',
    name: companyName,
    displayName: companyName,
    businessProfileId: '',
  };

  /** Answers one API request (also each request inside a $batch). */
  const dispatch = async (method: string, target: string, headers: Headers, body: unknown): Promise<SandboxAnswer> => {
    try {
      const [rawPath = '', rawQuery = ''] = target.split('?', 2);
      const path = decodeURIComponent(rawPath.replace(/^\/+/, ''));
      if (path === 'companies')
        return method === 'GET' ? { status: 200, body: { value: [companyView] } } : notAllowed();
      const subscription = /^subscriptions(?:\('?([^')]+)'?\))?$/.exec(path);
      if (subscription !== null) return await subscriptionRoute(method, subscription[1], headers, body);

      const match = /^companies\('?([^')]+)'?\)(?:\/([A-Za-z]+)(?:\(([^)]+)\))?)?$/.exec(path);
      const [, company = '', collection, rawId] = match ?? [];
      if (match === null) return noResource(path);
      if (company.toLowerCase() !== companyId) return notFound(`The company '${company}' does not exist.`);
      if (collection === undefined) return method === 'GET' ? { status: 200, body: companyView } : notAllowed();
      if (!isCollectionName(collection)) return notFound(`The resource '${collection}' does not exist.`);
      const id = rawId?.replace(/^'(.*)'$/, '$1');
      if (id === undefined) {
        if (method === 'GET') return listCollection(collection, path, new URLSearchParams(rawQuery));
        if (method === 'POST') return { status: 201, body: view(store.create(collection, jsonBody(body))) };
        return notAllowedOn(method, collection);
      }
      if (method === 'GET') return { status: 200, body: view(store.get(collection, id)) };
      if (method === 'PATCH')
        return { status: 200, body: view(store.update(collection, id, jsonBody(body), requireIfMatch(headers))) };
      if (method !== 'DELETE') return notAllowed(`'${method}' is not allowed here.`);
      store.delete(collection, id, requireIfMatch(headers));
      return { status: 204 };
    } catch (error) {
      if (error instanceof SandboxError) return odataError(error.status, error.code, error.message);
      if (error instanceof FilterSyntaxError) return odataError(400, 'BadRequest', `Invalid $filter: ${error.message}`);
      throw error;
    }
  };

  const runBatch = async (rawBody: unknown): Promise<SandboxAnswer> => {
    const parsed = batchBodySchema.safeParse(rawBody);
    if (!parsed.success) return odataError(400, 'BadRequest', 'The $batch body must be JSON with a requests array.');
    if (parsed.data.requests.length > BATCH_LIMIT)
      return odataError(400, 'BadRequest', `The batch request exceeds the maximum of ${BATCH_LIMIT} operations.`);
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
        headers: { 'content-type': ODATA_JSON, ...(typeof etag === 'string' ? { etag } : {}) },
        ...(answer.body === undefined ? {} : { body: answer.body }),
      });
    }
    return { status: 200, body: { responses } };
  };

  // ---- HTTP -----------------------------------------------------------------------------------
  const send = (reply: FastifyReply, answer: SandboxAnswer) =>
    sendAnswer(
      reply,
      answer.body === undefined ? answer : { ...answer, headers: { 'content-type': ODATA_JSON, ...answer.headers } },
    );

  const { app, listen } = createSandboxServer(
    {
      api: API_PREFIX,
      tokenPath: SANDBOX_TOKEN_PATH,
      authenticate: (request) =>
        tokens.accepts(request.headers.authorization)
          ? undefined
          : odataError(401, 'Authentication_InvalidCredentials', 'The server has rejected the client credentials.', {
              'www-authenticate': 'Bearer realm="sandbox"',
            }),
      throttled: () =>
        odataError(429, 'Application_TooManyRequests', 'Too many requests reached. Please try again later.'),
      unavailable: () => odataError(503, 'Internal_ServiceUnavailable', 'The service is temporarily unavailable.'),
      failure: (status, message) =>
        status === 404
          ? notFound(message)
          : odataError(status, status < 500 ? 'BadRequest' : 'Internal_ServerError', message),
      rateLimits: BUSINESS_CENTRAL_RATE_LIMITS,
    },
    options,
  );
  addTokenEndpoint(app, tokens, {
    path: SANDBOX_TOKEN_PATH,
    clientId,
    clientSecret,
    grant: 'client_credentials',
    ttlSeconds: tokenTtlSeconds,
    extra: { ext_expires_in: tokenTtlSeconds },
    descriptions: {
      unsupported_grant_type: 'AADSTS70003: The app requested an unsupported grant type.',
      invalid_client: 'AADSTS7000215: Invalid client secret provided.',
    },
  });
  app.all('/v2.0/:tenant/:environment/api/v2.0/*', async (request, reply) => {
    const queryAt = request.url.includes('?') ? request.url.indexOf('?') : request.url.length;
    const path = request.url.slice(0, queryAt).replace(API_PREFIX, '');
    if (path === '$batch')
      return send(reply, request.method === 'POST' ? await runBatch(request.body) : notAllowed('Use POST for $batch.'));
    return send(
      reply,
      await dispatch(request.method, `${path}${request.url.slice(queryAt)}`, request.headers, request.body),
    );
  });

  const listening = await listen();
  origin = listening.origin;

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
  const { controls } = listening;

  return {
    ...controls,
    url: `${origin}${SANDBOX_API_PATH}`,
    tokenUrl: `${origin}${SANDBOX_TOKEN_PATH}`,
    companyId,
    clientId,
    clientSecret,
    deliveries: notifier.deliveries,
    close: async () => {
      await notifier.close();
      await controls.close();
    },
    revokeTokens: () => tokens.revoke(),
    clearRequestLog: controls.resetRequests,
    flushNotifications: () => notifier.flush(),
    subscriptions: () => liveSubscriptions().map(view),
    collection: access,
    ...namedEdits('Customer', access('customers')),
    ...namedEdits('Vendor', access('vendors')),
    ...namedEdits('BankAccount', access('bankAccounts')),
    ...namedEdits('Contact', access('contacts')),
  };
}
