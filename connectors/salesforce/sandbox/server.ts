/**
 * A local stand-in for a Salesforce org's REST API: the subset tandem uses, with Salesforce's
 * paths, payloads, error bodies and limits, and the kit's knobs. The OAuth client-credentials
 * token endpoint of the org's My Domain; SOQL (/query, /queryAll, nextRecordsUrl paging);
 * sObject Rows (GET, PATCH with If-Unmodified-Since); sObject Collections (GET, POST, PATCH);
 * describe; getDeleted; /limits with the org's daily allocation, reported in Sforce-Limit-Info on
 * every answer; field history; merges. For tests and demos; it keeps no secrets.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type NamedEdits, namedEdits } from '../../kit/sandbox/direct-edits';
import { BearerTokens } from '../../kit/sandbox/oauth';
import type { RateLimit, SandboxAnswer } from '../../kit/sandbox/rate-limits';
import { type ChangedBy, RecordStore, type StoredRecord } from '../../kit/sandbox/records';
import {
  createSandboxServer,
  SandboxClock,
  SandboxRefusal,
  type SandboxControls,
  type SandboxOptions,
} from '../../kit/sandbox/server';
import { API_VERSION, HISTORY_OBJECT, type SObjectType, SOBJECT_TYPES } from '../fields';
import {
  COUNTRIES,
  type CustomFieldDefinition,
  type FieldDefinition,
  KEY_PREFIX,
  recordId,
  STATES,
  standardFields,
} from './objects';
import { parseSoql, type QueriedRecord, runSoql, SoqlError } from './soql';

/** The REST API below the org's My Domain. */
export const SANDBOX_API_PATH = `/services/data/${API_VERSION}`;
/** The OAuth 2.0 token endpoint of the org's My Domain. */
export const SANDBOX_TOKEN_PATH = '/services/oauth2/token';

/** The limits the sandbox enforces, by name (see SALESFORCE_RATE_LIMITS). */
export type SalesforceRateLimitName = 'dailyApiRequests' | 'concurrentRequests';

/** A field value as stored and answered. */
type Value = string | number | boolean | null;
type Fields = Record<string, Value>;

/** Options of startSalesforceSandbox, besides the kit's. */
export interface SalesforceSandboxOptions extends SandboxOptions<SalesforceRateLimitName> {
  /** The connected app's consumer key and secret (client credentials flow). */
  clientId?: string;
  clientSecret?: string;
  /** How long an access token lives (the org's session timeout); default 2 hours. */
  sessionSeconds?: number;
  /** The most records one query page answers (Salesforce: 2000, or less as Sforce-Query-Options asks). */
  queryBatchSize?: number;
  /** Field history tracking on Account and Contact: every change of a tracked field is an AccountHistory / ContactHistory row. */
  fieldHistory?: boolean;
  /** State and country picklists: the *StateCode / *CountryCode fields exist and the text fields follow them. */
  stateAndCountryPicklists?: boolean;
  /** Custom fields the org has from the start. */
  customFields?: Partial<Record<SObjectType, CustomFieldDefinition[]>>;
  /** Records to create when the org starts. */
  seed?: SalesforceSandboxSeed;
}

/** Accounts and their Contacts to create at start; a Contact's `AccountId` `#<n>` names the n-th Account. */
export interface SalesforceSandboxSeed {
  accounts?: Fields[];
  contacts?: Fields[];
}

/** A record as the API answers it: its attributes, then its fields. */
export interface SandboxRecord {
  attributes: { type: SObjectType; url: string };
  Id: string;
  [field: string]: Value | { type: SObjectType; url: string };
}

/** Edits as a user makes them in Salesforce's UI. */
interface RecordEdits {
  create: (fields: Fields) => SandboxRecord;
  update: (id: string, fields: Fields) => SandboxRecord;
  delete: (id: string) => void;
  get: (id: string) => SandboxRecord | undefined;
}

/** A running sandbox: createAccount, updateAccount, deleteAccount, getAccount, the same for contacts, and merges. */
export interface SalesforceSandbox
  extends SandboxControls, NamedEdits<'Account', RecordEdits>, NamedEdits<'Contact', RecordEdits> {
  /** The org's My Domain, e.g. http://127.0.0.1:53121 (the connector's baseUrl). */
  readonly url: string;
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Makes every issued access token invalid, as if the session had timed out. */
  revokeTokens(): void;
  /** Merges `losers` into `master` as a user does: their Contacts move to the master, they are deleted with MasterRecordId set. */
  mergeAccounts(master: string, losers: readonly string[]): void;
  /** Defines a custom field, as an admin does in Setup. */
  createField(sObjectType: SObjectType, definition: CustomFieldDefinition): void;
  /** The AccountHistory / ContactHistory rows of a record, oldest first. */
  historyOf(sObjectType: SObjectType, id: string): readonly Fields[];
}

/** An answer in Salesforce's error shape: a list of errors, each with an errorCode and a message. */
const sfError = (status: number, errorCode: string, message: string, fields?: string[]): SandboxAnswer => ({
  status,
  body: [{ message, errorCode, ...(fields && { fields }) }],
});
const refuse = (status: number, errorCode: string, message: string, fields?: string[]) =>
  new SandboxRefusal(sfError(status, errorCode, message, fields));

/** What Salesforce answers (403) when the org's allocation or its concurrency limit is spent. */
const limitExceeded = (message: string) => () => ({
  body: [{ message, errorCode: 'REQUEST_LIMIT_EXCEEDED' }],
});

/**
 * The org's limits. Every API call counts against its rolling 24-hour allocation of API requests
 * (the Developer Edition's 15,000 by default; Enterprise has 100,000 plus 1,000 per licence), told
 * in Sforce-Limit-Info (`api-usage=used/max`) on every answer; when it is spent Salesforce answers
 * 403 REQUEST_LIMIT_EXCEEDED. It also caps requests running at once at 25 (its limit on long-running
 * ones, applied here to all).
 * https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm
 */
export const SALESFORCE_RATE_LIMITS: Record<SalesforceRateLimitName, RateLimit> = {
  dailyApiRequests: {
    limit: 15_000,
    windowMs: 86_400_000,
    refuse: limitExceeded('TotalRequests Limit exceeded.'),
    report: (remaining, { limit }) => ({ 'Sforce-Limit-Info': `api-usage=${limit - remaining}/${limit}` }),
  },
  concurrentRequests: { limit: 25, refuse: limitExceeded('ConcurrentPerOrgLongTxn Limit exceeded.') },
};

/** Salesforce's times: ISO 8601 with milliseconds and a +0000 offset. */
const sfTime = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');
const valueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const fieldsSchema = z.record(z.string(), valueSchema);
const recordSchema = z.looseObject({ attributes: z.looseObject({ type: z.string() }) });
const collectionBodySchema = z.object({ allOrNone: z.boolean().default(false), records: z.array(recordSchema) });
const querySchema = z.record(z.string(), z.string());
const MAX_COLLECTION = 200;
const MAX_COLLECTION_READ = 2000;
const MAX_QUERY_BATCH = 2000;
/** getDeleted reaches back this far (the recycle bin's 15 days, the API's 30 at most). */
const DELETED_REACH_MS = 30 * 86_400_000;

type Stored = StoredRecord<Fields>;

/** Starts a sandbox on a free port unless told otherwise. */
export async function startSalesforceSandbox(options: SalesforceSandboxOptions = {}): Promise<SalesforceSandbox> {
  const clientId = options.clientId ?? 'sandbox-consumer-key';
  const clientSecret = options.clientSecret ?? 'sandbox-consumer-secret';
  const sessionSeconds = options.sessionSeconds ?? 7200;
  const picklists = options.stateAndCountryPicklists === true;
  const tokens = new BearerTokens();
  const clock = new SandboxClock(options.clockOffsetMs);
  const objects = standardFields(picklists);
  for (const sObjectType of SOBJECT_TYPES)
    for (const definition of options.customFields?.[sObjectType] ?? []) defineField(sObjectType, definition);
  const store = new RecordStore({ now: clock.now, collections: SOBJECT_TYPES, fields: fieldsSchema });
  const counters: Record<SObjectType, number> = { Account: 0, Contact: 0 };
  /** Deleted records (the recycle bin), with when and into which record they were merged. */
  const bin = new Map<string, { sObjectType: SObjectType; record: Stored; deletedAt: number; master: string | null }>();
  const history: Record<SObjectType, Fields[]> = { Account: [], Contact: [] };
  const locators = new Map<string, { object: string; rest: QueriedRecord[] }>();

  function defineField(sObjectType: SObjectType, definition: CustomFieldDefinition): void {
    if (!definition.name.endsWith('__c'))
      throw new Error(`salesforce sandbox: a custom field ends in __c: ${definition.name}`);
    objects[sObjectType] = [
      ...objects[sObjectType].filter((field) => field.name !== definition.name),
      { ...definition, custom: true },
    ];
  }
  const fieldOf = (sObjectType: SObjectType, name: string): FieldDefinition | undefined =>
    objects[sObjectType].find((field) => field.name.toLowerCase() === name.toLowerCase());

  /** The record as the API shows it: every field the object has, the system ones included. */
  function row(sObjectType: SObjectType, record: Stored, deleted?: { master: string | null }): Fields {
    const all: Fields = {};
    for (const field of objects[sObjectType]) all[field.name] = record.fields[field.name] ?? null;
    Object.assign(all, {
      Id: record.id,
      IsDeleted: deleted !== undefined,
      MasterRecordId: deleted?.master ?? null,
      CreatedDate: sfTime(record.createdAt),
      LastModifiedDate: sfTime(record.updatedAt),
      SystemModstamp: sfTime(record.updatedAt),
    });
    if (sObjectType === 'Contact')
      all.Name = [record.fields.FirstName, record.fields.LastName].filter((part) => part).join(' ');
    return all;
  }

  /** The record as the API shows it: its attributes, then every field the object has. */
  function view(sObjectType: SObjectType, record: Stored, deleted?: { master: string | null }): SandboxRecord {
    const url = `${SANDBOX_API_PATH}/sobjects/${sObjectType}/${record.id}`;
    return { attributes: { type: sObjectType, url }, ...row(sObjectType, record, deleted), Id: record.id };
  }

  /** Only the fields asked for (and the attributes), as ?fields= and SOQL answer. */
  function pick(record: SandboxRecord, fields: readonly string[] | undefined): SandboxRecord {
    if (fields === undefined) return record;
    const picked: Fields = {};
    for (const field of fields) {
      const name = Object.keys(record).find((key) => key.toLowerCase() === field.toLowerCase());
      if (name === undefined)
        throw refuse(400, 'INVALID_FIELD', `No such column '${field}' on sobject of type ${record.attributes.type}`);
      picked[name] = record[name] as Value;
    }
    return { attributes: record.attributes, ...picked, Id: record.Id };
  }

  /**
   * The fields of a write, checked as Salesforce checks them: unknown and read-only fields,
   * required fields on create, restricted picklists, e-mail addresses, lookups and unique External Ids.
   */
  function checked(sObjectType: SObjectType, given: Fields, existing: Stored | undefined): Fields {
    const fields: Fields = {};
    for (const [name, raw] of Object.entries(given)) {
      const definition = fieldOf(sObjectType, name);
      if (definition === undefined)
        throw refuse(400, 'INVALID_FIELD', `No such column '${name}' on sobject of type ${sObjectType}`);
      if (!definition.updateable)
        throw refuse(
          400,
          'INVALID_FIELD_FOR_INSERT_UPDATE',
          `Unable to create/update fields: ${definition.name}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
          [definition.name],
        );
      const value = raw === null || raw === '' ? null : typeof raw === 'string' ? raw : String(raw);
      if (
        value !== null &&
        definition.picklistValues &&
        !definition.picklistValues.some((option) => option.value === value)
      )
        throw refuse(
          400,
          'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
          `${definition.label}: invalid code or value: ${value}`,
          [definition.name],
        );
      if (value !== null && definition.type === 'email' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value))
        throw refuse(400, 'INVALID_EMAIL_ADDRESS', `Email: invalid email address: ${value}`, [definition.name]);
      if (value !== null && definition.name === 'AccountId' && store.get('Account', value) === undefined)
        throw refuse(400, 'INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', ['AccountId']);
      if (value !== null && definition.externalId === true) {
        const taken = store
          .list(sObjectType)
          .some((other) => other.id !== existing?.id && other.fields[definition.name] === value);
        if (taken)
          throw refuse(
            400,
            'DUPLICATE_VALUE',
            `duplicate value found: ${definition.name} duplicates value on record with id`,
            [definition.name],
          );
      }
      fields[definition.name] = value;
    }
    const merged = { ...existing?.fields, ...fields };
    for (const definition of objects[sObjectType])
      if (definition.required === true && (merged[definition.name] ?? null) === null)
        throw refuse(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${definition.name}]`, [
          definition.name,
        ]);
    // With the picklists on, the text fields carry the code's label.
    if (picklists)
      for (const prefix of sObjectType === 'Account' ? ['Billing'] : ['Mailing']) {
        const country = fields[`${prefix}CountryCode`];
        if (country !== undefined)
          fields[`${prefix}Country`] = COUNTRIES.find((option) => option.value === country)?.label ?? null;
        const state = fields[`${prefix}StateCode`];
        if (state !== undefined)
          fields[`${prefix}State`] = STATES.find((option) => option.value === state)?.label ?? null;
      }
    return fields;
  }

  /** Logs the changed fields of a write as history rows (address parts as the compound address, as Salesforce tracks them). */
  function track(sObjectType: SObjectType, id: string, before: Fields, after: Fields, at: number): void {
    if (options.fieldHistory !== true) return;
    const logged = new Set<string>();
    for (const [name, value] of Object.entries(after)) {
      if ((before[name] ?? null) === value) continue;
      const compound = /^(Billing|Mailing)(Street|City|State|PostalCode|Country|StateCode|CountryCode)$/.exec(name);
      const field = compound ? `${compound[1] ?? ''}Address` : ['FirstName', 'LastName'].includes(name) ? 'Name' : name;
      if (logged.has(field)) continue;
      logged.add(field);
      const values =
        compound || field === 'Name'
          ? { OldValue: null, NewValue: null }
          : { OldValue: before[name] ?? null, NewValue: value };
      history[sObjectType].push({
        Id: `017Sb0${String(history[sObjectType].length + 1).padStart(9, '0')}AAA`,
        [HISTORY_OBJECT[sObjectType].parent]: id,
        Field: field,
        ...values,
        CreatedDate: sfTime(at),
        IsDeleted: false,
      });
    }
  }

  /** Creates (no record given) or updates a record; the modification time moves on every update, as Salesforce's does. */
  function write(sObjectType: SObjectType, existing: Stored | undefined, given: Fields, by: ChangedBy): Stored {
    const fields = checked(sObjectType, given, existing);
    if (existing === undefined) {
      const id = recordId(sObjectType, ++counters[sObjectType]);
      const created = store.create(sObjectType, fields, by, id);
      track(sObjectType, id, {}, { created: 'created' }, created.createdAt);
      return created;
    }
    const before = existing.fields;
    const updated = store.update(sObjectType, existing, { ...before, ...fields }, by);
    track(sObjectType, existing.id, before, fields, updated.updatedAt);
    return updated;
  }

  function typeOf(name: string): SObjectType {
    const match = SOBJECT_TYPES.find((candidate) => candidate.toLowerCase() === name.toLowerCase());
    if (match === undefined) throw refuse(404, 'NOT_FOUND', `The requested resource does not exist`);
    return match;
  }
  function found(sObjectType: SObjectType, id: string): Stored {
    const record = store.get(sObjectType, id);
    if (record === undefined) {
      if (bin.has(id)) throw refuse(404, 'ENTITY_IS_DELETED', 'entity is deleted');
      throw refuse(404, 'NOT_FOUND', 'The requested resource does not exist');
    }
    return record;
  }

  // Seeds, in order: Accounts first so that a Contact can name one.
  const seededAccounts = (options.seed?.accounts ?? []).map((fields) => write('Account', undefined, fields, 'user').id);
  for (const fields of options.seed?.contacts ?? []) {
    const reference = /^#(\d+)$/.exec(String(fields.AccountId ?? ''))?.[1];
    const accountId = reference === undefined ? fields.AccountId : seededAccounts[Number(reference)];
    write(
      'Contact',
      undefined,
      { ...fields, ...(accountId !== undefined && { AccountId: accountId ?? null }) },
      'user',
    );
  }

  const { app, listen } = createSandboxServer(
    {
      api: new RegExp(`^${SANDBOX_API_PATH.replace(/\./g, '\\.')}(?=/|$)`),
      tokenPath: SANDBOX_TOKEN_PATH,
      authenticate: (request) =>
        tokens.accepts(request.headers.authorization)
          ? undefined
          : sfError(401, 'INVALID_SESSION_ID', 'Session expired or invalid'),
      // Injected throttles (injectFailures' next429) come as Salesforce throttles: 403, a brief one.
      throttled: limitExceeded('ConcurrentPerOrgLongTxn Limit exceeded.'),
      unavailable: () => sfError(503, 'SERVER_UNAVAILABLE', 'Server temporarily unavailable'),
      failure: (status, message) =>
        sfError(
          status,
          status === 404 ? 'NOT_FOUND' : status < 500 ? 'JSON_PARSER_ERROR' : 'UNKNOWN_EXCEPTION',
          message,
        ),
      rateLimits: SALESFORCE_RATE_LIMITS,
    },
    options,
    clock,
  );

  // Salesforce refuses a spent allocation or too many requests at once with 403, not 429, and without Retry-After.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode === 429) {
      reply.code(403);
      reply.removeHeader('retry-after');
    }
    return payload;
  });

  // The client credentials flow of a connected app; Salesforce's answer carries no expires_in.
  // https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_client_credentials_flow.htm
  app.post(SANDBOX_TOKEN_PATH, async (request, reply) => {
    const form = querySchema.catch({}).parse(request.body);
    const basic = /^Basic (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const [id, secret] =
      basic === undefined
        ? [form.client_id, form.client_secret]
        : Buffer.from(basic, 'base64').toString('utf8').split(/:(.*)/s);
    if (form.grant_type !== 'client_credentials')
      return reply.code(400).send({ error: 'unsupported_grant_type', error_description: 'grant type not supported' });
    if (id !== clientId || secret !== clientSecret)
      return reply.code(400).send({ error: 'invalid_client', error_description: 'invalid client credentials' });
    const origin = `${request.protocol}://${request.headers.host ?? ''}`;
    return reply.send({
      access_token: tokens.issue(sessionSeconds),
      signature: randomBytes(32).toString('base64'),
      scope: 'api',
      instance_url: origin,
      id: `${origin}/id/00DSb0000000001AAA/005Sb0000000001AAA`,
      token_type: 'Bearer',
      issued_at: String(Date.now()),
    });
  });

  const api = SANDBOX_API_PATH;
  const typeParam = (request: FastifyRequest) => typeOf(z.object({ type: z.string() }).parse(request.params).type);
  const idParam = (request: FastifyRequest) => z.object({ id: z.string() }).parse(request.params).id;
  const listParam = (raw: string | undefined) =>
    raw
      ?.split(',')
      .map((item) => item.trim())
      .filter(Boolean);

  app.get(`${api}/limits`, (_request, reply) => {
    const [used, max] =
      /api-usage=(\d+)\/(\d+)/
        .exec(String(reply.getHeader('sforce-limit-info') ?? ''))
        ?.slice(1)
        .map(Number) ?? [];
    const allocation = max ?? SALESFORCE_RATE_LIMITS.dailyApiRequests.limit;
    return { DailyApiRequests: { Max: allocation, Remaining: allocation - (used ?? 0) } };
  });

  /** The records a query runs over: the object's live ones, and with queryAll its deleted ones too. */
  function queried(object: string, all: boolean): { records: QueriedRecord[]; known: string[] } {
    const parentType = SOBJECT_TYPES.find((type) => HISTORY_OBJECT[type].object.toLowerCase() === object.toLowerCase());
    if (parentType !== undefined) {
      const known = [
        'Id',
        HISTORY_OBJECT[parentType].parent,
        'Field',
        'OldValue',
        'NewValue',
        'CreatedDate',
        'IsDeleted',
      ];
      return { records: options.fieldHistory === true ? history[parentType] : [], known };
    }
    const sObjectType = SOBJECT_TYPES.find((type) => type.toLowerCase() === object.toLowerCase());
    if (sObjectType === undefined) throw new SoqlError('INVALID_TYPE', `sObject type '${object}' is not supported.`);
    const live = store.list(sObjectType).map((record) => row(sObjectType, record));
    const deleted = all
      ? [...bin.values()]
          .filter((entry) => entry.sObjectType === sObjectType)
          .map((entry) => row(sObjectType, entry.record, entry))
      : [];
    return {
      records: [...live, ...deleted],
      known: [...Object.keys(row(sObjectType, emptyRecord)), ...objects[sObjectType].map((field) => field.name)],
    };
  }
  const emptyRecord: Stored = { id: '', createdAt: 0, updatedAt: 0, fields: {} };

  /** One page of a query's results, and the nextRecordsUrl of the rest. */
  function page(request: FastifyRequest, object: string, results: QueriedRecord[], total: number) {
    const asked = /batchSize=(\d+)/.exec(String(request.headers['sforce-query-options'] ?? ''))?.[1];
    const size = Math.min(
      options.queryBatchSize ?? MAX_QUERY_BATCH,
      asked === undefined ? MAX_QUERY_BATCH : Math.max(200, Number(asked)),
    );
    const shown = results.slice(0, size).map((record) => ({ attributes: { type: object }, ...record }));
    const rest = results.slice(size);
    let nextRecordsUrl: string | undefined;
    if (rest.length > 0) {
      const locator = `01gSb${randomBytes(6).toString('hex')}-${total - rest.length}`;
      locators.set(locator, { object, rest });
      nextRecordsUrl = `${api}/query/${locator}`;
    }
    return {
      totalSize: total,
      done: nextRecordsUrl === undefined,
      ...(nextRecordsUrl && { nextRecordsUrl }),
      records: shown,
    };
  }

  function runQuery(request: FastifyRequest, all: boolean) {
    const q = querySchema.parse(request.query).q;
    if (q === undefined) throw refuse(400, 'MALFORMED_QUERY', 'A query string has to be specified');
    try {
      const parsed = parseSoql(q);
      const { records, known } = queried(parsed.object, all);
      const results = runSoql(parsed, records, known);
      return page(request, parsed.object, results, results.length);
    } catch (error) {
      if (error instanceof SoqlError) throw refuse(400, error.errorCode, error.message);
      throw error;
    }
  }
  app.get(`${api}/query`, (request) => runQuery(request, false));
  app.get(`${api}/queryAll`, (request) => runQuery(request, true));
  app.get(`${api}/query/:locator`, (request) => {
    const { locator } = z.object({ locator: z.string() }).parse(request.params);
    const cursor = locators.get(locator);
    if (cursor === undefined) throw refuse(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    locators.delete(locator);
    const done = Number(/-(\d+)$/.exec(locator)?.[1] ?? 0);
    return page(request, cursor.object, cursor.rest, done + cursor.rest.length);
  });

  app.get(`${api}/sobjects/:type/describe`, (request) => {
    const sObjectType = typeParam(request);
    return {
      name: sObjectType,
      keyPrefix: KEY_PREFIX[sObjectType],
      fields: objects[sObjectType].map((field) => ({
        name: field.name,
        label: field.label,
        type: field.type,
        updateable: field.updateable,
        createable: field.updateable,
        calculated: field.calculated === true,
        custom: field.custom === true,
        externalId: field.externalId === true,
        nillable: field.required !== true,
        picklistValues: (field.picklistValues ?? []).map((option) => ({
          ...option,
          defaultValue: false,
          validFor: null,
        })),
      })),
    };
  });

  // getDeleted: the ids deleted between start and end, within the last 30 days.
  // https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_getdeleted.htm
  const deleted = (request: FastifyRequest) => {
    const sObjectType = typeParam(request);
    const { start, end } = querySchema.parse(request.query);
    const [from, to] = [Date.parse(start ?? ''), Date.parse(end ?? '')];
    if (Number.isNaN(from) || Number.isNaN(to))
      throw refuse(400, 'MALFORMED_QUERY', 'start and end must be dates in ISO 8601 format');
    const now = clock.now();
    if (to <= from) throw refuse(400, 'INVALID_REPLICATION_DATE', 'EndDate must chronologically succeed StartDate');
    if (from < now - DELETED_REACH_MS)
      throw refuse(400, 'INVALID_REPLICATION_DATE', 'startDate before org replication enabled date');
    const covered = Math.floor(Math.min(to, now) / 60_000) * 60_000;
    const entries = [...bin.entries()].filter(([, entry]) => entry.sObjectType === sObjectType);
    return {
      deletedRecords: entries
        .filter(([, entry]) => entry.deletedAt >= from && entry.deletedAt <= to)
        .map(([id, entry]) => ({ id, deletedDate: sfTime(entry.deletedAt) })),
      earliestDateAvailable: sfTime(Math.min(now, ...entries.map(([, entry]) => entry.deletedAt))),
      latestDateCovered: sfTime(covered),
    };
  };
  app.get(`${api}/sobjects/:type/deleted`, deleted);
  app.get(`${api}/sobjects/:type/deleted/`, deleted);

  app.get(`${api}/sobjects/:type/:id`, (request) => {
    const sObjectType = typeParam(request);
    return pick(
      view(sObjectType, found(sObjectType, idParam(request))),
      listParam(querySchema.parse(request.query).fields),
    );
  });

  // If-Unmodified-Since: the update is made only when the record was not modified after that time, else 412.
  // https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_retrieve_patch.htm
  app.patch(`${api}/sobjects/:type/:id`, async (request: FastifyRequest, reply: FastifyReply) => {
    const sObjectType = typeParam(request);
    const record = found(sObjectType, idParam(request));
    const since = request.headers['if-unmodified-since'];
    if (typeof since === 'string') {
      const limit = Date.parse(since);
      if (Number.isNaN(limit)) throw refuse(400, 'INVALID_HEADER_TYPE', `Invalid If-Unmodified-Since header: ${since}`);
      // HTTP dates have whole seconds: a record modified within that second was not modified since.
      if (Math.floor(record.updatedAt / 1000) * 1000 > limit)
        throw refuse(
          412,
          'PRECONDITION_FAILED',
          'The requested resource has been modified since the If-Unmodified-Since date',
        );
    }
    write(sObjectType, record, fieldsSchema.parse(request.body ?? {}), 'api');
    return reply.code(204).send();
  });

  app.post(`${api}/sobjects/:type`, async (request, reply) => {
    const sObjectType = typeParam(request);
    const record = write(sObjectType, undefined, fieldsSchema.parse(request.body ?? {}), 'api');
    return reply.code(201).send({ id: record.id, success: true, errors: [] });
  });

  // sObject Collections: up to 200 records per write, 2000 per read, results in the order sent.
  // https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections.htm
  app.get(`${api}/composite/sobjects/:type`, (request) => {
    const sObjectType = typeParam(request);
    const query = querySchema.parse(request.query);
    const ids = listParam(query.ids) ?? [];
    const fields = listParam(query.fields);
    if (ids.length === 0 || fields === undefined) throw refuse(400, 'MALFORMED_QUERY', 'ids and fields are required');
    if (ids.length > MAX_COLLECTION_READ)
      throw refuse(
        400,
        'EXCEEDED_ID_LIMIT',
        `record limit reached. cannot submit more than ${MAX_COLLECTION_READ} records into this call`,
      );
    return ids.map((id) => {
      const record = store.get(sObjectType, id);
      return record === undefined ? null : pick(view(sObjectType, record), fields);
    });
  });

  /** Runs a collection write, item by item (allOrNone false) or not at all when one fails (allOrNone true). */
  function collectionWrite(request: FastifyRequest, create: boolean) {
    const { allOrNone, records } = collectionBodySchema.parse(request.body ?? {});
    if (records.length > MAX_COLLECTION)
      throw refuse(
        400,
        'EXCEEDED_ID_LIMIT',
        `record limit reached. cannot submit more than ${MAX_COLLECTION} records into this call`,
      );
    const planned = records.map((item) => {
      const { attributes, id, ...given } = item;
      const sObjectType = typeOf(attributes.type);
      return { sObjectType, id: typeof id === 'string' ? id : undefined, given: fieldsSchema.parse(given) };
    });
    if (!create && planned.some(({ id }) => id === undefined))
      throw refuse(400, 'MISSING_ARGUMENT', 'Id not specified in an update call');
    if (create && planned.some(({ id }) => id !== undefined))
      throw refuse(400, 'INVALID_FIELD', 'cannot specify Id in an insert call');
    if (new Set(planned.map(({ id }) => id ?? Math.random())).size !== planned.length)
      throw refuse(400, 'INVALID_FIELD', 'Maximum number of duplicate updates in one batch (1 allowed)');
    const outcome = (attempt: () => Stored) => {
      try {
        return { id: attempt().id, success: true, errors: [] };
      } catch (error) {
        if (!(error instanceof SandboxRefusal)) throw error;
        const [first] = z
          .array(z.looseObject({ errorCode: z.string(), message: z.string(), fields: z.array(z.string()).optional() }))
          .parse(error.answer.body);
        return {
          success: false,
          errors: [{ statusCode: first?.errorCode, message: first?.message, fields: first?.fields ?? [] }],
        };
      }
    };
    const results = planned.map(({ sObjectType, id, given }) =>
      outcome(() => {
        if (id === undefined) return write(sObjectType, undefined, given, 'api');
        if (!store.get(sObjectType, id)) {
          if (bin.has(id)) throw refuse(400, 'ENTITY_IS_DELETED', 'entity is deleted');
          throw refuse(400, 'INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id');
        }
        return write(sObjectType, store.get(sObjectType, id), given, 'api');
      }),
    );
    if (allOrNone && results.some((result) => !result.success))
      throw refuse(
        400,
        'ALL_OR_NONE_OPERATION_ROLLED_BACK',
        'Record rolled back because not all records were valid and the request was using AllOrNone header',
      );
    return results.map((result, index) => ({
      id: result.id ?? planned[index]?.id ?? null,
      success: result.success,
      errors: result.errors,
    }));
  }
  app.patch(`${api}/composite/sobjects`, (request) => collectionWrite(request, false));
  app.post(`${api}/composite/sobjects`, (request) => collectionWrite(request, true));

  const { origin, controls } = await listen();

  /** An edit as a user makes it; a refusal is thrown as an Error. */
  const direct = (sObjectType: SObjectType, id: string | null, fields: Fields) => {
    try {
      return view(sObjectType, write(sObjectType, id === null ? undefined : found(sObjectType, id), fields, 'user'));
    } catch (error) {
      throw error instanceof SandboxRefusal ? new Error(`salesforce sandbox: ${error.message}`) : error;
    }
  };
  const remove = (sObjectType: SObjectType, id: string, master: string | null) => {
    const record = store.delete(sObjectType, id, 'user');
    if (record === undefined) throw new Error(`salesforce sandbox: no ${sObjectType} ${id}`);
    bin.set(id, { sObjectType, record, deletedAt: clock.now(), master });
  };
  const edits = (sObjectType: SObjectType): RecordEdits => ({
    create: (fields) => direct(sObjectType, null, fields),
    update: (id, fields) => direct(sObjectType, id, fields),
    delete: (id) => remove(sObjectType, id, null),
    get: (id) => {
      const record = store.get(sObjectType, id);
      return record && view(sObjectType, record);
    },
  });
  return {
    ...controls,
    ...namedEdits('Account', edits('Account')),
    ...namedEdits('Contact', edits('Contact')),
    url: origin,
    tokenUrl: `${origin}${SANDBOX_TOKEN_PATH}`,
    clientId,
    clientSecret,
    revokeTokens: () => tokens.revoke(),
    mergeAccounts: (master, losers) => {
      found('Account', master);
      for (const loser of losers) {
        for (const contact of store.list('Contact').filter((record) => record.fields.AccountId === loser))
          write('Contact', contact, { AccountId: master }, 'user');
        remove('Account', loser, master);
      }
    },
    createField: (sObjectType, definition) => defineField(sObjectType, definition),
    historyOf: (sObjectType, id) =>
      history[sObjectType].filter((entry) => entry[HISTORY_OBJECT[sObjectType].parent] === id),
  };
}
