/**
 * The Tryton accounting connector on the kit: the customers and vendors (parties by category) and
 * bank accounts of one trytond 6.0 database, and sales and purchases started for them.
 */
import type { AccountKind } from '../../src/core/model';
import { defineConnector, type ConnectorSettings, type ConnectTools, type EntityDefinition } from '../kit/define';
import { InvalidResponseError, NotFoundError, PreconditionFailedError } from '../kit/errors';
import { parseRequest } from '../kit/parse';
import { DOCUMENT_TYPES, type BatchItemResult, type RecordUpdate } from '../kit/types';
import { trytonConfig } from './config';
import { changedPages } from './cursor';
import { startDocument } from './documents';
import { checkFields, SUPPORTED_FIELDS } from './mappers';
import { TrytonRpc } from './rpc';
import {
  bankAccountTable,
  changedSince,
  createExtraSchema,
  parseIds,
  partyTable,
  TRYTON_ID,
  type AccountTable,
} from './tables';

function connect(settings: ConnectorSettings<typeof trytonConfig>, { context, http }: ConnectTools) {
  const rpc = new TrytonRpc(context.name, settings, http, context.now);
  // Asked at every read and write: the config in force may change while the connector runs.
  const custom = (kind: AccountKind) => () => context.customFields?.(kind) ?? [];
  return {
    name: context.name,
    rpc,
    pageSize: settings.pageSize,
    customer: partyTable(rpc, settings, 'customer', custom('customer')),
    vendor: partyTable(rpc, settings, 'vendor', custom('vendor')),
    bankAccount: bankAccountTable(rpc, custom('bankAccount')),
  };
}

/** What the handlers share: the database's models, and how each account kind is stored. */
type TrytonSession = ReturnType<typeof connect>;

/** Records per read or write call: the kit's batch size, so an `in` domain stays small. */
const BATCH_SIZE = 200;

/** The records of `ids` (at most BATCH_SIZE) that exist and are of the table's kind. */
async function byIds<Data extends { id: number }>(table: AccountTable<Data>, ids: number[]): Promise<Data[]> {
  return ids.length === 0 ? [] : await table.search([['id', 'in', ids]]);
}

/**
 * Writes updates of one kind in one `write(records, values, records2, values2, ...)` call, one
 * transaction. `ifMatch` is compared with the version read just before, and the rows' `_timestamp`
 * makes trytond refuse the call if one changed in between (README.md, "Change detection and versions").
 */
async function writeAll<Data extends { id: number; _timestamp?: string | null }>(
  { rpc }: TrytonSession,
  kind: AccountKind,
  table: AccountTable<Data>,
  updates: RecordUpdate[],
): Promise<BatchItemResult[]> {
  for (const { fields } of updates) checkFields(kind, fields);
  const found = await byIds(table, parseIds(updates.map((update) => update.id)));
  const failed = new Map<string, Error>();
  const writes: unknown[] = [];
  const timestamps: Record<string, string> = {};
  for (const { id, fields, ifMatch } of updates) {
    const data = found.find((row) => String(row.id) === id);
    const version = data && table.toAccount(data).version;
    if (data === undefined) failed.set(id, new NotFoundError(`tryton: ${kind} ${id} not found`));
    else if (ifMatch !== undefined && ifMatch !== version)
      failed.set(
        id,
        new PreconditionFailedError(`tryton: ${kind} ${id} changed since version ${ifMatch} (now ${version})`),
      );
    else {
      const values = await table.plan(data, fields);
      if (Object.keys(values).length === 0) continue;
      writes.push([data.id], values);
      if (data._timestamp) timestamps[`${table.model},${data.id}`] = data._timestamp;
    }
  }
  if (writes.length > 0) await rpc.model(table.model, 'write', writes, { _timestamp: timestamps });
  const written = await byIds(table, parseIds(updates.map((update) => update.id).filter((id) => !failed.has(id))));
  return updates.map(({ id }): BatchItemResult => {
    const data = written.find((row) => String(row.id) === id);
    if (data) return { id, ok: true, record: table.toAccount(data) };
    const error = failed.get(id) ?? new NotFoundError(`tryton: ${kind} ${id} disappeared while being written`);
    return { id, ok: false, error };
  });
}

/** The handlers of an account kind, on the table that stores it. */
function accountEntity<Data extends { id: number; _timestamp?: string | null }>(
  kind: AccountKind,
  tableOf: (session: TrytonSession) => AccountTable<Data>,
): EntityDefinition<TrytonSession> {
  const accounts = (table: AccountTable<Data>, rows: Data[]) => rows.map((data) => table.toAccount(data));
  const read = async (session: TrytonSession, ids: number[]) =>
    accounts(tableOf(session), await byIds(tableOf(session), ids));
  const batchUpdate = (session: TrytonSession, updates: RecordUpdate[]) =>
    writeAll(session, kind, tableOf(session), updates);
  return {
    fields: () => SUPPORTED_FIELDS[kind],
    // fields_get of the record's model (and of those canonical fields are read from); the kit keeps it.
    describe: (session) => tableOf(session).describe(),
    id: { pattern: TRYTON_ID, means: 'a Tryton record id (a positive whole number)' },
    get: async (session, id) => (await read(session, parseIds([id])))[0] ?? null,
    batchGet: (session, ids) => read(session, parseIds(ids)),
    search: async (session, text, limit) => accounts(tableOf(session), await tableOf(session).find(text, limit)),
    listChanged: (session, cursor) => {
      const table = tableOf(session);
      return changedPages(cursor, session.pageSize, async (since) =>
        accounts(table, await table.search(since === null ? [] : changedSince(since, table.children))),
      );
    },

    /** Idempotent by `extra.number` (a party's code) or by IBAN (a bank account's). */
    async create(session, fields, { extra }) {
      checkFields(kind, fields);
      const options = parseRequest(createExtraSchema, extra ?? {}, `${session.name}: create options`);
      const id = await tableOf(session).create(fields, options);
      const [created] = await read(session, [id]);
      if (created === undefined) throw new InvalidResponseError(`tryton: ${kind} ${id} is gone after being created`);
      return created;
    },
    async update(session, update) {
      const [result] = await batchUpdate(session, [update]);
      if (result?.ok) return result.record;
      throw result?.error ?? new InvalidResponseError(`tryton: writing ${kind} ${update.id} answered nothing`);
    },
    batchUpdate,
  };
}

/** The Tryton connector, as the registry lists it. */
export const tryton = defineConnector({
  name: 'tryton',
  side: 'accounting',
  config: trytonConfig,
  secrets: ['password'],
  // trytond publishes no request limits (it throttles only failed logins, `[session] max_attempt`):
  // the config's concurrency and rateLimit are the ones to keep.
  limits: { batchSize: { read: BATCH_SIZE, write: BATCH_SIZE } },
  connect,
  entities: {
    customer: accountEntity('customer', (session) => session.customer),
    vendor: accountEntity('vendor', (session) => session.vendor),
    bankAccount: accountEntity('bankAccount', (session) => session.bankAccount),
  },
  documents: {
    types: DOCUMENT_TYPES,
    start: (session, type, input) =>
      startDocument(session.rpc, async (kind, id) => (await byIds(session[kind], [id]))[0], type, input),
  },
  // The user's preferences: the smallest authenticated call, and it proves the database too.
  health: ({ rpc }) => rpc.call('model.res.user.get_preferences', [true, {}]),
  close: ({ rpc }) => rpc.logout(),
});
