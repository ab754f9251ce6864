/**
 * The Business Central accounting connector on the kit: the customers, vendors and bank accounts
 * of one company through API v2.0, webhooks with renewed subscriptions, and sales documents.
 */
import type { AccountKind } from '../../src/core/model';
import {
  connectTools,
  defineConnector,
  type ConnectorContext,
  type ConnectorSettings,
  type ConnectTools,
  type EntityDefinition,
} from '../kit/define';
import { longestWord } from '../kit/search';
import { ClientCredentialsTokenProvider } from './auth';
import { BATCH_LIMIT, BusinessCentralApi } from './client';
import { businessCentralConfig } from './config';
import { REFUSED_DOCUMENTS, STARTED_DOCUMENTS, startDocument } from './documents';
import { describeAccountFields, FIELD_MAP } from './mappers';
import { GUID } from './odata';
import { ensureSubscriptions } from './subscriptions';
import { createBusinessCentralWebhook } from './webhook';

/** A connector's settings: its config keys, and the API base up to and including /api/v2.0. */
export type BusinessCentralSettings = ConnectorSettings<typeof businessCentralConfig>;

// BC Online takes 6,000 requests per user in any 5-minute window, at most 100 at once, and 100
// operations per $batch. A wait of up to a minute for the window is slept; a longer one goes back
// to the queue.
// https://learn.microsoft.com/dynamics365/business-central/dev-itpro/administration/operational-limits-online
const LIMITS = {
  requests: { max: 6000, perMs: 5 * 60_000 },
  concurrency: 100,
  maxWaitMs: 60_000,
  batchSize: { read: BATCH_LIMIT, write: BATCH_LIMIT },
};

function connect({ baseUrl, companyId, credentials }: BusinessCentralSettings, tools: ConnectTools) {
  const auth = new ClientCredentialsTokenProvider(credentials);
  const http = tools.http({ baseURL: baseUrl.replace(/\/+$/, ''), auth });
  const custom = (entity: AccountKind) => tools.context.customFields?.(entity) ?? [];
  return { api: new BusinessCentralApi(http, companyId, custom), clientState: credentials.webhookClientState };
}

/** What the handlers share: the company's API (with its HTTP client), and the webhook secret when set. */
type BusinessCentralSession = ReturnType<typeof connect>;

/** The handlers of an account kind: each is the API call of the same name. */
function account(kind: AccountKind): EntityDefinition<BusinessCentralSession> {
  return {
    fields: () => Object.keys(FIELD_MAP[kind]),
    // No schema to read with the API's token that says what is editable: the APIV2 pages' facts.
    describe: () => Promise.resolve(describeAccountFields(kind)),
    listChanged: ({ api }, cursor) => api.listChanged(kind, cursor),
    id: { pattern: GUID, means: 'a Business Central id (a GUID)' },
    get: ({ api }, id) => api.get(kind, id),
    batchGet: ({ api }, ids) => api.batchGet(kind, ids),
    // Substrings of the longest word; the kit keeps the records holding every word.
    search: ({ api }, text, limit) => api.search(kind, longestWord(text), limit),
    create: ({ api }, fields, { extra }) => api.create(kind, fields, { extra }),
    update: ({ api }, update) => api.update(kind, update),
    batchUpdate: ({ api }, updates) => api.batchUpdate(kind, updates),
  };
}

/** The Business Central connector, as the registry lists it. */
export const businessCentral = defineConnector({
  name: 'business-central',
  side: 'accounting',
  config: businessCentralConfig,
  secrets: ['clientSecret', 'webhookClientState'],
  limits: LIMITS,
  connect,
  entities: { customer: account('customer'), vendor: account('vendor'), bankAccount: account('bankAccount') },
  webhook: ({ api, clientState }) =>
    clientState === undefined ? undefined : createBusinessCentralWebhook({ companyId: api.companyId, clientState }),
  // The kit subscribes only when there is a webhook, that is with a clientState.
  subscribe: ({ api: { http, companyId }, clientState = '' }, notificationUrl) =>
    ensureSubscriptions({ http, companyId, notificationUrl, clientState }),
  documents: {
    types: STARTED_DOCUMENTS,
    start: startDocument,
    refused: REFUSED_DOCUMENTS,
  },
  // The company itself: the smallest authenticated read, and it proves the company id too.
  health: ({ api }) => api.http.request({ url: `companies(${api.companyId})` }),
});

/** The API layer alone, contacts included (the connector serves the account kinds), for scripts and tests. */
export function createBusinessCentralApi(
  settings: BusinessCentralSettings,
  context: ConnectorContext,
): BusinessCentralApi {
  return connect(settings, connectTools(LIMITS, context)).api;
}
