/**
 * A thin typed client for the Salesforce REST API on the kit's HTTP client, pinned to API_VERSION:
 * SOQL queries with their nextRecordsUrl, sObject Rows and sObject Collections, getDeleted,
 * describe and /limits. Every answer is parsed; records come back as canonical contacts of the
 * mapping in force. Each answer's Sforce-Limit-Info keeps the org's daily allocation in view.
 * https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_list.htm
 */
import type { AxiosRequestConfig } from 'axios';
import { z } from 'zod';
import type { Contact } from '../../src/core/model';
import type { ConnectorSettings, ConnectTools } from '../kit/define';
import { AuthFailedError, orNullIfNotFound, RateLimitedError } from '../kit/errors';
import type { HttpClient } from '../kit/http';
import { parseResponse } from '../kit/parse';
import { ClientCredentials } from './auth';
import type { salesforceConfig } from './config';
import { API_VERSION, HISTORY_OBJECT, type SObjectType, SOBJECT_TYPES, toContactId } from './fields';
import {
  fieldsToSelect,
  isoTime,
  resolveMapping,
  toContact,
  withCustomFields,
  type SalesforceMapping,
} from './mappers';
import {
  collectionReadSchema,
  deletedSchema,
  type DescribeField,
  describeSchema,
  fieldText,
  historyEntrySchema,
  type HistoryEntry,
  limitsSchema,
  queryPageSchema,
  saveResultsSchema,
  type SObjectRecord,
  sObjectRecordSchema,
} from './schemas';
import { soqlIds } from './soql';

/** The REST API below the org's My Domain. */
export const API_PATH = `/services/data/${API_VERSION}`;

/** The most records one sObject Collections call reads or writes (writes take 200; reads are kept to the same). */
export const COLLECTION_LIMIT = 200;

/** How long a refusal for a spent allocation holds before one call is let through to see the count again. */
const ALLOCATION_RECHECK_MS = 5 * 60_000;

/** How long the describes of Account and Contact are kept for the custom fields' mapping. */
const DESCRIBE_TTL_MS = 10 * 60_000;

/**
 * The org's daily API allocation as Salesforce reports it (Sforce-Limit-Info `api-usage=used/max`
 * on every answer, DailyApiRequests in /limits). It is shared with every other integration of
 * the org, and every process of tandem sees the org's own count in its answers, so a call is
 * refused here (RateLimitedError, for the queue to retry) once only `reserve` of it is left.
 * https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm
 */
export class DailyAllocation {
  private used: number | undefined;
  private max: number | undefined;
  private observedAt = 0;

  constructor(
    private readonly name: string,
    private readonly reserve: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reads an answer's Sforce-Limit-Info. */
  observe(header: unknown): void {
    const match = /api-usage=(\d+)\/(\d+)/.exec(typeof header === 'string' ? header : '');
    if (match) this.record(Number(match[1]), Number(match[2]));
  }

  /** Reads /limits' DailyApiRequests. */
  fromLimits({ Max, Remaining }: { Max: number; Remaining: number }): void {
    this.record(Max - Remaining, Max);
  }

  /** What is known of the allocation: used and max, or undefined before the first answer. */
  get usage(): { used: number; max: number } | undefined {
    return this.used === undefined || this.max === undefined ? undefined : { used: this.used, max: this.max };
  }

  /** Throws RateLimitedError when the reserve is reached, but lets one call through now and then to see the count again. */
  check(): void {
    const usage = this.usage;
    if (usage === undefined) return;
    const kept = Math.ceil(usage.max * this.reserve);
    if (usage.max - usage.used > kept) return;
    const waitMs = this.observedAt + ALLOCATION_RECHECK_MS - this.now();
    if (waitMs <= 0) return;
    throw new RateLimitedError(
      `${this.name}: ${usage.used} of the org's ${usage.max} daily API requests are used; ${kept} are kept for other integrations`,
      waitMs,
    );
  }

  private record(used: number, max: number): void {
    [this.used, this.max, this.observedAt] = [used, max, this.now()];
  }
}

/** Salesforce refuses a spent allocation, or too many requests at once, with 403 REQUEST_LIMIT_EXCEEDED: a throttle, not bad credentials. */
function asThrottle(error: unknown): unknown {
  if (error instanceof AuthFailedError && error.status === 403 && error.message.includes('REQUEST_LIMIT_EXCEEDED'))
    return new RateLimitedError(error.message, error.message.includes('TotalRequests') ? 15 * 60_000 : 1000);
  return error;
}

/** Typed calls to the REST API, answering canonical contacts. */
function salesforceApi(
  http: HttpClient,
  name: string,
  allocation: DailyAllocation,
  mappingNow: () => Promise<SalesforceMapping>,
  fieldHistory: boolean,
) {
  /** Sends a call within the allocation, reads its Sforce-Limit-Info, and parses its answer. */
  async function call<T>(schema: z.ZodType<T>, config: AxiosRequestConfig, options: { attempts?: number } = {}) {
    allocation.check();
    let response;
    try {
      response = await http.request(config, options);
    } catch (error) {
      throw asThrottle(error);
    }
    allocation.observe(response.headers['sforce-limit-info']);
    return parseResponse(schema, response.data, `${name}: ${config.method ?? 'GET'} ${config.url ?? ''}`);
  }

  const recordPage = queryPageSchema(sObjectRecordSchema);
  const historyPage = queryPageSchema(historyEntrySchema);

  /** Every record a query finds, page by page (nextRecordsUrl); `all` includes deleted ones (queryAll). */
  async function* query<T>(page: z.ZodType<{ records: T[]; nextRecordsUrl?: string }>, soql: string, all = false) {
    let answer = await call(page, { url: `${API_PATH}/${all ? 'queryAll' : 'query'}`, params: { q: soql } });
    yield answer.records;
    while (answer.nextRecordsUrl !== undefined) {
      answer = await call(page, { url: answer.nextRecordsUrl });
      yield answer.records;
    }
  }

  /** The history rows of the records, grouped by record, where field history is on. */
  async function historyOf(sObjectType: SObjectType, ids: readonly string[]) {
    const byRecord = new Map<string, HistoryEntry[]>();
    if (!fieldHistory || ids.length === 0) return byRecord;
    const { object, parent } = HISTORY_OBJECT[sObjectType];
    const soql = `SELECT ${parent}, Field, OldValue, NewValue, CreatedDate FROM ${object} WHERE ${parent} IN ${soqlIds(ids)} ORDER BY CreatedDate DESC`;
    for await (const rows of query(historyPage, soql))
      for (const row of rows) {
        const id = fieldText(row, parent) ?? '';
        byRecord.set(id, [...(byRecord.get(id) ?? []), row]);
      }
    return byRecord;
  }

  /** Records as canonical contacts, with their field history when it is on. */
  async function contacts(sObjectType: SObjectType, records: readonly SObjectRecord[], withHistory: boolean) {
    const mapping = await mappingNow();
    const history = withHistory
      ? await historyOf(
          sObjectType,
          records.map((record) => record.Id),
        )
      : new Map<string, HistoryEntry[]>();
    return records.map((record) => toContact(sObjectType, record, mapping, history.get(record.Id) ?? []));
  }

  const select = async (sObjectType: SObjectType) => fieldsToSelect(sObjectType, await mappingNow()).join(',');

  /**
   * The records among `ids` that a merge deleted, as contacts that name the survivor (mergedInto)
   * and carry no fields: a merge leaves MasterRecordId on the losers, which only queryAll sees.
   * https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_queryall.htm
   */
  async function merged(sObjectType: SObjectType, ids: readonly string[]): Promise<Contact[]> {
    if (ids.length === 0) return [];
    const soql = `SELECT Id, MasterRecordId, SystemModstamp FROM ${sObjectType} WHERE Id IN ${soqlIds(ids)} AND IsDeleted = true AND MasterRecordId != null`;
    const found: Contact[] = [];
    for await (const rows of query(recordPage, soql, true))
      for (const row of rows) {
        const master = fieldText(row, 'MasterRecordId');
        if (master === null) continue;
        found.push({
          entity: 'contact',
          id: toContactId(sObjectType, row.Id),
          type: sObjectType === 'Account' ? 'company' : 'person',
          companyId: null,
          fields: {},
          modifiedAt: isoTime(row.SystemModstamp),
          mergedInto: toContactId(sObjectType, master),
        });
      }
    return found;
  }

  return {
    /** One record by id with its field history, or null when Salesforce does not have it (any more). */
    get: async (sObjectType: SObjectType, id: string): Promise<Contact | null> => {
      const url = `${API_PATH}/sobjects/${sObjectType}/${encodeURIComponent(id)}`;
      const record = await orNullIfNotFound(
        call(sObjectRecordSchema, { url, params: { fields: await select(sObjectType) } }),
      );
      if (record) return (await contacts(sObjectType, [record], true))[0] ?? null;
      const [loser] = await merged(sObjectType, [id]);
      return loser ?? null;
    },
    /** Up to COLLECTION_LIMIT records of one type (sObject Collections); ids Salesforce does not have are left out. */
    batchRead: async (sObjectType: SObjectType, ids: readonly string[]): Promise<Contact[]> => {
      const url = `${API_PATH}/composite/sobjects/${sObjectType}`;
      const answer = await call(collectionReadSchema, {
        url,
        params: { ids: ids.join(','), fields: await select(sObjectType) },
      });
      const found = answer.filter((record): record is SObjectRecord => record !== null);
      const missing = ids.filter((id) => !found.some((record) => record.Id === id));
      return [...(await contacts(sObjectType, found, true)), ...(await merged(sObjectType, missing))];
    },
    /** Pages of the records a SOQL WHERE clause (and ORDER BY / LIMIT) finds, as canonical contacts. */
    find: async function* (sObjectType: SObjectType, rest: string): AsyncGenerator<Contact[]> {
      const soql = `SELECT ${await select(sObjectType)} FROM ${sObjectType} ${rest}`.trim();
      for await (const records of query(recordPage, soql)) yield await contacts(sObjectType, records, false);
    },
    /** The last-modified dates of records, by id (a write's precondition). */
    lastModified: async (sObjectType: SObjectType, ids: readonly string[]): Promise<Map<string, string>> => {
      const url = `${API_PATH}/composite/sobjects/${sObjectType}`;
      const answer = await call(collectionReadSchema, {
        url,
        params: { ids: ids.join(','), fields: 'Id,SystemModstamp,LastModifiedDate' },
      });
      return new Map(
        answer.flatMap((record) => (record?.LastModifiedDate ? [[record.Id, record.LastModifiedDate]] : [])),
      );
    },
    /**
     * Writes fields of one record (sObject Rows). With `unmodifiedSince`, Salesforce refuses it
     * (412) when the record was modified after that time. Sent once: the write queue retries.
     */
    update: async (
      sObjectType: SObjectType,
      id: string,
      fields: Record<string, string | null>,
      unmodifiedSince?: string,
    ) => {
      const url = `${API_PATH}/sobjects/${sObjectType}/${encodeURIComponent(id)}`;
      const headers = unmodifiedSince === undefined ? {} : { 'If-Unmodified-Since': unmodifiedSince };
      await call(z.unknown(), { method: 'PATCH', url, data: fields, headers }, { attempts: 1 });
    },
    /**
     * Writes up to COLLECTION_LIMIT records (sObject Collections, allOrNone false: each record on
     * its own); the SaveResults come back in the order sent. Sent once, as a single update is.
     */
    collectionWrite: async (
      method: 'PATCH' | 'POST',
      records: { sObjectType: SObjectType; id?: string; fields: Record<string, string | null> }[],
    ) => {
      const data = {
        allOrNone: false,
        records: records.map(({ sObjectType, id, fields }) => ({
          attributes: { type: sObjectType },
          ...(id && { id }),
          ...fields,
        })),
      };
      return call(saveResultsSchema, { method, url: `${API_PATH}/composite/sobjects`, data }, { attempts: 1 });
    },
    /** The ids deleted between two times (getDeleted), and the time the answer covers up to. */
    deleted: async (sObjectType: SObjectType, start: string, end: string) =>
      call(deletedSchema, { url: `${API_PATH}/sobjects/${sObjectType}/deleted/`, params: { start, end } }),
    /** Every field of an sObject, custom ones included. */
    describe: async (sObjectType: SObjectType): Promise<DescribeField[]> =>
      (await call(describeSchema, { url: `${API_PATH}/sobjects/${sObjectType}/describe` })).fields,
    /** The org's limits; the daily allocation is kept in view. */
    limits: async (options: { attempts?: number; timeout?: number } = {}) => {
      const { timeout, attempts } = options;
      const limits = await call(limitsSchema, { url: `${API_PATH}/limits`, ...(timeout && { timeout }) }, { attempts });
      allocation.fromLimits(limits.DailyApiRequests);
      return limits;
    },
  };
}

/** Builds what the connector's handlers share, once per connector; no I/O. */
export function connectSalesforce(
  settings: ConnectorSettings<typeof salesforceConfig>,
  { context, http }: ConnectTools,
) {
  const { clientId, clientSecret, tokenUrl } = settings.credentials;
  const origin = settings.baseUrl.replace(/\/+$/, '');
  const auth = new ClientCredentials(
    context.name,
    tokenUrl ?? `${origin}/services/oauth2/token`,
    clientId,
    clientSecret,
    context.now,
  );
  const client = http({ baseURL: origin, auth });
  const allocation = new DailyAllocation(context.name, settings.dailyReserve, context.now);
  const base = resolveMapping({
    fieldMap: settings.fieldMap,
    stateAndCountryPicklists: settings.stateAndCountryPicklists,
  });
  const now = context.now ?? Date.now;

  // Custom fields follow the config in force; each joins the objects whose describe lists it.
  let described: { at: number; fields: Promise<Record<SObjectType, DescribeField[]>> } | undefined;
  let built = { key: '', mapping: base };
  const describeBoth = () => {
    if (!described || now() - described.at > DESCRIBE_TTL_MS) {
      const fields = Promise.all(SOBJECT_TYPES.map((type) => api.describe(type))).then(
        ([Account = [], Contact = []]) => ({ Account, Contact }),
      );
      described = { at: now(), fields };
      fields.catch(() => (described = undefined));
    }
    return described.fields;
  };
  const mappingNow = async (): Promise<SalesforceMapping> => {
    const custom = context.customFields?.('contact') ?? [];
    if (custom.length === 0) return base;
    const key = custom.join(',');
    if (key !== built.key) {
      const fields = await describeBoth();
      const on = (type: SObjectType) => custom.filter((name) => fields[type].some((field) => field.name === name));
      built = { key, mapping: withCustomFields(base, { Account: on('Account'), Contact: on('Contact') }) };
    }
    return built.mapping;
  };
  const api = salesforceApi(client, context.name, allocation, mappingNow, settings.fieldHistory);
  return {
    name: context.name,
    api,
    allocation,
    mappingNow,
    base,
    idempotencyField: settings.idempotencyField,
    now,
  };
}

export type SalesforceSession = ReturnType<typeof connectSalesforce>;
