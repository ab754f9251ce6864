/** The Business Central accounting connector: customers, vendors and bank accounts of one company. */
import { ACCOUNT_KINDS, type AccountKind, type Entity } from '../../src/core/model';
import { InvalidRequestError, RateLimitedError } from '../kit/errors';
import { HttpClient, type ResponseObserver, type RetryPolicy } from '../kit/http';
import type { Connector, DocumentType } from '../kit/types';
import { ClientCredentialsTokenProvider, type ClientCredentials } from './auth';
import { BusinessCentralApi } from './client';
import { DOCUMENT_RESOURCES, SUPPORTED_FIELDS } from './mappers';
import { ensureSubscriptions } from './subscriptions';
import { createBusinessCentralWebhook } from './webhook';

/** How to reach one Business Central company. */
export interface BusinessCentralConnectorOptions {
  /** The connector's name in config. */
  name: string;
  /** The API base up to and including /api/v2.0, for example https://api.businesscentral.dynamics.com/v2.0/{tenant}/{environment}/api/v2.0 */
  baseUrl: string;
  /** The company's id (GUID), as listed by GET /companies. */
  companyId: string;
  auth: ClientCredentials;
  retry?: Partial<RetryPolicy>;
  observe?: ResponseObserver;
  timeoutMs?: number;
  /** Enables webhooks; `clientState` is the shared secret BC echoes in each notification. */
  webhook?: { clientState: string };
}

/** Creates the BC API layer (all four entities, contacts included) that the connector is built on. */
export function createBusinessCentralApi(options: Omit<BusinessCentralConnectorOptions, 'webhook'>): {
  api: BusinessCentralApi;
  http: HttpClient;
} {
  const http = new HttpClient({
    connector: options.name,
    baseURL: options.baseUrl.replace(/\/+$/, ''),
    auth: new ClientCredentialsTokenProvider(options.auth, { timeoutMs: options.timeoutMs }),
    retry: options.retry,
    observe: options.observe,
    timeoutMs: options.timeoutMs,
  });
  return { api: new BusinessCentralApi(http, options.companyId), http };
}

/** Creates the accounting connector for one Business Central company. */
export function createBusinessCentralConnector(options: BusinessCentralConnectorOptions): Connector {
  const { api, http } = createBusinessCentralApi(options);
  const entities: readonly Entity[] = ACCOUNT_KINDS;
  // Contacts are readable through createBusinessCentralApi, but this connector is the accounting
  // side: its entities are the three account kinds.
  const served = (entity: Entity): AccountKind => {
    if (entity === 'contact') throw new InvalidRequestError(`${options.name}: entity '${entity}' is not served`);
    return entity;
  };
  const webhook = options.webhook;
  const documents = Object.keys(DOCUMENT_RESOURCES) as DocumentType[];
  return {
    name: options.name,
    system: 'accounting',
    entities,
    fields: {
      customer: SUPPORTED_FIELDS.customer,
      vendor: SUPPORTED_FIELDS.vendor,
      bankAccount: SUPPORTED_FIELDS.bankAccount,
    },
    async *listChanged(entity, cursor) {
      yield* api.listChanged(served(entity), cursor);
    },
    get: async (entity, id) => api.get(served(entity), id),
    batchGet: async (entity, ids) => api.batchGet(served(entity), ids),
    create: async (entity, fields, createOptions) => api.create(served(entity), fields, { extra: createOptions.extra }),
    update: async (entity, update) => api.update(served(entity), update),
    batchUpdate: async (entity, updates) => api.batchUpdate(served(entity), updates),
    documents,
    createDocument: async (type, input) => api.createDocument(type, input),
    ...(webhook === undefined
      ? {}
      : {
          webhook: createBusinessCentralWebhook({ companyId: options.companyId, clientState: webhook.clientState }),
          ensureSubscriptions: (notificationUrl: string) =>
            ensureSubscriptions({
              http,
              companyId: options.companyId,
              notificationUrl,
              clientState: webhook.clientState,
            }),
        }),
    // The company itself: the smallest authenticated read, and it proves the company id too. A
    // 429 proves the credentials as well, so it counts as healthy: readiness must not flap under load.
    checkHealth: async () => {
      try {
        await http.request({ method: 'GET', url: `companies(${options.companyId})` });
      } catch (error) {
        if (!(error instanceof RateLimitedError)) throw error;
      }
    },
    close: async () => {},
  };
}
