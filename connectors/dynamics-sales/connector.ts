/**
 * The Dynamics 365 Sales CRM connector on the kit: Dataverse accounts as company contacts and
 * contacts (parentcustomerid -> account) as person contacts, through the Web API (OData v4,
 * /api/data/v9.2). Changes are polled with change tracking (Prefer: odata.track-changes, delta
 * links; deleted rows come back as $deletedEntity); updates carry If-Match with the row's etag.
 * No webhooks.
 */
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Contact, FieldValue } from '../../src/core/model';
import { defineConnector, type ConnectorContext, type ConnectorSettings } from '../kit/define';
import { InvalidRequestError, InvalidResponseError, orNullIfNotFound } from '../kit/errors';
import { errorForStatus, type HttpClient } from '../kit/http';
import { parseJsonCursor, parseRequest } from '../kit/parse';
import { longestWord } from '../kit/search';
import type { BatchItemResult, ChangedPage, Connector, RecordUpdate } from '../kit/types';
import { BATCH_MAX_REQUESTS, type BatchAnswer, type BatchPart, decodeBatchResponse, encodeBatch } from './batch';
import { DataverseTokenProvider } from './auth';
import { dynamicsSalesConfig } from './config';
import {
  API_PATH,
  CONTACT_ID,
  DATAVERSE_TABLES,
  type DataverseTable,
  fromContactId,
  TABLES,
  toContactId,
} from './fields';
import {
  columnsToSelect,
  type DataverseMapping,
  resolveMapping,
  searchFilter,
  splitDeltaRows,
  supportedFields,
  toContact,
  toDataverseColumns,
} from './mappers';
import { type DataversePage, pageSchema, rowSchema } from './schemas';

type Settings = ConnectorSettings<typeof dynamicsSalesConfig>;

/** What every handler gets: the Web API client, the mapping, the slot name. */
interface DynamicsSession {
  name: string;
  http: HttpClient;
  mapping: DataverseMapping;
}

/** Asks for lookups' target tables, so a contact's parentcustomerid tells an account from a contact. */
const PREFER_ANNOTATIONS = 'odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname"';

/** The poll cursor: the delta link of each table, null before its first full read. */
const cursorSchema = z.object({ account: z.string().nullable(), contact: z.string().nullable() });

const createExtraSchema = z
  .object({
    /** Which row to create; contacts created from accounts are companies (accounts). */
    type: z.enum(['company', 'person']).default('company'),
    /** For a person: the canonical id of the company (account) it belongs to. */
    companyId: z.string().nullable().optional(),
  })
  .strict();

/**
 * The row id a create with this idempotency key uses: a GUID derived from the key (SHA-256, set as
 * a version 4 layout), so that a retry after a lost response finds the row the first attempt made.
 * The primary id column is valid for create (Microsoft's table pages), which is what makes this work.
 */
export function rowIdFor(idempotencyKey: string): string {
  const hex = createHash('sha256').update(`tandem:${idempotencyKey}`).digest('hex');
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function parseId(name: string, id: string): { table: DataverseTable; rowId: string } {
  const parsed = fromContactId(id);
  if (!parsed)
    throw new InvalidRequestError(`${name}: ${id} is not a Dynamics contact id (company-<guid> or person-<guid>)`);
  return parsed;
}

const rowPath = (table: DataverseTable, rowId: string) => `${API_PATH}/${TABLES[table].entitySet}(${rowId})`;

/** One row by id, or null when Dataverse says it does not exist. */
async function readRow(session: DynamicsSession, table: DataverseTable, rowId: string): Promise<Contact | null> {
  const row = await orNullIfNotFound(
    session.http.json(rowSchema, {
      url: rowPath(table, rowId),
      params: { $select: columnsToSelect(table, session.mapping).join(',') },
      headers: { Prefer: PREFER_ANNOTATIONS },
    }),
  );
  return row && toContact(table, row, session.mapping);
}

/**
 * Pages of one table's changes: from its delta link, or (null) a full read that ends in one.
 * Every page but the last keeps the previous link as the cursor: only the last carries the new one.
 */
async function* tableChanges(
  session: DynamicsSession,
  table: DataverseTable,
  deltaLink: string | null,
): AsyncGenerator<{ records: Contact[]; deleted: string[]; deltaLink: string | null }> {
  let url: string | undefined =
    deltaLink ?? `${API_PATH}/${TABLES[table].entitySet}?$select=${columnsToSelect(table, session.mapping).join(',')}`;
  while (url !== undefined) {
    const page: DataversePage = await session.http.json(pageSchema, {
      url,
      headers: { Prefer: `odata.track-changes,${PREFER_ANNOTATIONS}` },
    });
    const { changed, deleted } = splitDeltaRows(page.value);
    const records = changed.map((row) => toContact(table, rowSchema.parse(row), session.mapping));
    yield {
      records,
      deleted: deleted.map((rowId) => toContactId(table, rowId)),
      deltaLink: page['@odata.deltaLink'] ?? deltaLink,
    };
    url = page['@odata.nextLink'];
  }
}

/** The most reads or writes tandem puts in one $batch (Dataverse takes up to 1,000). */
const BATCH_SIZE = 100;

/**
 * Sends one `$batch` and returns its answers in order. `Prefer: odata.continue-on-error` makes
 * Dataverse carry out every request even after one fails, so each item has its own answer.
 */
async function sendBatch(session: DynamicsSession, parts: readonly BatchPart[]): Promise<BatchAnswer[]> {
  if (parts.length > BATCH_MAX_REQUESTS)
    throw new InvalidRequestError(`${session.name}: a $batch holds at most ${BATCH_MAX_REQUESTS} requests`);
  const boundary = `batch_${randomUUID()}`;
  const response = await session.http.request<string>({
    method: 'POST',
    url: `${API_PATH}/$batch`,
    headers: { 'Content-Type': `multipart/mixed; boundary=${boundary}`, Prefer: 'odata.continue-on-error' },
    data: encodeBatch(boundary, parts),
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
  });
  const contentType = response.headers['content-type'] as string | undefined;
  const answers = decodeBatchResponse(contentType, response.data);
  if (answers.length !== parts.length)
    throw new InvalidResponseError(`${session.name}: $batch answered ${answers.length} of ${parts.length} requests`);
  return answers;
}

/** The error of a failed batch answer, as the kit names a status (the Dataverse message kept). */
function answerError(session: DynamicsSession, what: string, answer: BatchAnswer): Error {
  const message = /"message"\s*:\s*"([^"]*)"/.exec(JSON.stringify(answer.body ?? ''))?.[1] ?? '';
  return errorForStatus(
    answer.status,
    `${session.name}: ${what}: ${answer.status} ${message}`.trim(),
    answer.headers['retry-after'],
  );
}

/** The table all ids of a batch share (the kit groups them by batchKey). */
function tableOfBatch(session: DynamicsSession, ids: readonly string[]): DataverseTable {
  const tables = new Set(ids.map((id) => parseId(session.name, id).table));
  const [table] = tables;
  if (tables.size !== 1 || table === undefined)
    throw new InvalidRequestError(`${session.name}: a batch reads one table`);
  return table;
}

/** The Dynamics 365 Sales connector, as the registry lists it. */
export const dynamicsSales = defineConnector({
  name: 'dynamics-sales',
  side: 'crm',
  config: dynamicsSalesConfig,
  secrets: ['clientSecret'],
  // Service protection limits, per user and web server: 6,000 requests in a sliding five minutes
  // and 52 at once. https://learn.microsoft.com/power-apps/developer/data-platform/api-limits
  limits: {
    requests: { max: 6000, perMs: 300_000 },
    concurrency: 52,
    batchSize: { read: BATCH_SIZE, write: BATCH_SIZE },
  },
  connect: (settings: Settings, { http, context }): DynamicsSession => {
    const baseUrl = settings.baseUrl.replace(/\/+$/, '');
    const auth = new DataverseTokenProvider(
      { ...settings.credentials, scope: settings.credentials.scope ?? `${baseUrl}/.default` },
      context.now === undefined ? {} : { now: context.now },
    );
    return {
      name: context.name,
      http: http({ baseURL: baseUrl, auth }),
      mapping: resolveMapping(settings.fieldMap),
    };
  },
  entities: {
    contact: {
      fields: (session) => supportedFields(session.mapping),
      id: { pattern: CONTACT_ID, means: 'a Dynamics contact id (company-<accountid> or person-<contactid>)' },

      get: (session, id) => {
        const { table, rowId } = parseId(session.name, id);
        return readRow(session, table, rowId);
      },

      // Accounts and contacts are read and written in separate batches.
      batchKey: (id) => fromContactId(id)?.table ?? '',

      // One $batch of GETs; a row that is gone (404) is left out.
      async batchGet(session, ids) {
        const table = tableOfBatch(session, ids);
        const select = columnsToSelect(table, session.mapping).join(',');
        const answers = await sendBatch(
          session,
          ids.map((id) => ({
            method: 'GET',
            url: `${rowPath(table, parseId(session.name, id).rowId)}?$select=${select}`,
            headers: { Accept: 'application/json', Prefer: PREFER_ANNOTATIONS },
          })),
        );
        return answers.flatMap((answer, index) => {
          if (answer.status === 404) return [];
          if (answer.status !== 200) throw answerError(session, `batch read of ${ids[index] ?? ''}`, answer);
          return [toContact(table, rowSchema.parse(answer.body), session.mapping)];
        });
      },

      // One $batch of PATCHes, each with its If-Match; each item succeeds or fails on its own.
      async batchUpdate(session, updates: RecordUpdate[]): Promise<BatchItemResult[]> {
        const table = tableOfBatch(
          session,
          updates.map((update) => update.id),
        );
        const select = columnsToSelect(table, session.mapping).join(',');
        const answers = await sendBatch(
          session,
          updates.map(({ id, fields, ifMatch }) => ({
            method: 'PATCH',
            url: `${rowPath(table, parseId(session.name, id).rowId)}?$select=${select}`,
            headers: {
              Accept: 'application/json',
              'If-Match': ifMatch ?? '*',
              Prefer: `return=representation,${PREFER_ANNOTATIONS}`,
            },
            body: toDataverseColumns(table, fields, session.mapping),
          })),
        );
        return updates.map(({ id }, index): BatchItemResult => {
          const answer = answers[index];
          if (answer === undefined)
            return { id, ok: false, error: new InvalidResponseError(`${session.name}: no answer for ${id}`) };
          if (answer.status < 200 || answer.status > 299)
            return { id, ok: false, error: answerError(session, `batch update of ${id}`, answer) };
          return { id, ok: true, record: toContact(table, rowSchema.parse(answer.body), session.mapping) };
        });
      },

      // Accounts first, then contacts, each from its delta link; the cursor holds both links.
      async *listChanged(session, cursor): AsyncGenerator<ChangedPage> {
        const links = parseJsonCursor(cursorSchema, cursor, `${session.name}: poll`) ?? {
          account: null,
          contact: null,
        };
        for (const table of DATAVERSE_TABLES)
          for await (const page of tableChanges(session, table, links[table])) {
            links[table] = page.deltaLink;
            yield { records: page.records, deleted: page.deleted, cursor: JSON.stringify(links) };
          }
      },

      // contains() of the longest word on the name and e-mail columns of both tables; the kit keeps the rows holding every word.
      async search(session, text, limit) {
        const word = longestWord(text);
        const found = await Promise.all(
          DATAVERSE_TABLES.map(async (table) => {
            const filter = searchFilter(table, word, session.mapping);
            if (filter === '') return [];
            const page = await session.http.json(pageSchema, {
              url: `${API_PATH}/${TABLES[table].entitySet}`,
              params: { $select: columnsToSelect(table, session.mapping).join(','), $filter: filter, $top: limit },
              headers: { Prefer: PREFER_ANNOTATIONS },
            });
            return page.value.map((row) => toContact(table, rowSchema.parse(row), session.mapping));
          }),
        );
        return found.flat();
      },

      // If-Match: the planned etag, or * so that a PATCH of a row that is gone is a 404, never an upsert.
      async update(session, { id, fields, ifMatch }) {
        const { table, rowId } = parseId(session.name, id);
        const row = await session.http.json(rowSchema, {
          method: 'PATCH',
          url: rowPath(table, rowId),
          params: { $select: columnsToSelect(table, session.mapping).join(',') },
          headers: { 'If-Match': ifMatch ?? '*', Prefer: `return=representation,${PREFER_ANNOTATIONS}` },
          data: toDataverseColumns(table, fields, session.mapping),
        });
        return toContact(table, row, session.mapping);
      },

      // The row id comes from the idempotency key: a retry finds the row a lost response created.
      async create(session, fields: Record<string, FieldValue>, { idempotencyKey, extra }) {
        const { type, companyId } = parseRequest(createExtraSchema, extra ?? {}, `${session.name}: create options`);
        const table: DataverseTable = type === 'company' ? 'account' : 'contact';
        const rowId = rowIdFor(idempotencyKey);
        const previous = await readRow(session, table, rowId);
        if (previous) return previous;
        if (companyId && parseId(session.name, companyId).table !== 'account')
          throw new InvalidRequestError(`${session.name}: companyId ${companyId} is not a company`);
        const columns = Object.entries(toDataverseColumns(table, fields, session.mapping, companyId)).filter(
          ([, value]) => value !== null,
        );
        const row = await session.http.json(rowSchema, {
          method: 'POST',
          url: `${API_PATH}/${TABLES[table].entitySet}`,
          params: { $select: columnsToSelect(table, session.mapping).join(',') },
          headers: { Prefer: `return=representation,${PREFER_ANNOTATIONS}` },
          data: { [TABLES[table].idColumn]: rowId, ...Object.fromEntries(columns) },
        });
        return toContact(table, row, session.mapping);
      },
    },
  },
  health: ({ http }) =>
    http.request({ url: `${API_PATH}/accounts`, params: { $top: 1, $select: 'accountid' } }, { attempts: 1 }),
});

/** Options of createDynamicsSalesConnector: the build context, the credentials and the optional keys. */
export type DynamicsSalesConnectorOptions = ConnectorContext &
  Settings['credentials'] & { baseUrl: string; fieldMap?: Settings['fieldMap'] };

/** Creates a Dynamics 365 Sales connector without a config file (tests, scripts). No I/O until a method is called. */
export function createDynamicsSalesConnector(options: DynamicsSalesConnectorOptions): Connector {
  const { tokenUrl, clientId, clientSecret, scope, baseUrl, fieldMap, ...context } = options;
  const settings = dynamicsSalesConfig.parse({ credentials: { tokenUrl, clientId, clientSecret, scope }, fieldMap });
  return dynamicsSales.create({ ...settings, baseUrl }, context);
}
