/**
 * A local stand-in for the Dataverse Web API of Dynamics 365 Sales: the subset tandem uses
 * (accounts and contacts by id, create, update with If-Match, change tracking with delta links and
 * `$deletedEntity` rows, contains() filters for search), the Azure AD token endpoint (client
 * credentials), Dataverse's service protection limits, and the kit's knobs.
 * https://learn.microsoft.com/power-apps/developer/data-platform/webapi/overview
 */
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type NamedEdits, namedEdits } from '../../kit/sandbox/direct-edits';
import { addTokenEndpoint, BearerTokens } from '../../kit/sandbox/oauth';
import type { RateLimit, SandboxAnswer } from '../../kit/sandbox/rate-limits';
import { RecordStore, type StoredRecord } from '../../kit/sandbox/records';
import {
  createSandboxServer,
  SandboxClock,
  type SandboxControls,
  type SandboxOptions,
  SandboxRefusal,
} from '../../kit/sandbox/server';
import { BATCH_MAX_REQUESTS, boundaryOf, splitMessages } from '../batch';
import { API_PATH, type DataverseTable, PARENT_ACCOUNT_BIND, PARENT_VALUE, TABLES } from '../fields';

/** The token endpoint's path, as on login.microsoftonline.com/<tenant>. */
export const SANDBOX_TOKEN_PATH = '/oauth2/v2.0/token';
/** The scope a client asks Azure AD for: the environment's URL and `/.default`. */
const API_PREFIX = /^\/api\/data\/v9\.2(?:\/|$)/;

/** The limits the sandbox enforces (see DATAVERSE_RATE_LIMITS). */
export type DataverseRateLimitName = 'requests' | 'concurrent';

/** A row's columns as the sandbox keeps them (id, times and etag are the store's). */
export type SandboxRow = Record<string, string | number | boolean | null>;
type Collection = 'accounts' | 'contacts';

/** A Dataverse error answer: `{ error: { code, message } }`, code in Dataverse's hex form. */
export function dataverseError(status: number, code: string, message: string): SandboxAnswer {
  return {
    status,
    headers: { 'content-type': 'application/json; odata.metadata=minimal' },
    body: { error: { code, message } },
  };
}
const refuse = (status: number, code: string, message: string) =>
  new SandboxRefusal(dataverseError(status, code, message));

/**
 * Dataverse's service protection limits, per user and web server over a sliding five minutes:
 * 6,000 requests, and 52 concurrent requests (the third, 20 minutes of execution time, has no
 * equivalent in a sandbox whose calls take no time). The 429 carries Retry-After.
 * https://learn.microsoft.com/power-apps/developer/data-platform/api-limits
 */
export const DATAVERSE_RATE_LIMITS: Record<DataverseRateLimitName, RateLimit> = {
  requests: {
    limit: 6000,
    windowMs: 300_000,
    refuse: () => {
      const { headers, body } = dataverseError(
        429,
        '0x80072322',
        'Number of requests exceeded the limit of 6000 over time window of 300 seconds.',
      );
      return { headers: headers ?? {}, body };
    },
  },
  concurrent: {
    limit: 52,
    refuse: () => {
      const { headers, body } = dataverseError(
        429,
        '0x80072326',
        'Number of concurrent requests exceeded the limit of 52.',
      );
      return { headers: headers ?? {}, body };
    },
  },
};

/**
 * The columns the sandbox takes on create and update, per table: the ones tandem's mappings name,
 * all valid for both operations on Microsoft's table pages. Dataverse knows many more; a column
 * outside this list is refused as Dataverse refuses a property it does not know.
 */
export const SANDBOX_COLUMNS: Record<DataverseTable, readonly string[]> = {
  account: [
    'name',
    'accountnumber',
    'address1_line1',
    'address1_line2',
    'address1_postalcode',
    'address1_city',
    'address1_stateorprovince',
    'address1_country',
    'telephone1',
    'fax',
    'emailaddress1',
    'websiteurl',
  ],
  contact: [
    'firstname',
    'lastname',
    'jobtitle',
    'address1_line1',
    'address1_line2',
    'address1_postalcode',
    'address1_city',
    'address1_stateorprovince',
    'address1_country',
    'telephone1',
    'mobilephone',
    'fax',
    'emailaddress1',
    'websiteurl',
  ],
};

/** How to start a sandbox; every option has a default. */
export interface DynamicsSandboxOptions extends SandboxOptions<DataverseRateLimitName> {
  clientId?: string;
  clientSecret?: string;
  tokenTtlSeconds?: number;
  /** JSON file to load at start and save after every write. */
  file?: string;
}

/** The direct edits of one table, as a user would make them in Dynamics itself. */
export interface SandboxTableEdits {
  create(columns: SandboxRow): Record<string, unknown>;
  update(id: string, columns: SandboxRow): Record<string, unknown>;
  delete(id: string): boolean;
  get(id: string): Record<string, unknown> | undefined;
  list(): Record<string, unknown>[];
}

/**
 * A running sandbox: createAccount, updateAccount, deleteAccount, getAccount and listAccounts,
 * the same for contacts (a contact's `parentcustomerid` column is the account's id), and the kit's
 * controls. Request log paths are below /api/data/v9.2 (`accounts(<id>)`), or `token`.
 */
export interface DynamicsSandbox extends SandboxControls, NamedEdits<'Account' | 'Contact', SandboxTableEdits> {
  /** The environment URL (what the connector's baseUrl is): the origin. */
  readonly url: string;
  /** The token URL for the tenant `sandbox-tenant`. */
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Makes every issued token invalid, as if it had expired. */
  revokeTokens(): void;
}

const jsonObject = z.record(z.string(), z.unknown());
const columnValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TABLE_OF: Record<Collection, DataverseTable> = { accounts: 'account', contacts: 'contact' };

type Headers = FastifyRequest['headers'];
const header = (headers: Headers, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
};

/** Starts a sandbox and resolves once it listens. */
export async function startDynamicsSandbox(options: DynamicsSandboxOptions = {}): Promise<DynamicsSandbox> {
  const clientId = options.clientId ?? 'sandbox-client';
  const clientSecret = options.clientSecret ?? 'sandbox-secret';
  const tokens = new BearerTokens();
  const clock = new SandboxClock(options.clockOffsetMs);
  /** Rows deleted, for delta queries: Dataverse keeps them as long as its change tracking retention. */
  const tombstones: { collection: Collection; id: string; at: number }[] = [];
  const store = new RecordStore<Collection, SandboxRow>({
    collections: ['accounts', 'contacts'],
    fields: z.record(z.string(), columnValue),
    distinctTimes: true,
    now: clock.now,
    ...(options.file !== undefined && { file: options.file }),
    onChange: (change) => {
      if (change.kind === 'deleted')
        tombstones.push({ collection: change.collection, id: change.record.id, at: change.record.updatedAt });
    },
  });

  let origin = '';
  /** A row as the Web API answers it: the id, modifiedon, the etag, the parent lookup as `_parentcustomerid_value`. */
  const answerOf = (collection: Collection, record: StoredRecord<SandboxRow>, annotations = false) => {
    const table = TABLE_OF[collection];
    const { [PARENT_VALUE]: parent, ...columns } = record.fields;
    const lookup =
      table === 'contact'
        ? {
            [PARENT_VALUE]: parent ?? null,
            ...(annotations &&
              parent !== undefined &&
              parent !== null && { [`${PARENT_VALUE}@Microsoft.Dynamics.CRM.lookuplogicalname`]: 'account' }),
          }
        : {};
    const fullname =
      table === 'contact'
        ? {
            fullname: [columns.firstname, columns.lastname]
              .filter((part) => part !== null && part !== undefined && part !== '')
              .join(' '),
          }
        : {};
    return {
      '@odata.etag': `W/"${record.updatedAt}"`,
      [TABLES[table].idColumn]: record.id,
      ...columns,
      ...fullname,
      ...lookup,
      modifiedon: new Date(record.updatedAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      versionnumber: record.updatedAt,
    };
  };
  /** `$select` applied: the etag, the id and the selected columns only. */
  const selected = (row: Record<string, unknown>, select: string | undefined, table: DataverseTable) => {
    if (select === undefined) return row;
    const keep = new Set([...select.split(','), TABLES[table].idColumn]);
    return Object.fromEntries(
      Object.entries(row).filter(([key]) => key.startsWith('@') || keep.has(key.split('@')[0] ?? key)),
    );
  };

  /** The columns of a POST or PATCH body, checked as Dataverse checks them; the parent bind becomes the lookup. */
  const columnsOf = (collection: Collection, body: unknown): SandboxRow => {
    const parsed = jsonObject.safeParse(body);
    if (!parsed.success) throw refuse(400, '0x80040333', 'The request body must be a JSON object.');
    const table = TABLE_OF[collection];
    const columns: SandboxRow = {};
    for (const [key, value] of Object.entries(parsed.data)) {
      if (key.startsWith('@')) continue;
      if (table === 'contact' && key === PARENT_ACCOUNT_BIND) {
        const id = /^\/?accounts\(([^)]+)\)$/.exec(typeof value === 'string' ? value : '')?.[1]?.toLowerCase();
        if (id === undefined || store.get('accounts', id) === undefined)
          throw refuse(400, '0x80040217', `account With Id = ${String(value)} Does Not Exist`);
        columns[PARENT_VALUE] = id;
        continue;
      }
      if (!SANDBOX_COLUMNS[table].includes(key))
        throw refuse(
          400,
          '0x80060888',
          `Could not find a property named '${key}' on type 'Microsoft.Dynamics.CRM.${table}'.`,
        );
      const scalar = columnValue.safeParse(value);
      if (!scalar.success) throw refuse(400, '0x80040333', `The value of '${key}' is not a primitive.`);
      columns[key] = scalar.data;
    }
    return columns;
  };
  const rowOr404 = (collection: Collection, id: string) => {
    const record = GUID.test(id) ? store.get(collection, id.toLowerCase()) : undefined;
    if (record === undefined) throw refuse(404, '0x80040217', `${TABLE_OF[collection]} With Id = ${id} Does Not Exist`);
    return record;
  };

  /** Rows matching a `$filter` of `contains(column,'text')` terms joined by `or` (what search sends). */
  const matches = (filter: string | undefined) => {
    if (filter === undefined) return () => true;
    const terms = filter.split(/\s+or\s+/).map((term) => {
      const match = /^contains\((\w+),'((?:[^']|'')*)'\)$/.exec(term.trim());
      if (match?.[1] === undefined || match[2] === undefined)
        throw refuse(400, '0x80060888', `The sandbox understands only contains() terms joined by or: ${term}`);
      return { column: match[1], text: match[2].replaceAll("''", "'").toLowerCase() };
    });
    return (row: Record<string, unknown>) =>
      terms.some(({ column, text }) => {
        const value = row[column];
        return typeof value === 'string' && value.toLowerCase().includes(text);
      });
  };

  const { app, listen } = createSandboxServer(
    {
      api: API_PREFIX,
      tokenPath: SANDBOX_TOKEN_PATH,
      authenticate: (request) =>
        tokens.accepts(request.headers.authorization)
          ? undefined
          : {
              ...dataverseError(401, '0x80072560', 'The user is not a member of the organization.'),
              headers: {
                'www-authenticate':
                  'Bearer authorization_uri=https://login.microsoftonline.com/sandbox-tenant/oauth2/authorize',
              },
            },
      throttled: () => DATAVERSE_RATE_LIMITS.requests.refuse(1),
      unavailable: () => dataverseError(503, '0x80044151', 'The service is temporarily unavailable.'),
      failure: (status, message) => dataverseError(status, status === 404 ? '0x80060888' : '0x80040216', message),
      rateLimits: DATAVERSE_RATE_LIMITS,
    },
    options,
    clock,
  );
  addTokenEndpoint(app, tokens, {
    path: SANDBOX_TOKEN_PATH,
    clientId,
    clientSecret,
    grant: 'client_credentials',
    ttlSeconds: options.tokenTtlSeconds ?? 3599,
    extra: { ext_expires_in: options.tokenTtlSeconds ?? 3599 },
    descriptions: { invalid_client: 'AADSTS7000215: Invalid client secret provided.' },
  });

  const collectionOf = (name: string): Collection => {
    if (name === 'accounts' || name === 'contacts') return name;
    throw refuse(404, '0x80060888', `Resource not found for the segment '${name}'.`);
  };

  const keyOf = (segment: string): { collection: Collection; id: string | undefined } => {
    const match = /^(\w+)(?:\(([^)]*)\))?$/.exec(segment);
    if (match?.[1] === undefined) throw refuse(404, '0x80060888', `Resource not found for the segment '${segment}'.`);
    return { collection: collectionOf(match[1]), id: match[2] };
  };

  /** A collection: a delta query (Prefer: odata.track-changes, or a delta link's $deltatoken), or a filtered read. */
  const readCollection = (collection: Collection, query: Record<string, string | undefined>, prefer: string) => {
    const table = TABLE_OF[collection];
    const annotations = prefer.includes('odata.include-annotations');
    const token = query.$deltatoken;
    const tracking = token !== undefined || prefer.includes('odata.track-changes');
    // https://learn.microsoft.com/power-apps/developer/data-platform/use-change-tracking-synchronize-data-external-systems
    if (tracking && (query.$filter !== undefined || query.$orderby !== undefined || query.$top !== undefined))
      throw refuse(400, '0x80060888', 'Change tracking does not support $filter, $orderby, $expand or $top.');
    const since = token === undefined ? undefined : Number(token.split('!')[0]);
    if (since !== undefined && Number.isNaN(since)) throw refuse(400, '0x80048216', 'The delta token is not valid.');
    const rows = store
      .list(collection)
      .filter((record) => since === undefined || record.updatedAt > since)
      .sort((a, b) => a.updatedAt - b.updatedAt)
      .map((record) => answerOf(collection, record, annotations))
      .filter(matches(query.$filter))
      .map((row) => selected(row, query.$select, table));
    const context = `${origin}${API_PATH}/$metadata#${collection}`;
    if (!tracking) {
      const top = query.$top === undefined ? rows.length : Number(query.$top);
      return { '@odata.context': context, value: rows.slice(0, top) };
    }
    const deleted =
      since === undefined
        ? []
        : tombstones
            .filter((tombstone) => tombstone.collection === collection && tombstone.at > since)
            .map((tombstone) => ({
              '@odata.context': `${context}/$deletedEntity`,
              id: tombstone.id,
              reason: 'deleted',
            }));
    const newest = Math.max(
      since ?? 0,
      ...store.list(collection).map((record) => record.updatedAt),
      ...tombstones.map((t) => t.at),
    );
    // As Dataverse writes it: `$select=...&$deltatoken=<version>!<time>`, the values encoded.
    const link = [
      ...(query.$select === undefined ? [] : [`$select=${encodeURIComponent(query.$select)}`]),
      `$deltatoken=${encodeURIComponent(`${newest}!sandbox`)}`,
    ].join('&');
    return {
      '@odata.context': `${context}/$delta`,
      '@odata.deltaLink': `${origin}${API_PATH}/${collection}?${link}`,
      value: [...rows, ...deleted],
    };
  };

  type Route = { Params: { segment: string }; Querystring: Record<string, string | undefined> };
  app.get<Route>(`${API_PATH}/:segment`, async (request, reply) => {
    const { collection, id } = keyOf(request.params.segment);
    const prefer = header(request.headers, 'prefer') ?? '';
    if (id === undefined) return reply.send(readCollection(collection, request.query, prefer));
    const record = rowOr404(collection, id);
    const row = answerOf(collection, record, prefer.includes('odata.include-annotations'));
    return reply.send({
      '@odata.context': `${origin}${API_PATH}/$metadata#${collection}/$entity`,
      ...selected(row, request.query.$select, TABLE_OF[collection]),
    });
  });

  // Create: 204 with OData-EntityId, or 201 and the row with Prefer: return=representation.
  app.post<Route>(`${API_PATH}/:segment`, async (request, reply) => {
    const { collection, id } = keyOf(request.params.segment);
    if (id !== undefined) throw refuse(405, '0x80060888', 'POST is not allowed on a single row.');
    // The primary id column is valid for create: a client may choose the row's GUID.
    const idColumn = TABLES[TABLE_OF[collection]].idColumn;
    const { [idColumn]: chosen, ...body } = jsonObject.safeParse(request.body).data ?? {};
    if (chosen !== undefined && (typeof chosen !== 'string' || !GUID.test(chosen)))
      throw refuse(400, '0x80040203', `The value of '${idColumn}' is not a GUID.`);
    const rowId = typeof chosen === 'string' ? chosen.toLowerCase() : randomUUID();
    if (store.get(collection, rowId) !== undefined)
      throw refuse(412, '0x80040237', 'A record with matching key values already exists.');
    const record = store.create(collection, columnsOf(collection, body), 'api', rowId);
    const entityId = `${origin}${API_PATH}/${collection}(${record.id})`;
    if ((header(request.headers, 'prefer') ?? '').includes('return=representation'))
      return reply.code(201).header('odata-entityid', entityId).send(answerOf(collection, record));
    return reply.code(204).header('odata-entityid', entityId).send();
  });

  // Update: If-Match with the row's etag (412 when it moved); PATCH without If-Match: * would upsert, which tandem never asks.
  app.patch<Route>(`${API_PATH}/:segment`, async (request, reply) => {
    const { collection, id } = keyOf(request.params.segment);
    if (id === undefined) throw refuse(405, '0x80060888', 'PATCH needs a row.');
    const ifMatch = header(request.headers, 'if-match');
    const record = rowOr404(collection, id);
    if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== `W/"${record.updatedAt}"`)
      throw refuse(
        412,
        '0x80060882',
        "The version of the existing record doesn't match the RowVersion property provided.",
      );
    const columns = columnsOf(collection, request.body);
    const updated = store.update(collection, record, { ...record.fields, ...columns }, 'api');
    if ((header(request.headers, 'prefer') ?? '').includes('return=representation'))
      return reply.code(200).send(answerOf(collection, updated));
    return reply.code(204).header('odata-entityid', `${origin}${API_PATH}/${collection}(${updated.id})`).send();
  });

  app.delete<Route>(`${API_PATH}/:segment`, async (request, reply) => {
    const { collection, id } = keyOf(request.params.segment);
    if (id === undefined) throw refuse(405, '0x80060888', 'DELETE needs a row.');
    rowOr404(collection, id);
    store.delete(collection, id.toLowerCase(), 'api');
    return reply.code(204).send();
  });

  // $batch: each application/http part is carried out in order as its own call (so it is logged,
  // authenticated and limited as one); without Prefer: odata.continue-on-error the batch stops at
  // the first failure, as Dataverse's does.
  app.addContentTypeParser('multipart/mixed', { parseAs: 'string' }, (_request, body, done) => {
    done(null, String(body));
  });
  app.post(`${API_PATH}/$batch`, async (request, reply) => {
    const boundary = boundaryOf(header(request.headers, 'content-type'));
    if (boundary === undefined || typeof request.body !== 'string')
      throw refuse(400, '0x80048d19', 'A $batch request needs a multipart/mixed body with a boundary.');
    const parts = splitMessages(boundary, request.body);
    if (parts.length > BATCH_MAX_REQUESTS)
      throw refuse(400, '0x8004800d', `The number of requests in a batch exceeds ${BATCH_MAX_REQUESTS}.`);
    const continueOnError = (header(request.headers, 'prefer') ?? '').includes('odata.continue-on-error');
    const answers: string[] = [];
    const outer = `batchresponse_${randomUUID()}`;
    for (const part of parts) {
      const [method = 'GET', target = ''] = part.start.split(' ');
      if (part.headers['content-type']?.startsWith('multipart/mixed') === true)
        throw refuse(400, '0x80048d19', 'The sandbox does not take change sets.');
      const url = target.startsWith('http') ? new URL(target).pathname + new URL(target).search : target;
      const authorization = header(request.headers, 'authorization');
      // Carried out as a call of its own to this server (light-my-request's inject does not load under jest).
      const answer = await fetch(`${origin}${url}`, {
        method,
        headers: { ...part.headers, ...(authorization !== undefined && { authorization }) },
        ...(part.body !== '' && { body: part.body }),
      });
      const text = await answer.text();
      answers.push(
        [
          `--${outer}`,
          'Content-Type: application/http',
          'Content-Transfer-Encoding: binary',
          '',
          `HTTP/1.1 ${answer.status} ${answer.statusText}`,
          ...[...answer.headers.entries()]
            .filter(([name]) => ['content-type', 'odata-entityid', 'retry-after'].includes(name))
            .map(([name, value]) => `${name}: ${value}`),
          '',
          text,
        ].join('\r\n'),
      );
      if (answer.status >= 400 && !continueOnError) break;
    }
    return reply
      .code(200)
      .type(`multipart/mixed; boundary=${outer}`)
      .send(`${answers.join('\r\n')}\r\n--${outer}--\r\n`);
  });

  const { origin: listening, controls } = await listen();
  origin = listening;

  /** Direct edits, as a user in Dynamics makes them: a contact's `parentcustomerid` names its account. */
  const edits = (collection: Collection): SandboxTableEdits => {
    const fromUser = (columns: SandboxRow): SandboxRow => {
      const { parentcustomerid, ...rest } = columns;
      return parentcustomerid === undefined ? rest : { ...rest, [PARENT_VALUE]: parentcustomerid };
    };
    return {
      create: (columns) => answerOf(collection, store.create(collection, fromUser(columns), 'user', randomUUID())),
      update: (id, columns) => {
        const record = rowOr404(collection, id);
        return answerOf(
          collection,
          store.update(collection, record, { ...record.fields, ...fromUser(columns) }, 'user'),
        );
      },
      delete: (id) => store.delete(collection, id.toLowerCase(), 'user') !== undefined,
      get: (id) => {
        const record = store.get(collection, id.toLowerCase());
        return record && answerOf(collection, record, true);
      },
      list: () => store.list(collection).map((record) => answerOf(collection, record, true)),
    };
  };

  return {
    ...controls,
    ...namedEdits('Account', edits('accounts')),
    ...namedEdits('Contact', edits('contacts')),
    url: origin,
    tokenUrl: `${origin}/sandbox-tenant${SANDBOX_TOKEN_PATH}`,
    clientId,
    clientSecret,
    revokeTokens: () => tokens.revoke(),
  };
}
