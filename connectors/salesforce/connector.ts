/**
 * The Salesforce CRM connector on the kit: Accounts and Contacts as canonical contacts, polled
 * with SOQL on SystemModstamp and getDeleted, read and written through sObject Rows and sObject
 * Collections of the REST API, within the org's daily API allocation. No webhooks: polling.
 */
import { z } from 'zod';
import type { Contact } from '../../src/core/model';
import { defineConnector, type ConnectorContext, type ConnectorSettings } from '../kit/define';
import { InvalidRequestError, NotFoundError, PreconditionFailedError } from '../kit/errors';
import { parseRequest } from '../kit/parse';
import { longestWord } from '../kit/search';
import type { BatchItemResult, Connector, RecordUpdate } from '../kit/types';
import { pollChanges } from './changes';
import { COLLECTION_LIMIT, connectSalesforce, type SalesforceSession } from './client';
import { salesforceConfig } from './config';
import { CONTACT_ID, fromContactId, type SObjectType, SOBJECT_TYPES, sObjectTypeOf } from './fields';
import { describeObjects, millisOf, supportedFields, toSalesforceFields } from './mappers';
import type { SaveResult } from './schemas';
import { soqlContains, soqlString } from './soql';

const DAY_MS = 86_400_000;

const createExtraSchema = z
  .object({
    /** Which record to create; contacts created from accounts are companies (Accounts). */
    type: z.enum(['company', 'person']).default('company'),
    /** For a person: the canonical id of the company (Account) it belongs to. */
    companyId: z.string().nullable().optional(),
  })
  // Any other key is an sObject field written as given (a template's value, say an Account's Type).
  .catchall(z.string().nullable());

/** An sObject field name, as an extra's keys must be. */
const SOBJECT_FIELD = /^[A-Za-z][A-Za-z0-9_]{0,79}$/;

/** The SaveResult errors that mean the record is not there (deleted, or an id of nothing). */
const MISSING = new Set(['ENTITY_IS_DELETED', 'INVALID_CROSS_REFERENCE_KEY', 'NOT_FOUND']);

/** The Salesforce connector, as the registry lists it. */
export const salesforce = defineConnector({
  name: 'salesforce',
  side: 'crm',
  config: salesforceConfig,
  secrets: ['clientSecret'],
  // Every call counts against the org's rolling 24-hour allocation (Enterprise Edition: 100,000
  // plus 1,000 per licence; a lower one is read from /limits and Sforce-Limit-Info, see
  // DailyAllocation), and Salesforce runs at most 25 long requests of an org at once.
  // https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm
  limits: {
    requests: { max: 100_000, perMs: DAY_MS },
    concurrency: 25,
    batchSize: { read: COLLECTION_LIMIT, write: COLLECTION_LIMIT },
  },
  connect: connectSalesforce,
  entities: {
    contact: {
      fields: (session) => supportedFields(session.base),
      // The org's own describes of Account and Contact: custom fields with types, writability and picklist values.
      describe: async ({ api, mappingNow }) => {
        const [Account = [], Contact = []] = await Promise.all(SOBJECT_TYPES.map((type) => api.describe(type)));
        return describeObjects(await mappingNow(), { Account, Contact });
      },
      listChanged: pollChanges,
      // Accounts and Contacts are read in separate collection calls.
      batchKey: (id) => fromContactId(id)?.sObjectType ?? '',
      id: { pattern: CONTACT_ID, means: 'a Salesforce contact id (company-<Account Id> or person-<Contact Id>)' },

      get: ({ name, api }, id) => {
        const { sObjectType, salesforceId } = parseId(name, id);
        return api.get(sObjectType, salesforceId);
      },

      async batchGet({ name, api }, ids) {
        const { sObjectType, items } = batchOf(name, ids, (id) => id);
        return api.batchRead(
          sObjectType,
          items.map((item) => item.salesforceId),
        );
      },

      // SOQL LIKE of the longest word on the fields holding the name, e-mail and VAT no.; the kit
      // keeps the records holding every word. The word is escaped as SOQL documents.
      async search({ api, mappingNow }, text, limit) {
        const pattern = soqlContains(longestWord(text));
        const mapping = await mappingNow();
        const found = await Promise.all(
          SOBJECT_TYPES.map(async (sObjectType) => {
            const held = mapping[sObjectType];
            const names =
              sObjectType === 'Contact' && (held.get('name')?.length ?? 0) > 1 ? ['Name'] : (held.get('name') ?? []);
            const fields = [
              ...new Set([...names, ...(held.get('email') ?? []), ...(held.get('vatRegistrationNo') ?? [])]),
            ];
            if (fields.length === 0) return [];
            const where = fields.map((field) => `${field} LIKE ${pattern}`).join(' OR ');
            const records: Contact[] = [];
            for await (const page of api.find(sObjectType, `WHERE ${where} ORDER BY Name LIMIT ${limit}`))
              records.push(...page);
            return records;
          }),
        );
        return found.flat();
      },

      async create(session, fields, { idempotencyKey, extra }) {
        const { name, api, mappingNow, idempotencyField } = session;
        const { type, companyId, ...given } = parseRequest(createExtraSchema, extra ?? {}, `${name}: create options`);
        const bad = Object.keys(given).find((field) => !SOBJECT_FIELD.test(field));
        if (bad !== undefined)
          throw new InvalidRequestError(`${name}: create option ${bad} is not a Salesforce field name`);
        const sObjectType = sObjectTypeOf(type);
        // A retry after a lost response must find the record the first attempt created.
        const lookup = `WHERE ${idempotencyField} = ${soqlString(idempotencyKey)} LIMIT 1`;
        for await (const [previous] of api.find(sObjectType, lookup)) if (previous) return previous;

        const company = type === 'person' && companyId ? parseId(name, companyId) : null;
        if (company && company.sObjectType !== 'Account')
          throw new InvalidRequestError(`${name}: companyId ${String(companyId)} is not a company`);
        const written = Object.entries(toSalesforceFields(sObjectType, fields, await mappingNow())).filter(
          ([, value]) => value !== null,
        );
        const [result] = await api.collectionWrite('POST', [
          {
            sObjectType,
            fields: {
              ...given,
              ...Object.fromEntries(written),
              [idempotencyField]: idempotencyKey,
              ...(company && { AccountId: company.salesforceId }),
            },
          },
        ]);
        if (!result?.success || !result.id) throw saveError(name, result, 'create');
        const created = await api.get(sObjectType, result.id);
        if (created === null)
          throw new NotFoundError(`${name}: the ${sObjectType} just created (${result.id}) cannot be read`);
        return created;
      },

      async update(session, update) {
        const { name, api, mappingNow } = session;
        const { sObjectType, salesforceId } = parseId(name, update.id);
        const written = toSalesforceFields(sObjectType, update.fields, await mappingNow());
        if (update.ifMatch !== undefined) await refuseStale(session, sObjectType, [update]);
        if (Object.keys(written).length > 0)
          // If-Unmodified-Since is to the second: the precondition above compared to the millisecond.
          await api.update(sObjectType, salesforceId, written, update.ifMatch && httpDateAfter(update.ifMatch));
        const current = await api.get(sObjectType, salesforceId);
        if (current === null) throw new NotFoundError(`${name}: ${update.id} does not exist`);
        return current;
      },

      async batchUpdate(session, updates) {
        const { name, api, mappingNow } = session;
        const { sObjectType, items } = batchOf(name, updates, (update) => update.id);
        const mapping = await mappingNow();
        // sObject Collections take no If-Unmodified-Since: the versions are compared just before the write.
        const stale = await refuseStale(
          session,
          sObjectType,
          updates.filter((update) => update.ifMatch !== undefined),
          false,
        );
        const refused = new Set(stale.map((result) => result.id));
        const writes = items.filter(({ entry }) => !refused.has(entry.id));
        const results =
          writes.length === 0
            ? []
            : await api.collectionWrite(
                'PATCH',
                writes.map(({ entry, salesforceId }) => ({
                  sObjectType,
                  id: salesforceId,
                  fields: toSalesforceFields(sObjectType, entry.fields, mapping),
                })),
              );
        const saved = writes.filter((_write, index) => results[index]?.success === true);
        const records =
          saved.length === 0
            ? []
            : await api.batchRead(
                sObjectType,
                saved.map((write) => write.salesforceId),
              );
        const byId = new Map(records.map((record) => [record.id, record]));
        const written = writes.map(({ entry }, index): BatchItemResult => {
          const result = results[index];
          const record = byId.get(entry.id);
          if (result?.success && record) return { id: entry.id, ok: true, record };
          return {
            id: entry.id,
            ok: false,
            error: result?.success
              ? new NotFoundError(`${name}: ${entry.id} does not exist`)
              : saveError(name, result, 'update'),
          };
        });
        return [...stale, ...written];
      },
    },
  },
  // /limits: cheap, proves the token, and reads the org's daily allocation. Tried once, within 5 s.
  health: ({ api }) => api.limits({ attempts: 1, timeout: 5000 }),
});

/**
 * The updates whose record was modified after the version they were planned against (its
 * LastModifiedDate), read just before the write: refused with PreconditionFailedError (thrown for
 * a single update, returned as results for a batch). Records no longer there are left to the write.
 */
async function refuseStale(
  { name, api }: SalesforceSession,
  sObjectType: SObjectType,
  updates: readonly RecordUpdate[],
  throwIt = true,
): Promise<BatchItemResult[]> {
  if (updates.length === 0) return [];
  const ids = updates.map((update) => parseId(name, update.id).salesforceId);
  const current = await api.lastModified(sObjectType, ids);
  const stale = updates.filter((update, index) => {
    const now = current.get(ids[index] ?? '');
    return now !== undefined && millisOf(now) !== millisOf(update.ifMatch);
  });
  const results = stale.map((update): BatchItemResult => ({
    id: update.id,
    ok: false,
    error: new PreconditionFailedError(`${name}: ${update.id} changed since version ${update.ifMatch ?? ''}`),
  }));
  if (throwIt && results[0] && !results[0].ok) throw results[0].error;
  return results;
}

/** An HTTP date at or after a version's time: If-Unmodified-Since has whole seconds, and must not refuse the version itself. */
function httpDateAfter(version: string): string {
  return new Date(Math.ceil(millisOf(version) / 1000) * 1000).toUTCString();
}

/** A failed SaveResult as the named error: a missing record, or a refused write. */
function saveError(name: string, result: SaveResult | undefined, verb: string): Error {
  const [first] = result?.errors ?? [];
  const message =
    `${name}: ${verb} refused: ${first?.statusCode ?? first?.errorCode ?? 'no result'} ${first?.message ?? ''}`.trim();
  return MISSING.has(first?.statusCode ?? first?.errorCode ?? '')
    ? new NotFoundError(message)
    : new InvalidRequestError(message);
}

type SalesforceSettings = ConnectorSettings<typeof salesforceConfig>;

/** Options of createSalesforceConnector: the build context, the credentials, and the config's optional keys. */
export type SalesforceConnectorOptions = ConnectorContext &
  SalesforceSettings['credentials'] &
  Partial<Omit<SalesforceSettings, 'credentials'>> & { baseUrl: string };

/** Creates a Salesforce connector without a config file (tests, scripts). No I/O until a method is called. */
export function createSalesforceConnector(options: SalesforceConnectorOptions): Connector {
  const {
    clientId,
    clientSecret,
    tokenUrl,
    baseUrl,
    fieldMap,
    stateAndCountryPicklists,
    fieldHistory,
    idempotencyField,
    dailyReserve,
    ...context
  } = options;
  const settings = salesforceConfig.parse({
    credentials: { clientId, clientSecret, tokenUrl },
    fieldMap,
    stateAndCountryPicklists,
    fieldHistory,
    idempotencyField,
    dailyReserve,
  });
  return salesforce.create({ ...settings, baseUrl }, context);
}

function parseId(name: string, id: string): { sObjectType: SObjectType; salesforceId: string } {
  const parsed = fromContactId(id);
  if (!parsed)
    throw new InvalidRequestError(`${name}: ${id} is not a Salesforce contact id (company-<id> or person-<id>)`);
  return parsed;
}

/** The entries of one batch call with their ids parsed; the batchKey keeps a call to one sObject type. */
function batchOf<T>(name: string, entries: readonly T[], idOf: (entry: T) => string) {
  const items = entries.map((entry) => ({ entry, ...parseId(name, idOf(entry)) }));
  return { sObjectType: items[0]?.sObjectType ?? 'Account', items };
}
