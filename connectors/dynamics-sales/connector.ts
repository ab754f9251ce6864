/**
 * The Dynamics 365 Sales CRM connector on the kit: Dataverse accounts as company contacts and
 * contacts (parentcustomerid -> account) as person contacts, through the Web API (OData v4,
 * /api/data/v9.2). Changes are polled with change tracking (Prefer: odata.track-changes, delta
 * links; deleted rows come back as $deletedEntity); updates carry If-Match with the row's etag.
 * No webhooks.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Contact, FieldValue } from '../../src/core/model';
import { defineConnector, type ConnectorContext, type ConnectorSettings } from '../kit/define';
import { InvalidRequestError, orNullIfNotFound } from '../kit/errors';
import type { HttpClient } from '../kit/http';
import { parseJsonCursor, parseRequest } from '../kit/parse';
import { longestWord } from '../kit/search';
import type { ChangedPage, Connector } from '../kit/types';
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

/** The Dynamics 365 Sales connector, as the registry lists it. */
export const dynamicsSales = defineConnector({
  name: 'dynamics-sales',
  side: 'crm',
  config: dynamicsSalesConfig,
  secrets: ['clientSecret'],
  // Service protection limits, per user and web server: 6,000 requests in a sliding five minutes
  // and 52 at once. https://learn.microsoft.com/power-apps/developer/data-platform/api-limits
  limits: { requests: { max: 6000, perMs: 300_000 }, concurrency: 52 },
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
