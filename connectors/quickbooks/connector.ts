/**
 * The QuickBooks Online accounting connector on the kit: Customers as customers, Vendors as
 * vendors, Accounts of AccountType Bank as bank accounts, of one company (realm).
 */
import { z } from 'zod';
import type { Account, FieldValue } from '../../src/core/model';
import { defineConnector, type ConnectorContext, type EntityDefinition } from '../kit/define';
import { InvalidRequestError, InvalidResponseError, NotFoundError, PreconditionFailedError } from '../kit/errors';
import { parseRequest } from '../kit/parse';
import { longestWord } from '../kit/search';
import type { BatchItemResult, Connector } from '../kit/types';
import type { QboCredentials } from './auth';
import { cursorAfter, isNewAfter, readChangeCursor, writeChangeCursor, type Versioned } from './changes';
import { BATCH_LIMIT, connectQuickBooks, faultError, QUERY_MAX_RESULTS, queryString, type QboSession } from './client';
import { QBO_API_URL, quickbooksConfig } from './config';
import { REFUSED_DOCUMENTS, STARTED_DOCUMENTS, startDocument } from './documents';
import {
  accountToBankAccount,
  bankAccountBody,
  nameBody,
  nameToAccount,
  QBO_ENTITY,
  SUPPORTED_FIELDS,
  type NameKind,
} from './mappers';
import {
  qboAccountSchema,
  qboCustomerSchema,
  qboVendorSchema,
  type QboAccount,
  type QboEntityName,
  type QboName,
} from './schemas';
import { createQboWebhook } from './webhook';

const MINUTE_MS = 60_000;

/** CDC looks back 30 days; a cursor older than this polls by query instead (a day's margin). */
const CDC_LOOKBACK_MS = 29 * 24 * 60 * MINUTE_MS;
/** CDC answers at most 1,000 objects: an answer that full may have left some out. */
const CDC_MAX_OBJECTS = 1000;

/** QBO's ids are whole numbers as text. */
const QBO_ID = { pattern: /^\d{1,20}$/, means: 'a QuickBooks id (digits)' };

/** The Customer and Vendor properties a create's `extra` may carry besides the canonical fields. */
const nameExtraSchema = z.strictObject({
  /**
   * The account number tandem chooses: a vendor's AcctNum (QBO: at most 15 characters). QBO Online
   * keeps no number on customers (AcctNum is QuickBooks Desktop's), so a customer's is not sent.
   */
  number: z.string().max(15).nullish(),
  /** The name of a record created without one (QBO requires a DisplayName); the canonical name wins. */
  DisplayName: z.string().max(500).nullish(),
  CompanyName: z.string().max(100).nullish(),
  GivenName: z.string().max(100).nullish(),
  FamilyName: z.string().max(100).nullish(),
  Notes: z.string().max(2000).nullish(),
});

/** The Account properties a bank account create's `extra` may carry. */
const bankAccountExtraSchema = z.strictObject({
  /** The account number (AcctNum) tandem chooses. */
  number: z.string().max(20).nullish(),
  Name: z.string().max(100).nullish(),
  AccountSubType: z.string().nullish(),
  Description: z.string().max(100).nullish(),
});

/** What one kind is in QBO: its entity, schema, mappers and the records of it among the entity's. */
interface KindSpec<Entity extends Versioned> {
  entity: QboEntityName;
  schema: z.ZodType<Entity>;
  toAccount: (entity: Entity) => Account;
  /** A condition every query of the kind adds (bank accounts: AccountType = 'Bank'). */
  where?: string;
  /** Whether a record of the entity is one of the kind. */
  keep: (entity: Entity) => boolean;
  /** The property a search looks in. */
  nameProperty: string;
  body: (fields: Readonly<Record<string, FieldValue>>, current: Entity | null) => Record<string, unknown>;
}

function nameSpec(kind: NameKind): KindSpec<QboName> {
  return {
    entity: QBO_ENTITY[kind],
    schema: kind === 'customer' ? qboCustomerSchema : qboVendorSchema,
    toAccount: (entity) => nameToAccount(kind, entity),
    keep: () => true,
    nameProperty: 'DisplayName',
    body: (fields, current) => nameBody(kind, fields, current?.BillAddr),
  };
}

const BANK_SPEC: KindSpec<QboAccount> = {
  entity: 'Account',
  schema: qboAccountSchema,
  toAccount: accountToBankAccount,
  where: "AccountType = 'Bank'",
  keep: (account) => account.AccountType === 'Bank',
  nameProperty: 'Name',
  body: (fields) => bankAccountBody(fields),
};

/** `where` of a query: the kind's condition and the others, joined by `and` (QBO has no `or`). */
function where(...conditions: (string | undefined)[]): string {
  const present = conditions.filter((condition): condition is string => condition !== undefined);
  return present.length === 0 ? '' : `where ${present.join(' and ')}`;
}

/** Every entity of a kind changes the same way: the handlers shared by customers, vendors and bank accounts. */
function kindEntity<Entity extends Versioned>(
  spec: KindSpec<Entity>,
  kind: 'customer' | 'vendor' | 'bankAccount',
): EntityDefinition<QboSession> {
  const readOne = async ({ api }: QboSession, id: string) => {
    const entity = await api.read(spec.entity, spec.schema, id);
    return entity !== null && spec.keep(entity) ? entity : null;
  };
  const readMany = async ({ api }: QboSession, ids: readonly string[]) =>
    (
      await api.query(
        spec.entity,
        spec.schema,
        `${where(spec.where, `Id in (${ids.map(queryString).join(', ')})`, 'Active in (true, false)')} maxresults ${QUERY_MAX_RESULTS}`,
      )
    ).filter(spec.keep);
  /** The sparse body of an update: the current record's Id and SyncToken (refused when stale), and the fields. */
  const updateBody = (current: Entity, fields: Readonly<Record<string, FieldValue>>, ifMatch?: string) => {
    if (ifMatch !== undefined && ifMatch !== current.SyncToken)
      throw new PreconditionFailedError(
        `quickbooks: ${kind} ${current.Id} is at SyncToken ${current.SyncToken}, the write was planned against ${ifMatch}`,
      );
    return { Id: current.Id, SyncToken: current.SyncToken, ...spec.body(fields, current) };
  };

  return {
    fields: () => SUPPORTED_FIELDS[kind],
    id: QBO_ID,
    // A record a webhook told was merged away reads as merged into its survivor (merges.ts).
    get: async (session, id) => {
      const merged = session.merges.mergedRecord(kind, id);
      if (merged !== null) return merged;
      const entity = await readOne(session, id);
      return entity && spec.toAccount(entity);
    },
    batchGet: async (session, ids) => {
      const merged = ids.flatMap((id) => session.merges.mergedRecord(kind, id) ?? []);
      const rest = ids.filter((id) => session.merges.survivorOf(kind, id) === undefined);
      return [...merged, ...(rest.length === 0 ? [] : (await readMany(session, rest)).map(spec.toAccount))];
    },

    // Change data capture while the cursor is within its 30 days and its answer is not full; the
    // query endpoint by LastUpdatedTime otherwise (a first poll, a long pause, a burst).
    async *listChanged(session, cursor) {
      const { api, name, pageSize } = session;
      const from = readChangeCursor(cursor, name);
      if (from !== null && Date.now() - Date.parse(from.since) < CDC_LOOKBACK_MS) {
        const { records, deleted } = await api.changes(spec.entity, spec.schema, from.since);
        if (records.length + deleted.length < CDC_MAX_OBJECTS) {
          const kept = records.filter(spec.keep);
          const fresh = kept.filter((record) => isNewAfter(from, record));
          // A deletion moves the cursor like a change, so that the next poll does not report it again.
          const tombstones = deleted.flatMap(({ Id, LastUpdatedTime }) =>
            LastUpdatedTime === undefined ? [] : [{ Id, SyncToken: 'deleted', MetaData: { LastUpdatedTime } }],
          );
          const newlyDeleted = deleted
            .filter(
              ({ Id, LastUpdatedTime }) =>
                LastUpdatedTime === undefined ||
                isNewAfter(from, { Id, SyncToken: 'deleted', MetaData: { LastUpdatedTime } }),
            )
            .map(({ Id }) => Id);
          // A deleted name a webhook told was merged is handed on as merged, not as deleted.
          const mergedAway = newlyDeleted.flatMap((id) => session.merges.mergedRecord(kind, id) ?? []);
          const gone = newlyDeleted.filter((id) => session.merges.survivorOf(kind, id) === undefined);
          yield {
            records: [...fresh.map(spec.toAccount), ...mergedAway],
            ...(gone.length > 0 && kind !== 'bankAccount' ? { deleted: gone } : {}),
            cursor: writeChangeCursor(cursorAfter(from, [...kept, ...tombstones])),
          };
          return;
        }
      }
      let current = from;
      const since = from === null ? undefined : `MetaData.LastUpdatedTime >= ${queryString(from.since)}`;
      for (let start = 1; ; start += pageSize) {
        const page = await api.query(
          spec.entity,
          spec.schema,
          `${where(spec.where, since, 'Active in (true, false)')} orderby MetaData.LastUpdatedTime startposition ${start} maxresults ${pageSize}`,
        );
        const kept = page.filter(spec.keep);
        const fresh = kept.filter((record) => isNewAfter(from, record));
        current = cursorAfter(current, kept);
        yield { records: fresh.map(spec.toAccount), cursor: writeChangeCursor(current) };
        if (page.length < pageSize) return;
      }
    },

    // The longest word in DisplayName (Name for accounts) with like '%word%'; the kit keeps the records holding every word.
    search: async ({ api }, text, limit) => {
      const word = longestWord(text).replace(/%/g, '');
      const pattern = queryString(`%${word}%`);
      const found = await api.query(
        spec.entity,
        spec.schema,
        `${where(spec.where, `${spec.nameProperty} like ${pattern}`)} maxresults ${Math.min(QUERY_MAX_RESULTS, limit)}`,
      );
      return found.filter(spec.keep).map(spec.toAccount);
    },

    async update(session, { id, fields, ifMatch }) {
      const current = await readOne(session, id);
      if (current === null) throw new NotFoundError(`quickbooks: ${kind} ${id} does not exist`);
      const body = updateBody(current, fields, ifMatch);
      if (Object.keys(body).length === 2) return spec.toAccount(current);
      return spec.toAccount(await session.api.update(spec.entity, spec.schema, body));
    },

    // One query reads the SyncTokens, one batch request writes them all; each item fails on its own.
    async batchUpdate(session, updates) {
      const currents = new Map(
        (
          await readMany(
            session,
            updates.map(({ id }) => id),
          )
        ).map((entity) => [entity.Id, entity]),
      );
      const results = new Map<string, BatchItemResult>();
      const sent: { id: string; body: Record<string, unknown> }[] = [];
      for (const { id, fields, ifMatch } of updates) {
        const current = currents.get(id);
        try {
          if (current === undefined) throw new NotFoundError(`quickbooks: ${kind} ${id} does not exist`);
          sent.push({ id, body: updateBody(current, fields, ifMatch) });
        } catch (error) {
          if (!(
            error instanceof InvalidRequestError ||
            error instanceof NotFoundError ||
            error instanceof PreconditionFailedError
          ))
            throw error;
          results.set(id, { id, ok: false, error });
        }
      }
      if (sent.length > 0) {
        const answers = await session.api.updateMany(
          spec.entity,
          spec.schema,
          sent.map(({ body }) => body),
        );
        const byBatchId = new Map(answers.map((answer) => [answer.bId, answer]));
        sent.forEach(({ id, body }, index) => {
          const answer = byBatchId.get(String(index));
          const what = `quickbooks: updating ${kind} ${id}`;
          const displayName = typeof body.DisplayName === 'string' ? body.DisplayName : undefined;
          if (answer?.entity !== undefined) results.set(id, { id, ok: true, record: spec.toAccount(answer.entity) });
          else if (answer?.fault !== undefined)
            results.set(id, {
              id,
              ok: false,
              error: faultError(answer.fault, what, displayName) ?? new InvalidResponseError(`${what}: an empty Fault`),
            });
        });
      }
      return updates.flatMap(({ id }) => results.get(id) ?? []);
    },

    async create({ api, name }, fields, { idempotencyKey, extra }) {
      if (kind === 'bankAccount') {
        const { number, ...properties } = parseRequest(bankAccountExtraSchema, extra ?? {}, `${name}: create options`);
        const body = {
          ...withoutNull(properties),
          ...bankAccountBody({ name: properties.Name ?? null, ...fields }),
          AccountType: 'Bank',
          ...(number ? { AcctNum: number } : {}),
        };
        return spec.toAccount(await api.create(spec.entity, spec.schema, body, idempotencyKey));
      }
      const { number, ...properties } = parseRequest(nameExtraSchema, extra ?? {}, `${name}: create options`);
      const named = fields.name ?? properties.DisplayName ?? null;
      const body = {
        ...withoutNull(properties),
        ...(kind === 'vendor' && number ? { AcctNum: number } : {}),
        // The company name starts as the display name; QBO prints it on invoices.
        CompanyName: properties.CompanyName ?? named,
        ...spec.body({ ...fields, name: named }, null),
      };
      return spec.toAccount(await api.create(spec.entity, spec.schema, withoutNull(body), idempotencyKey));
    },
  };
}

function withoutNull(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== null && value !== undefined));
}

/** The QuickBooks Online connector, as the registry lists it. */
export const quickbooks = defineConnector({
  name: 'quickbooks',
  side: 'accounting',
  config: quickbooksConfig,
  secrets: ['clientSecret', 'refreshToken', 'webhookVerifierToken'],
  // Per realm and app: 500 requests a minute, 10 a second, 10 in flight; batch requests also
  // count against 40 a minute (client.ts). A 429 asks to wait 60 s, which goes back to the queue.
  // https://developer.intuit.com/app/developer/qbo/docs/learn/limits-and-throttles
  limits: {
    concurrency: 10,
    requests: [
      { max: 500, perMs: MINUTE_MS },
      { max: 10, perMs: 1000 },
    ],
    maxWaitMs: MINUTE_MS,
    batchSize: { read: 100, write: BATCH_LIMIT },
  },
  connect: connectQuickBooks,
  entities: {
    customer: kindEntity(nameSpec('customer'), 'customer'),
    vendor: kindEntity(nameSpec('vendor'), 'vendor'),
    bankAccount: kindEntity(BANK_SPEC, 'bankAccount'),
  },
  documents: {
    types: STARTED_DOCUMENTS,
    start: ({ api }, type, input) => startDocument(api, type, input),
    refused: REFUSED_DOCUMENTS,
  },
  webhook: (session) => session.webhook && createQboWebhook(session.webhook),
  // Webhooks are set up on the app's page in Intuit's developer portal: there is no `subscribe`.
  health: ({ api }) => api.query('Account', qboAccountSchema, `${where(BANK_SPEC.where)} maxresults 1`),
});

/** Options of createQuickBooksConnector: the build context, the company and the app's credentials. */
export interface QuickBooksConnectorOptions extends ConnectorContext {
  /** The API base without the realm; defaults to https://quickbooks.api.intuit.com/v3/company. */
  baseUrl?: string;
  realmId: string;
  /** The app's credentials; `onRefreshToken` receives each new refresh token (else `saveSecret` does). */
  auth: QboCredentials & { onRefreshToken?: (newRefreshToken: string) => void | Promise<void> };
  /** Enables webhooks with the app's verifier token. */
  webhook?: { verifierToken: string };
  pageSize?: number;
}

/** Creates a QuickBooks connector without a config file (tests, scripts). No I/O until a method is called. */
export function createQuickBooksConnector(options: QuickBooksConnectorOptions): Connector {
  const { baseUrl = QBO_API_URL, realmId, auth, webhook, pageSize = QUERY_MAX_RESULTS, ...context } = options;
  const { onRefreshToken, ...credentials } = auth;
  const settings = {
    baseUrl,
    realmId,
    pageSize,
    credentials: { ...credentials, webhookVerifierToken: webhook?.verifierToken },
  };
  const saveSecret = onRefreshToken ? async (_name: string, token: string) => await onRefreshToken(token) : undefined;
  return quickbooks.create(settings, { ...context, saveSecret: saveSecret ?? context.saveSecret });
}
