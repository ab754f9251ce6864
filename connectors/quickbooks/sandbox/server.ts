/**
 * A local stand-in for QuickBooks Online's Accounting API v3, on the sandbox kit: one company
 * (realm) with Customers, Vendors, Employees, Accounts, Estimates and PurchaseOrders; reads by id,
 * creates, sparse and full updates held to the SyncToken, the query language, change data capture,
 * the batch endpoint, signed webhooks, Intuit's OAuth2 token endpoint with rotating refresh tokens,
 * requestid replay, and the published limits. Errors are QBO's Faults with QBO's codes.
 * https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/customer
 */
import { type NamedEdits, namedEdits } from '../../kit/sandbox/direct-edits';
import { createHmac } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { addTokenEndpoint, BearerTokens } from '../../kit/sandbox/oauth';
import type { RateLimit, SandboxAnswer } from '../../kit/sandbox/rate-limits';
import { type ChangedBy, RecordStore, type StoredRecord } from '../../kit/sandbox/records';
import {
  createSandboxServer,
  SandboxClock,
  SandboxRefusal,
  replayedAnswer,
  sendAnswer,
  type SandboxControls,
  type SandboxOptions,
} from '../../kit/sandbox/server';
import { WebhookOutbox } from '../../kit/sandbox/webhooks';
import { parseQuery, QUERY_MAX_RESULTS, QuerySyntaxError, runQuery } from './query';

/** The API's path below the origin, as on quickbooks.api.intuit.com; the realm id follows. */
export const SANDBOX_API_PATH = '/v3/company';
/** Intuit's token endpoint path (oauth.platform.intuit.com). */
export const SANDBOX_TOKEN_PATH = '/oauth2/v1/tokens/bearer';

/** The entities the sandbox keeps. */
export const SANDBOX_ENTITIES = ['Customer', 'Vendor', 'Employee', 'Account', 'Estimate', 'PurchaseOrder'] as const;
export type SandboxEntity = (typeof SANDBOX_ENTITIES)[number];

/** Names (Customer, Vendor, Employee) share one DisplayName space in a company. */
const NAME_ENTITIES: readonly SandboxEntity[] = ['Customer', 'Vendor', 'Employee'];

/** The most items one batch request may carry: Intuit's limits page recommends at most 30. */
export const SANDBOX_BATCH_MAX = 30;
/** CDC looks back at most 30 days and answers at most 1,000 objects. */
const CDC_LOOKBACK_MS = 30 * 24 * 3600 * 1000;
const CDC_MAX_OBJECTS = 1000;

/** The limits the sandbox enforces, by name (see QBO_RATE_LIMITS). */
export type QboRateLimitName = 'minute' | 'second' | 'concurrent' | 'batch';

type QboObject = Record<string, unknown>;

/** One entity of a webhook notification. */
interface WebhookEntity {
  name: string;
  id: string;
  operation: string;
  lastUpdated: string;
  deletedId?: string;
}

/** A Fault answer: QBO puts its validation errors in a 400 (stale objects and unknown ids too). */
function fault(status: number, code: string, message: string, detail = message, element = ''): SandboxRefusal {
  return new SandboxRefusal({ status, body: faultBody(code, message, detail, element, status) });
}
function faultBody(code: string, message: string, detail: string, element = '', status = 400) {
  const type = status === 401 ? 'AUTHENTICATION' : status === 403 ? 'AuthorizationFault' : 'ValidationFault';
  return {
    Fault: { Error: [{ Message: message, Detail: detail, code, element }], type },
    time: new Date().toISOString(),
  };
}

const throttled = () => ({
  body: faultBody(
    '3001',
    'message=ThrottleExceeded; errorCode=003001; statusCode=429',
    'The request limit was reached.',
  ),
});

/**
 * QBO's limits per realm and app: 500 requests a minute, 10 a second, 10 in flight, and 40 batch
 * requests a minute; a 429 says ThrottleExceeded.
 * https://developer.intuit.com/app/developer/qbo/docs/learn/limits-and-throttles
 */
export const QBO_RATE_LIMITS: Record<QboRateLimitName, RateLimit> = {
  minute: { limit: 500, windowMs: 60_000, refuse: throttled },
  second: { limit: 10, windowMs: 1000, refuse: throttled },
  concurrent: { limit: 10, refuse: throttled },
  batch: { limit: 40, windowMs: 60_000, refuse: throttled, counts: ({ path }) => path.endsWith('/batch') },
};

/** How to start a sandbox; every option has a default. */
export interface QboSandboxOptions extends SandboxOptions<QboRateLimitName> {
  realmId?: string;
  clientId?: string;
  clientSecret?: string;
  /** The refresh token the first refresh must present. */
  refreshToken?: string;
  /** Where webhook notifications go, signed with `verifierToken`; none without it. */
  webhookUrl?: string;
  verifierToken?: string;
  /** How long changes collect before a notification is sent (default 200 ms). */
  webhookDelayMs?: number;
  /**
   * Checks every entity a client writes (create, update, batch item) and answers a violation the
   * way QBO answers an unknown property (2010); tests pass the checker of Intuit's schema.
   */
  checkEntity?: (entity: string, body: unknown) => string[];
  /** The company's time zone offset as QBO writes it in its times (default -08:00). */
  utcOffsetMinutes?: number;
  /**
   * An access token the sandbox always accepts, for a person's curls beside a running daemon
   * (whose refresh token a curl's own refresh would rotate away). Real QBO has no such token.
   */
  staticToken?: string;
}

/** A running sandbox. */
/** One entity's direct edits, as createCustomer, updateCustomer, getCustomer and listCustomers name them. */
interface EntityEdits {
  create(properties: QboObject): QboObject;
  update(id: string, properties: QboObject): QboObject;
  get(id: string): QboObject | undefined;
  list(): QboObject[];
}

/**
 * A running sandbox: `create(entity, ...)` and the like, and the same per entity under the names
 * the other sandboxes use (createCustomer, updateVendor, getAccount, listCustomers, ...).
 */
export interface QboSandbox
  extends
    SandboxControls,
    NamedEdits<'Customer', EntityEdits>,
    NamedEdits<'Vendor', EntityEdits>,
    NamedEdits<'Account', EntityEdits> {
  /** The API base without the realm: `<origin>/v3/company`. */
  readonly url: string;
  readonly tokenUrl: string;
  readonly realmId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The refresh token the next refresh must present (rotated on every refresh). */
  readonly refreshToken: string;
  /** Makes every issued access token invalid, as if it had expired. */
  revokeTokens(): void;
  /** Creates an entity as a user would in QuickBooks; returns it as the API shows it. */
  create(entity: SandboxEntity, properties: QboObject): QboObject;
  /** Changes an entity as a user would (a sparse change: the properties given). */
  update(entity: SandboxEntity, id: string, properties: QboObject): QboObject;
  get(entity: SandboxEntity, id: string): QboObject | undefined;
  list(entity: SandboxEntity): QboObject[];
  /**
   * Merges `from` into `into` as a user does in QuickBooks: `from` is removed (reads answer 610,
   * CDC reports it Deleted) and the webhook names `into` with operation Merge and deletedId `from`.
   */
  merge(entity: 'Customer' | 'Vendor', from: string, into: string): void;
  /** Sends pending webhook notifications now and waits for every delivery. */
  flushWebhooks(): Promise<void>;
}

const objectSchema = z.record(z.string(), z.unknown());
const READ_ONLY = ['Id', 'SyncToken', 'MetaData', 'domain', 'sparse', 'status', 'FullyQualifiedName', 'time'];
const PATHS: Record<string, SandboxEntity> = Object.fromEntries(
  SANDBOX_ENTITIES.map((entity) => [entity.toLowerCase(), entity]),
);

/** Starts a sandbox on a free port unless told otherwise. */
export async function startQuickBooksSandbox(options: QboSandboxOptions = {}): Promise<QboSandbox> {
  const realmId = options.realmId ?? '9130357992191236';
  const clientId = options.clientId ?? 'sandbox-client';
  const clientSecret = options.clientSecret ?? 'sandbox-secret';
  const offsetMs = (options.utcOffsetMinutes ?? -8 * 60) * 60_000;
  const tokens = new BearerTokens(options.staticToken);
  const clock = new SandboxClock(options.clockOffsetMs);
  const outbox = new WebhookOutbox<WebhookEntity>(
    (entities) => deliver(entities),
    () => options.webhookDelayMs ?? 200,
  );
  const store = new RecordStore({
    now: clock.now,
    collections: SANDBOX_ENTITIES,
    firstIds: { Customer: 58, Vendor: 31, Employee: 55, Account: 35, Estimate: 101, PurchaseOrder: 201 },
    fields: objectSchema,
    onChange: ({ collection, kind, record }) => {
      if (kind === 'deleted') tombstones.push({ entity: collection, id: record.id, at: record.updatedAt });
      if (collection === 'Employee' || (kind === 'deleted' && merging)) return;
      const operation = kind === 'created' ? 'Create' : kind === 'deleted' ? 'Delete' : 'Update';
      outbox.add([{ name: collection, id: record.id, operation, lastUpdated: qboTime(record.updatedAt) }]);
    },
  });
  const replays = new Map<string, SandboxAnswer>();
  /** Deleted records, which CDC reports with status Deleted. */
  const tombstones: { entity: SandboxEntity; id: string; at: number }[] = [];
  /** Set while a merge removes a record: its webhook says Merge, not Delete. */
  let merging = false;

  /** A time as QBO writes it: to the second, in the company's zone (2026-12-01T10:15:30-08:00). */
  function qboTime(ms: number): string {
    const local = new Date(Math.floor(ms / 1000) * 1000 + offsetMs).toISOString().slice(0, 19);
    const minutes = Math.abs(offsetMs / 60_000);
    const zone = `${offsetMs < 0 ? '-' : '+'}${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
    return `${local}${zone}`;
  }

  /** An entity as the API shows it. */
  function view(entity: SandboxEntity, { id, createdAt, updatedAt, fields }: StoredRecord<QboObject>): QboObject {
    return {
      ...fields,
      Id: id,
      SyncToken: textOf(fields.SyncToken, '0'),
      MetaData: { CreateTime: qboTime(createdAt), LastUpdatedTime: qboTime(updatedAt) },
      domain: 'QBO',
      sparse: false,
    };
  }

  const writable = (body: QboObject) =>
    Object.fromEntries(Object.entries(body).filter(([key]) => !READ_ONLY.includes(key)));

  /** QBO's business rules for one entity's fields after a write. */
  function validate(entity: SandboxEntity, fields: QboObject, id: string | null): void {
    if (NAME_ENTITIES.includes(entity)) {
      const name = fields.DisplayName;
      if (typeof name !== 'string' || name.trim() === '')
        throw fault(
          400,
          '2020',
          'Required param missing, need to supply the required value for the API',
          'Required parameter DisplayName is missing in the request',
          'DisplayName',
        );
      if (name.includes(':'))
        throw fault(400, '2170', 'Invalid Name', 'The name cannot contain a colon (:).', 'DisplayName');
      // One name space for customers, vendors and employees, inactive ones included, without case.
      const taken = NAME_ENTITIES.flatMap((other) => store.list(other).map((record) => ({ other, record }))).find(
        ({ other, record }) =>
          !(other === entity && record.id === id) &&
          textOf(record.fields.DisplayName).trim().toLowerCase() === name.trim().toLowerCase(),
      );
      if (taken !== undefined)
        throw fault(
          400,
          '6240',
          'Duplicate Name Exists Error',
          `The name supplied already exists. : Another customer, vendor or employee is already using this name. Please use a different name. Id=${taken.record.id} (${taken.other})`,
        );
    }
    if (entity === 'Account') {
      if (typeof fields.Name !== 'string' || fields.Name.trim() === '')
        throw fault(
          400,
          '2020',
          'Required param missing, need to supply the required value for the API',
          'Required parameter Name is missing in the request',
          'Name',
        );
      if (typeof fields.AccountType !== 'string')
        throw fault(
          400,
          '2020',
          'Required param missing, need to supply the required value for the API',
          'Required parameter AccountType is missing in the request',
          'AccountType',
        );
      if (store.list('Account').some((record) => record.id !== id && record.fields.Name === fields.Name))
        throw fault(
          400,
          '6240',
          'Duplicate Name Exists Error',
          'Another account is already using this name. Please use a different name.',
        );
    }
    if (entity === 'Estimate' || entity === 'PurchaseOrder') {
      const [refName, refEntity] = entity === 'Estimate' ? ['CustomerRef', 'Customer'] : ['VendorRef', 'Vendor'];
      const ref = objectSchema.safeParse(fields[refName]).data?.value;
      const party = typeof ref === 'string' ? store.get(refEntity as SandboxEntity, ref) : undefined;
      if (party === undefined || party.fields.Active === false)
        throw fault(
          400,
          '2500',
          'Invalid Reference Id',
          `Invalid Reference Id : ${refName} is missing or names no active ${refEntity}`,
          refName,
        );
      if (!Array.isArray(fields.Line) || fields.Line.length === 0)
        throw fault(
          400,
          '2020',
          'Required param missing, need to supply the required value for the API',
          'Required parameter Line is missing in the request',
          'Line',
        );
      const number = fields.DocNumber;
      if (
        typeof number === 'string' &&
        store.list(entity).some((record) => record.id !== id && record.fields.DocNumber === number)
      )
        throw fault(
          400,
          '6140',
          'Duplicate Document Number Error',
          'Duplicate Document Number Error : You must specify a different number. This number has already been used.',
        );
    }
  }

  /** Holds a client's entity to the schema check, as QBO refuses properties it does not know. */
  function checked(entity: SandboxEntity, body: unknown): QboObject {
    const violations = options.checkEntity?.(entity, body) ?? [];
    if (violations.length > 0)
      throw fault(400, '2010', 'Request has invalid or unsupported property', violations.slice(0, 5).join('; '));
    const parsed = objectSchema.safeParse(body);
    if (!parsed.success)
      throw fault(400, '2010', 'Request has invalid or unsupported property', `${entity} is not an object`);
    return parsed.data;
  }

  /** A create or an update (sparse or full) of one entity, by a client or a user. */
  function write(entity: SandboxEntity, body: QboObject, update: boolean, by: ChangedBy): QboObject {
    if (!update) {
      const fields: QboObject = {
        Active: NAME_ENTITIES.includes(entity) || entity === 'Account' ? true : undefined,
        ...writable(body),
        SyncToken: '0',
      };
      if (entity === 'Estimate') fields.TxnStatus ??= 'Pending';
      if (entity === 'PurchaseOrder') fields.POStatus ??= 'Open';
      if (entity === 'Estimate' || entity === 'PurchaseOrder') fields.TxnDate ??= qboTime(clock.now()).slice(0, 10);
      validate(entity, fields, null);
      return view(entity, store.create(entity, withoutUndefined(fields), by));
    }
    const { Id: id, SyncToken: token } = body;
    if (typeof id !== 'string' || typeof token !== 'string')
      throw fault(
        400,
        '2020',
        'Required param missing, need to supply the required value for the API',
        'Required parameter Id and SyncToken are missing in the request',
        typeof id === 'string' ? 'SyncToken' : 'Id',
      );
    const existing = store.get(entity, id);
    if (existing === undefined)
      throw fault(
        400,
        '610',
        'Object Not Found',
        `Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts. Id=${id}`,
      );
    const current = textOf(existing.fields.SyncToken, '0');
    if (token !== current)
      throw fault(
        400,
        '5010',
        'Stale Object Error',
        `Stale Object Error : You and ${by === 'user' ? 'you' : 'another user'} were working on this at the same time. ${by === 'user' ? '' : 'The other user'} finished before you did, so your work was not saved. SyncToken ${token} is not the current ${current}`,
      );
    // A sparse update changes the properties it names (each replaced whole); a full one replaces them all.
    const base = body.sparse === true ? existing.fields : { Active: existing.fields.Active };
    const fields = { ...base, ...writable(body), SyncToken: String(Number(current) + 1) };
    validate(entity, fields, id);
    return view(entity, store.update(entity, existing, fields, by));
  }

  function query(text: string): QboObject {
    let parsed;
    try {
      parsed = parseQuery(text);
    } catch (error) {
      if (!(error instanceof QuerySyntaxError)) throw error;
      throw fault(400, '4000', 'Error parsing query', `QueryParserError: ${error.message}`);
    }
    const entity = SANDBOX_ENTITIES.find((name) => name.toLowerCase() === parsed.entity.toLowerCase());
    if (entity === undefined)
      throw fault(400, '4001', 'Invalid query', `QueryValidationError: ${parsed.entity} is not an entity`);
    const found = runQuery(
      parsed,
      store.list(entity).map((record) => view(entity, record)),
    );
    return {
      QueryResponse:
        found.length === 0 ? {} : { [entity]: found, startPosition: parsed.startPosition, maxResults: found.length },
      time: new Date(clock.now()).toISOString(),
    };
  }

  const { app, listen } = createSandboxServer(
    {
      api: /^\/v3\/company\/[^/]+(?=\/|$)/,
      tokenPath: SANDBOX_TOKEN_PATH,
      authenticate: (request) => {
        if (!tokens.accepts(request.headers.authorization))
          return {
            status: 401,
            body: faultBody(
              '3200',
              'message=AuthenticationFailed; errorCode=003200; statusCode=401',
              'Token expired or invalid',
              '',
              401,
            ),
          };
        const realm = /^\/v3\/company\/([^/?]+)/.exec(request.url)?.[1];
        return realm === realmId
          ? undefined
          : {
              status: 403,
              body: faultBody(
                '3100',
                'message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403',
                `The app is not connected to company ${realm ?? ''}`,
                '',
                403,
              ),
            };
      },
      throttled,
      unavailable: () => ({
        status: 503,
        body: faultBody(
          '10000',
          'An application error has occurred while processing your request',
          'System Failure Error: Service unavailable',
          '',
          503,
        ),
      }),
      failure: (status, message) => ({
        status,
        body: faultBody(
          status === 404 ? '404' : '2010',
          status === 404 ? 'Unsupported Operation' : 'Request has invalid or unsupported property',
          message,
          '',
          status,
        ),
      }),
      rateLimits: QBO_RATE_LIMITS,
    },
    options,
    clock,
  );
  const token = addTokenEndpoint(app, tokens, {
    path: SANDBOX_TOKEN_PATH,
    clientId,
    clientSecret,
    grant: 'refresh_token',
    ttlSeconds: 3600,
    refreshToken: options.refreshToken ?? 'sandbox-refresh-0',
    // Intuit's refresh tokens live 100 days; every refresh answers the one to use next.
    extra: { x_refresh_token_expires_in: 8_726_400 },
  });

  const querySchema = z.record(z.string(), z.string());
  /** Adds an API route below the realm; a repeated requestid gets the first answer again. */
  function api(method: 'GET' | 'POST', path: string, handler: (request: FastifyRequest) => QboObject): void {
    app.route({
      method,
      url: `${SANDBOX_API_PATH}/:realm${path}`,
      handler: (request, reply) => {
        const requestId = querySchema.parse(request.query).requestid;
        const replayKey =
          requestId === undefined ? undefined : `${method} ${request.url.split('?')[0] ?? ''} ${requestId}`;
        return sendAnswer(
          reply,
          replayedAnswer(replays, replayKey, () => handler(request)),
        );
      },
    });
  }
  const entityOf = (request: FastifyRequest): SandboxEntity => {
    const name = z.object({ entity: z.string() }).parse(request.params).entity;
    const entity = PATHS[name];
    if (entity === undefined || entity === 'Employee')
      throw fault(400, '4001', 'Unsupported Operation', `Operation ${name} is not supported by the sandbox`);
    return entity;
  };
  const stamp = () => new Date(clock.now()).toISOString();

  api('GET', '/query', (request) => query(querySchema.parse(request.query).query ?? ''));

  api('GET', '/cdc', (request) => {
    const { entities, changedSince } = querySchema.parse(request.query);
    if (!entities)
      throw fault(
        400,
        '2020',
        'Required param missing, need to supply the required value for the API',
        'Entities is required.',
      );
    const since = Date.parse(changedSince ?? '');
    if (Number.isNaN(since))
      throw fault(
        400,
        '2020',
        'Required param missing, need to supply the required value for the API',
        'changedSince is required.',
      );
    if (clock.now() - since > CDC_LOOKBACK_MS)
      throw fault(400, '4001', 'Invalid query', 'QueryValidationError: changedSince must be within the last 30 days');
    const lists = entities.split(',').map((name) => {
      const entity = SANDBOX_ENTITIES.find((candidate) => candidate.toLowerCase() === name.trim().toLowerCase());
      if (entity === undefined)
        throw fault(400, '4001', 'Invalid query', `QueryValidationError: ${name} is not an entity`);
      // Times are to the second: a change in the second of changedSince counts.
      const inWindow = (at: number) => Math.floor(at / 1000) * 1000 >= Math.floor(since / 1000) * 1000;
      const deleted = tombstones
        .filter((tombstone) => tombstone.entity === entity && inWindow(tombstone.at))
        .map(({ id, at }) => ({ Id: id, status: 'Deleted', MetaData: { LastUpdatedTime: qboTime(at) } }));
      const changed = [
        ...store
          .changedSince(entity)
          .filter((record) => inWindow(record.updatedAt))
          .map((record) => view(entity, record)),
        ...deleted,
      ].slice(0, CDC_MAX_OBJECTS);
      return changed.length === 0 ? {} : { [entity]: changed, startPosition: 1, maxResults: changed.length };
    });
    return { CDCResponse: [{ QueryResponse: lists }], time: stamp() };
  });

  api('GET', '/:entity/:id', (request) => {
    const entity = entityOf(request);
    const id = z.object({ id: z.string() }).parse(request.params).id;
    const record = store.get(entity, id);
    if (record === undefined)
      throw fault(
        400,
        '610',
        'Object Not Found',
        `Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts. Id=${id}`,
      );
    return { [entity]: view(entity, record), time: stamp() };
  });

  api('POST', '/batch', (request) => {
    const items = z.object({ BatchItemRequest: z.array(objectSchema) }).safeParse(request.body);
    if (!items.success)
      throw fault(400, '2010', 'Request has invalid or unsupported property', 'BatchItemRequest is missing');
    if (items.data.BatchItemRequest.length > SANDBOX_BATCH_MAX)
      throw fault(
        400,
        '2010',
        'Request has invalid or unsupported property',
        `A batch carries at most ${SANDBOX_BATCH_MAX} items, not ${items.data.BatchItemRequest.length}`,
      );
    // Items run one after another; one failing fails only itself.
    const answers = items.data.BatchItemRequest.map((item) => {
      const bId = textOf(item.bId);
      try {
        if (typeof item.Query === 'string') return { bId, ...query(item.Query), time: undefined };
        const entity = SANDBOX_ENTITIES.find((name) => name in item && name !== 'Employee');
        if (entity === undefined)
          throw fault(400, '2010', 'Request has invalid or unsupported property', 'the item names no entity');
        const operation = item.operation ?? 'create';
        if (operation !== 'create' && operation !== 'update')
          throw fault(
            400,
            '2010',
            'Request has invalid or unsupported property',
            `operation ${textOf(operation)} is not supported by the sandbox`,
          );
        return { bId, [entity]: write(entity, checked(entity, item[entity]), operation === 'update', 'api') };
      } catch (error) {
        if (!(error instanceof SandboxRefusal)) throw error;
        return { bId, Fault: objectSchema.parse(error.answer.body).Fault };
      }
    });
    return { BatchItemResponse: answers.map((answer) => withoutUndefined(answer)), time: stamp() };
  });

  api('POST', '/:entity', (request) => {
    const entity = entityOf(request);
    const { operation } = querySchema.parse(request.query);
    if (operation !== undefined && operation !== 'update')
      throw fault(
        400,
        '2010',
        'Request has invalid or unsupported property',
        `operation=${operation} is not supported by the sandbox`,
      );
    return { [entity]: write(entity, checked(entity, request.body), operation === 'update', 'api'), time: stamp() };
  });

  /** One notification per batch of changes: QBO's legacy payload, signed with the verifier token. */
  function deliver(entities: WebhookEntity[]): void {
    const { webhookUrl, verifierToken } = options;
    if (webhookUrl === undefined || verifierToken === undefined) return;
    const body = JSON.stringify({ eventNotifications: [{ realmId, dataChangeEvent: { entities } }] });
    const signature = createHmac('sha256', verifierToken).update(body).digest('base64');
    void outbox.deliver({
      url: webhookUrl,
      call: () => ({ headers: { 'content-type': 'application/json', 'intuit-signature': signature }, body }),
      // Intuit retries a failed delivery a few times, later each time (20, 30 and 50 minutes; here seconds).
      retryDelaysMs: [1000, 2000, 4000],
    });
  }

  const { origin, controls } = await listen();
  /** An edit as a user makes it in QuickBooks; a refusal is thrown as an Error. */
  const direct = <T>(edit: () => T): T => {
    try {
      return edit();
    } catch (error) {
      throw error instanceof SandboxRefusal ? new Error(`quickbooks sandbox: ${error.message}`) : error;
    }
  };
  const update = (entity: SandboxEntity, id: string, properties: QboObject) =>
    direct(() => {
      const current = store.get(entity, id);
      const syncToken = textOf(current?.fields.SyncToken, '0');
      return write(entity, { ...properties, Id: id, SyncToken: syncToken, sparse: true }, true, 'user');
    });
  const get = (entity: SandboxEntity, id: string) => {
    const record = store.get(entity, id);
    return record && view(entity, record);
  };
  const edits = (entity: SandboxEntity): EntityEdits => ({
    create: (properties) => direct(() => write(entity, properties, false, 'user')),
    update: (id, properties) => update(entity, id, properties),
    get: (id) => get(entity, id),
    list: () => store.list(entity).map((record) => view(entity, record)),
  });
  return {
    ...controls,
    ...namedEdits('Customer', edits('Customer')),
    ...namedEdits('Vendor', edits('Vendor')),
    ...namedEdits('Account', edits('Account')),
    url: `${origin}${SANDBOX_API_PATH}`,
    tokenUrl: `${origin}${SANDBOX_TOKEN_PATH}`,
    realmId,
    clientId,
    clientSecret,
    get refreshToken() {
      return token.refreshToken;
    },
    revokeTokens: () => tokens.revoke(),
    create: (entity, properties) => edits(entity).create(properties),
    update,
    get,
    list: (entity) => edits(entity).list(),
    merge: (entity, from, into) => {
      const survivor = store.get(entity, into);
      if (survivor === undefined || store.get(entity, from) === undefined)
        throw new Error(`quickbooks sandbox: no ${entity} ${from} or ${into} to merge`);
      merging = true;
      try {
        store.delete(entity, from, 'user');
      } finally {
        merging = false;
      }
      const merged = store.update(
        entity,
        survivor,
        { ...survivor.fields, SyncToken: String(Number(textOf(survivor.fields.SyncToken, '0')) + 1) },
        'user',
      );
      outbox.add([
        { name: entity, id: into, operation: 'Merge', deletedId: from, lastUpdated: qboTime(merged.updatedAt) },
      ]);
    },
    flushWebhooks: () => outbox.flush(),
    close: async () => {
      await outbox.close();
      await controls.close();
    },
  };
}

/** A stored scalar as text ('' or the fallback for anything else). */
function textOf(value: unknown, fallback = ''): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : fallback;
}

function withoutUndefined(values: QboObject): QboObject {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
}

/** The most a query returns, as QBO documents it. */
export { QUERY_MAX_RESULTS };
