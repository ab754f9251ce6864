/**
 * A local stand-in for Business Central's API v2.0: the subset tandem uses (customers, vendors,
 * bank accounts, contacts, sales quotes and orders, purchase orders, $batch, webhook
 * subscriptions), its OAuth token endpoint, its published rate limit, and the kit's knobs.
 */
import { z } from 'zod';
import { addTokenEndpoint, BearerTokens } from '../../kit/sandbox/oauth';
import type { RateLimit, SandboxAnswer } from '../../kit/sandbox/rate-limits';
import { type NamedEdits, namedEdits } from '../../kit/sandbox/direct-edits';
import { createSandboxServer, SandboxClock, SandboxRefusal, sendAnswer } from '../../kit/sandbox/server';
import type { SandboxControls, SandboxOptions } from '../../kit/sandbox/server';
import type { WebhookDisorder } from '../../kit/sandbox/webhooks';
import { isCollectionName, singular, type CollectionName, type Row } from './collections';
import { startNotifier } from './notifier';
import {
  badRequest,
  ifMatchAccepts,
  notFound,
  ODATA_JSON,
  odataError,
  readCollection,
  refusal,
  selectRows,
} from './odata';
import type { BusinessCentralSandboxSeed } from './seed';
import { openStore, type EntitySet, type SandboxCollectionAccess } from './store';

/** The company every sandbox has unless told otherwise. */
export const SANDBOX_COMPANY_ID = '3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
/** The path of the API below the origin, as on api.businesscentral.dynamics.com. */
export const SANDBOX_API_PATH = '/v2.0/sandbox/production/api/v2.0';
/** The token endpoint's path, as on login.microsoftonline.com. */
export const SANDBOX_TOKEN_PATH = '/oauth2/v2.0/token';

const BATCH_LIMIT = 100;
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
  /** Delivery attempts per notification (default 3; retried after 20 ms, doubling; BC retries over 36 hours). */
  deliveryAttempts?: number;
}

/**
 * A running sandbox: besides `collection(name)`, createCustomer, updateCustomer, deleteCustomer,
 * getCustomer and listCustomers, and the same for vendors, bank accounts and contacts. Its
 * request log's paths are below the API base (`companies(...)/customers`), or `token`.
 */
export interface BusinessCentralSandbox
  extends SandboxControls, NamedEdits<'Customer' | 'Vendor' | 'BankAccount' | 'Contact', SandboxCollectionAccess> {
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
  /** Delivers notifications late (so out of order) and some twice; `{}` restores order. */
  disorderNotifications(disorder: WebhookDisorder): void;
  /** Every notification delivery attempt (status 0 = no answer). */
  readonly deliveries: ReadonlyArray<{ notificationUrl: string; status: number; items: number }>;
  subscriptions(): Array<Record<string, unknown>>;
  collection(name: CollectionName): SandboxCollectionAccess;
}

type Headers = Record<string, string | string[] | undefined>;

const jsonObject = z.record(z.string(), z.unknown());
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

const notAllowed = (message: string) => refusal(405, 'BadRequest_MethodNotAllowed', message);
const tooManyRequests = () =>
  odataError(429, 'Application_TooManyRequests', 'Too many requests reached.  Actual (6001).  Maximum (6000).');

/**
 * BC's limit: 6,000 calls per user (the app's service principal) in a sliding five minutes.
 * https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/administration/operational-limits-online
 */
export const BUSINESS_CENTRAL_RATE_LIMITS: Record<BusinessCentralRateLimitName, RateLimit> = {
  perUser: { limit: 6000, windowMs: 300_000, refuse: tooManyRequests },
};

/** The If-Match a PATCH or DELETE must carry, as BC demands it. */
function ifMatchOf(headers: Headers): string {
  const value = Object.entries(headers).find(([name]) => name.toLowerCase() === 'if-match')?.[1];
  const ifMatch = Array.isArray(value) ? value.join(', ') : value;
  if (ifMatch === undefined || ifMatch === '')
    throw badRequest(
      'Could not validate the client concurrency token required by the service. Please provide a valid token in the client request.',
    );
  return ifMatch;
}

function jsonBody(body: unknown): Record<string, unknown> {
  const parsed = jsonObject.safeParse(body);
  if (!parsed.success) throw badRequest('The request body must be a JSON object.');
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
  const tokens = new BearerTokens();
  let origin = '';

  const clock = new SandboxClock(options.clockOffsetMs);
  // Paging through a collection asks for the same filtered, ordered rows page after page: they
  // are selected once per query until the next change to any record or subscription (every one
  // goes through the store), since a 100,000-row list was quadratic.
  let changes = 0;
  const selected = new Map<string, { changes: number; rows: Row[] }>();
  const store = openStore(
    options.file,
    options.seed ?? {},
    (change) => {
      changes++;
      notifier.enqueue(change);
    },
    clock.now,
  );
  const selectOnce = (key: string, rows: () => Row[], query: URLSearchParams) => () => {
    const cached = selected.get(key);
    if (cached?.changes === changes) return cached.rows;
    const fresh = { changes, rows: selectRows(rows(), query) };
    if (selected.size >= 16) selected.clear();
    selected.set(key, fresh);
    return fresh.rows;
  };
  const notifier = startNotifier(store, {
    companyId,
    delayMs: options.notificationDelayMs ?? 50,
    collectionThreshold: options.collectionThreshold ?? 1000,
    deliveryAttempts: options.deliveryAttempts ?? 3,
  });
  // The company's documented properties (companies is a platform endpoint, not an APIV2 page).
  // https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/api/dynamics_company_get
  const startedAt = new Date(clock.now()).toISOString();
  const company = {
    id: companyId,
    systemVersion: '24.0',
    timestamp: 0,
    name: companyName,
    displayName: companyName,
    businessProfileId: '',
    systemCreatedAt: startedAt,
    systemCreatedBy: '00000000-0000-0000-0000-000000000001',
    systemModifiedAt: startedAt,
    systemModifiedBy: '00000000-0000-0000-0000-000000000001',
  };
  // The company can only be read.
  const readOnly = () => {
    throw notAllowed('Not allowed.');
  };
  const companies: EntitySet = {
    list: () => [company],
    get: (id) => (id.toLowerCase() === companyId ? company : undefined),
    create: readOnly,
    update: readOnly,
    delete: readOnly,
  };
  const tenantSets = new Map(Object.entries({ companies, subscriptions: notifier.subscriptions }));
  const pageSize = options.pageSize ?? 100;
  const api = () => `${origin}${SANDBOX_API_PATH}`;

  /** Answers one API request (also each request inside a $batch): the same routes for every entity set. */
  const dispatch = async (method: string, target: string, headers: Headers, body: unknown): Promise<SandboxAnswer> => {
    try {
      const [rawPath = '', rawQuery = ''] = target.split('?', 2);
      const query = new URLSearchParams(rawQuery);
      const path = decodeURIComponent(rawPath.replace(/^\/+/, ''));
      const unquote = (key: string | undefined) => key?.replace(/^'(.*)'$/, '$1');
      // companies, companies(<id>), subscriptions(<id>), companies(<id>)/customers(<id>), ...
      const match = /^(?:companies\(([^)]+)\)\/)?([A-Za-z]+)(?:\(([^)]+)\))?$/.exec(path);
      const [, inCompany, name = '', id] = (match ?? []).map(unquote);
      if (inCompany !== undefined && inCompany.toLowerCase() !== companyId)
        throw notFound(`The company '${inCompany}' does not exist.`);
      const set =
        inCompany === undefined
          ? tenantSets.get(name)
          : isCollectionName(name)
            ? store.collection(name, 'api')
            : undefined;
      if (set === undefined) throw notFound(`No HTTP resource was found that matches the request URI '${path}'.`);
      if (id === undefined) {
        if (method === 'GET') {
          const key = `${path}|${query.get('$filter') ?? ''}|${query.get('$orderby') ?? ''}`;
          return {
            status: 200,
            body: readCollection(
              selectOnce(key, () => set.list(), query),
              query,
              api(),
              path,
              pageSize,
            ),
          };
        }
        if (method === 'POST') return { status: 201, body: await set.create(jsonBody(body)) };
        throw notAllowed(`'${method}' requests for '${name}' of EdmType 'Collection' are not allowed.`);
      }
      const current = set.get(id);
      if (current === undefined)
        throw notFound(`The ${singular(name)} does not exist. Identification fields and values: Id='${id}'`);
      if (method === 'GET') return { status: 200, body: current };
      if (method !== 'PATCH' && method !== 'DELETE') throw notAllowed(`'${method}' is not allowed here.`);
      if (!ifMatchAccepts(ifMatchOf(headers), current['@odata.etag']))
        throw refusal(412, 'Request_EntityChanged', 'Another user has already changed the record.');
      if (method === 'PATCH') return { status: 200, body: await set.update(id, jsonBody(body)) };
      set.delete(id);
      return { status: 204 };
    } catch (error) {
      if (error instanceof SandboxRefusal) return error.answer;
      throw error;
    }
  };

  /** BC's JSON $batch: each request answered on its own, in order, none of them transactional. */
  const runBatch = async (rawBody: unknown): Promise<SandboxAnswer> => {
    const parsed = batchBodySchema.safeParse(rawBody);
    if (!parsed.success) throw badRequest('The $batch body must be JSON with a requests array.');
    if (parsed.data.requests.length > BATCH_LIMIT)
      throw badRequest(`The batch request exceeds the maximum of ${BATCH_LIMIT} operations.`);
    const responses = [];
    for (const inner of parsed.data.requests) {
      // Relative to the API base, or absolute.
      const url = new URL(inner.url, `${api()}/`);
      const target = `${url.pathname.replace(API_PREFIX, '')}${url.search}`;
      const answer = await dispatch(inner.method.toUpperCase(), target, inner.headers ?? {}, inner.body);
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

  const { app, listen } = createSandboxServer(
    {
      api: API_PREFIX,
      tokenPath: SANDBOX_TOKEN_PATH,
      authenticate: (request) => {
        if (tokens.accepts(request.headers.authorization)) return undefined;
        const answer = odataError(
          401,
          'Authentication_InvalidCredentials',
          'The server has rejected the client credentials.',
        );
        return { ...answer, headers: { ...answer.headers, 'www-authenticate': 'Bearer realm="sandbox"' } };
      },
      throttled: tooManyRequests,
      unavailable: () => odataError(503, 'Internal_ServiceUnavailable', 'The service is temporarily unavailable.'),
      failure: (status, message) =>
        odataError(
          status,
          status === 404 ? 'BadRequest_NotFound' : status < 500 ? 'BadRequest' : 'Internal_ServerError',
          message,
        ),
      rateLimits: BUSINESS_CENTRAL_RATE_LIMITS,
    },
    options,
    clock,
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
    const target = request.url.replace(API_PREFIX, '');
    const batch = target.split('?')[0] === '$batch';
    if (batch && request.method !== 'POST') throw notAllowed('Use POST for $batch.');
    const answer = batch
      ? await runBatch(request.body)
      : await dispatch(request.method, target, request.headers, request.body);
    // Every answer with a body is OData JSON.
    const headers = answer.body === undefined ? answer.headers : { 'content-type': ODATA_JSON, ...answer.headers };
    return sendAnswer(reply, { ...answer, headers });
  });

  const listening = await listen();
  origin = listening.origin;
  const { controls } = listening;
  return {
    ...controls,
    url: api(),
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
    disorderNotifications: (disorder) => notifier.disorder(disorder),
    subscriptions: () => notifier.subscriptions.list(),
    collection: (name) => store.collection(name),
    ...namedEdits('Customer', store.collection('customers')),
    ...namedEdits('Vendor', store.collection('vendors')),
    ...namedEdits('BankAccount', store.collection('bankAccounts')),
    ...namedEdits('Contact', store.collection('contacts')),
  };
}
