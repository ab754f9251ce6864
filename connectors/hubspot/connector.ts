/**
 * The HubSpot CRM connector on the kit: companies and contacts as canonical contacts, polled
 * through the search API, read and written through the v3 objects and batch APIs, pushed through
 * webhooks.
 */
import { z } from 'zod';
import { defineConnector, type ConnectorContext, type ConnectorSettings } from '../kit/define';
import { InvalidRequestError, NotFoundError } from '../kit/errors';
import { parseRequest } from '../kit/parse';
import { longestWord } from '../kit/search';
import type { BatchItemResult, Connector } from '../kit/types';
import { pollChanges } from './changes';
import { BATCH_LIMIT, connectHubSpot, HISTORY_BATCH_LIMIT, HUBSPOT_API_URL } from './client';
import { hubspotConfig } from './config';
import {
  IDEMPOTENCY_PROPERTY,
  type HubSpotObjectType,
  contactTypeOf,
  CONTACT_ID,
  describeProperties,
  fromContactId,
  objectTypeOf,
  searchedProperties,
  supportedFields,
  toContactId,
  toHubSpotProperties,
} from './mappers';
import { createHubSpotWebhook } from './webhook';

// HubSpot-defined association type "contact to company, primary".
// https://developers.hubspot.com/docs/api/crm/associations#association-type-id-values
const CONTACT_TO_PRIMARY_COMPANY = 1;

const createExtraSchema = z.looseObject({
  /** Which HubSpot object to create; contacts created from accounts are companies. */
  type: z.enum(['company', 'person']).default('company'),
  /** For a person: the canonical id of the company it belongs to. */
  companyId: z.string().nullable().optional(),
});

/** The HubSpot connector, as the registry lists it. */
export const hubspot = defineConnector({
  name: 'hubspot',
  side: 'crm',
  config: hubspotConfig,
  secrets: ['token', 'webhookSecret'],
  // Private apps of Professional and Enterprise accounts: 190 requests per 10 s (Free and Starter
  // accounts have 100: HubSpot answers 429 with Retry-After, which the client waits out).
  // https://developers.hubspot.com/docs/guides/apps/api-usage/usage-details
  // Batch reads ask for the property history, which HubSpot allows for 50 records per call.
  limits: { requests: { max: 190, perMs: 10_000 }, batchSize: { read: HISTORY_BATCH_LIMIT, write: BATCH_LIMIT } },
  connect: connectHubSpot,
  entities: {
    contact: {
      fields: (session) => supportedFields(session.mapping),
      // The portal's own property lists: custom properties with their types and options.
      describe: async ({ api, mapping }) => {
        const [companies, contacts] = await Promise.all([api.properties('companies'), api.properties('contacts')]);
        return describeProperties(mapping, { companies, contacts });
      },
      listChanged: pollChanges,
      // HubSpot keeps companies and contacts apart: a batch call holds one of them.
      batchKey: (id) => fromContactId(id)?.objectType ?? '',
      id: { pattern: CONTACT_ID, means: 'a HubSpot contact id (company-<number> or person-<number>)' },

      get: ({ name, api }, id) => {
        const { objectType, hubSpotId } = parseId(name, id);
        return api.get(objectType, hubSpotId);
      },

      // One filter group per property holding the name, e-mail or VAT no. (groups are ORed), each
      // CONTAINS_TOKEN the longest word: HubSpot matches words, the kit keeps the records holding all.
      async search({ api, mapping }, text, limit) {
        const value = `*${longestWord(text)}*`;
        const found = await Promise.all(
          (['companies', 'contacts'] as const).map(async (objectType) => {
            const filterGroups = searchedProperties(objectType, mapping).map((propertyName) => ({
              filters: [{ propertyName, operator: 'CONTAINS_TOKEN' as const, value }],
            }));
            return (await api.search(objectType, { filterGroups, limit })).contacts;
          }),
        );
        return found.flat();
      },

      async batchGet({ name, api }, ids) {
        const { objectType, items } = batchOf(name, ids, (id) => id);
        // Ids HubSpot does not know come back as 207 errors: missing records are left out.
        const hubSpotIds = items.map((item) => item.hubSpotId);
        return (await api.batchRead(objectType, hubSpotIds)).contacts;
      },

      async create({ name, api, mapping }, fields, { idempotencyKey, extra }) {
        const { type, companyId } = parseRequest(createExtraSchema, extra ?? {}, `${name}: create options`);
        const objectType = objectTypeOf(type);
        // A retry after a lost response must find the record the first attempt created.
        const filters = [{ propertyName: IDEMPOTENCY_PROPERTY, operator: 'EQ', value: idempotencyKey } as const];
        const [previous] = (await api.search(objectType, { filterGroups: [{ filters }], limit: 1 })).contacts;
        if (previous) return previous;

        const company = type === 'person' && companyId ? parseId(name, companyId) : null;
        if (company && company.objectType !== 'companies')
          throw new InvalidRequestError(`${name}: companyId ${String(companyId)} is not a company`);
        const written = Object.entries(toHubSpotProperties(type, fields, mapping)).filter(([, value]) => value !== '');
        const contact = await api.create(objectType, {
          properties: { ...Object.fromEntries(written), [IDEMPOTENCY_PROPERTY]: idempotencyKey },
          ...(company && {
            associations: [
              {
                to: { id: company.hubSpotId },
                types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: CONTACT_TO_PRIMARY_COMPANY }],
              },
            ],
          }),
        });
        // The create answer does not always echo the association.
        return company && contact.companyId === null
          ? { ...contact, companyId: toContactId('companies', company.hubSpotId) }
          : contact;
      },

      async update({ name, api, mapping }, update) {
        const { objectType, hubSpotId } = parseId(name, update.id);
        const written = toHubSpotProperties(contactTypeOf(objectType), update.fields, mapping);
        if (Object.keys(written).length > 0) return api.update(objectType, hubSpotId, written);
        const current = await api.get(objectType, hubSpotId);
        if (current === null) throw new NotFoundError(`${name}: ${update.id} does not exist`);
        return current;
      },

      async batchUpdate({ name, api, mapping }, updates) {
        const { objectType, items } = batchOf(name, updates, (update) => update.id);
        // A person's company is an association, not a field: updates never move a person.
        const inputs = items.map(({ entry, hubSpotId }) => ({
          id: hubSpotId,
          properties: toHubSpotProperties(contactTypeOf(objectType), entry.fields, mapping),
        }));
        const { contacts, errors } = await api.batchUpdate(objectType, inputs);
        // The kit matches the results to the updates by id and fails an update neither reports.
        const failed = errors.flatMap((error) => {
          const message = `${name}: ${error.message ?? error.category ?? 'batch item failed'}`;
          const Failure = error.category === 'OBJECT_NOT_FOUND' ? NotFoundError : InvalidRequestError;
          const ids = Object.values(error.context ?? {}).flat();
          return ids.map((id): BatchItemResult => ({
            id: toContactId(objectType, id),
            ok: false,
            error: new Failure(message),
          }));
        });
        return [...failed, ...contacts.map((record): BatchItemResult => ({ id: record.id, ok: true, record }))];
      },
    },
  },
  webhook: (session) => session.webhook && createHubSpotWebhook(session.webhook),
  // One company, no properties: the cheapest read that proves the token and its CRM scope. Tried
  // once, within 5 s: a readiness probe wants the answer now, not after backoff.
  health: ({ http }) =>
    http.request(
      { url: '/crm/v3/objects/companies', params: { limit: 1, archived: false }, timeout: 5000 },
      { attempts: 1 },
    ),
});

type HubSpotSettings = ConnectorSettings<typeof hubspotConfig>;

/**
 * Options of createHubSpotConnector: the build context, the credentials (webhooks are enabled with
 * a webhookSecret), and the config's optional keys; baseUrl defaults to HubSpot's API host.
 */
export type HubSpotConnectorOptions = ConnectorContext &
  HubSpotSettings['credentials'] &
  Partial<Pick<HubSpotSettings, 'baseUrl' | 'propertyMap'>>;

/** Creates a HubSpot connector without a config file (tests, scripts). No I/O until a method is called. */
export function createHubSpotConnector(options: HubSpotConnectorOptions): Connector {
  const { token, webhookSecret, baseUrl = HUBSPOT_API_URL, propertyMap, ...context } = options;
  return hubspot.create({ baseUrl, credentials: { token, webhookSecret }, propertyMap }, context);
}

function parseId(name: string, id: string): { objectType: HubSpotObjectType; hubSpotId: string } {
  const parsed = fromContactId(id);
  if (!parsed)
    throw new InvalidRequestError(`${name}: ${id} is not a HubSpot contact id (company-<id> or person-<id>)`);
  return parsed;
}

/** The entries of one batch call with their ids parsed; the batchKey above keeps a call to one object type. */
function batchOf<T>(name: string, entries: readonly T[], idOf: (entry: T) => string) {
  const items = entries.map((entry) => ({ entry, ...parseId(name, idOf(entry)) }));
  return { objectType: items[0]?.objectType ?? 'companies', items };
}
