/**
 * A thin typed client for HubSpot's CRM v3 objects API on the kit's HTTP client; every answer is parsed.
 * https://developers.hubspot.com/docs/api/crm/companies
 */
import type { ConnectorSettings, ConnectTools } from '../kit/define';
import { orNullIfNotFound } from '../kit/errors';
import type { HttpClient } from '../kit/http';
import type { hubspotConfig } from './config';
import { resolveMapping, type HubSpotObjectType } from './mappers';
import { batchResponseSchema, hubSpotObjectSchema, listPageSchema, searchPageSchema } from './schemas';

/** HubSpot's public API host. */
export const HUBSPOT_API_URL = 'https://api.hubapi.com';

/** The most inputs batch/read and batch/update accept per call. */
export const BATCH_LIMIT = 100;

/** The most inputs batch/read accepts per call when it is asked for `propertiesWithHistory`. */
export const HISTORY_BATCH_LIMIT = 50;

/** The most results a search query can page through; beyond it HubSpot answers 400. */
export const SEARCH_RESULT_CAP = 10_000;

/** A search request body, with the filters and sorts tandem uses. */
export interface SearchRequest {
  filterGroups: { filters: { propertyName: string; operator: 'EQ' | 'GTE'; value: string }[] }[];
  sorts?: { propertyName: string; direction: 'ASCENDING' }[];
  properties: string[];
  limit: number;
  after?: string;
}

const path = (objectType: HubSpotObjectType, rest = '') => `/crm/v3/objects/${objectType}${rest}`;
const one = (objectType: HubSpotObjectType, id: string) => path(objectType, `/${encodeURIComponent(id)}`);

/** Typed calls to HubSpot companies and contacts. */
export function hubSpotApi(http: HttpClient) {
  return {
    /**
     * One record, or null when HubSpot does not know the id (deleted or never existed); with the
     * history of the properties in `withHistory`.
     */
    get: (objectType: HubSpotObjectType, id: string, properties: string[], withHistory: string[] = []) =>
      orNullIfNotFound(
        http.json(hubSpotObjectSchema, {
          url: one(objectType, id),
          params: {
            properties: properties.join(','),
            ...(withHistory.length === 0 ? {} : { propertiesWithHistory: withHistory.join(',') }),
          },
        }),
      ),
    /** One page of a search. */
    search: (objectType: HubSpotObjectType, request: SearchRequest) =>
      http.json(searchPageSchema, { method: 'POST', url: path(objectType, '/search'), data: request }),
    /** One page of the plain list, ordered by id. */
    list: (objectType: HubSpotObjectType, properties: string[], after?: string) =>
      http.json(listPageSchema, {
        url: path(objectType),
        params: { limit: 100, properties: properties.join(','), ...(after === undefined ? {} : { after }) },
      }),
    /**
     * Reads up to BATCH_LIMIT records, HISTORY_BATCH_LIMIT with the history of the properties in
     * `withHistory`; ids HubSpot does not know are reported as errors (207).
     */
    batchRead: (objectType: HubSpotObjectType, ids: string[], properties: string[], withHistory: string[] = []) =>
      http.json(batchResponseSchema, {
        method: 'POST',
        url: path(objectType, '/batch/read'),
        data: {
          properties,
          ...(withHistory.length === 0 ? {} : { propertiesWithHistory: withHistory }),
          inputs: ids.map((id) => ({ id })),
        },
      }),
    /** Creates one record. */
    create: (objectType: HubSpotObjectType, body: { properties: Record<string, string>; associations?: unknown[] }) =>
      http.json(hubSpotObjectSchema, { method: 'POST', url: path(objectType), data: body }),
    /**
     * Writes properties of one record; a 404 stays a NotFoundError. Sent once: HubSpot has no
     * If-Match, so the write queue compares the record just before each attempt, and a retry
     * slept here, after that comparison, could land over an edit made meanwhile.
     */
    update: (objectType: HubSpotObjectType, id: string, properties: Record<string, string>) =>
      http.json(
        hubSpotObjectSchema,
        { method: 'PATCH', url: one(objectType, id), data: { properties } },
        { attempts: 1 },
      ),
    /**
     * Writes up to BATCH_LIMIT records; ids HubSpot does not know are reported as errors (207).
     * Sent once, as a single update is: each job of the batch is compared again before a retry.
     */
    batchUpdate: (objectType: HubSpotObjectType, inputs: { id: string; properties: Record<string, string> }[]) =>
      http.json(
        batchResponseSchema,
        { method: 'POST', url: path(objectType, '/batch/update'), data: { inputs } },
        { attempts: 1 },
      ),
  };
}

/** Builds what the connector's handlers share, once per connector; the webhook is set when configured. */
export function connectHubSpot(settings: ConnectorSettings<typeof hubspotConfig>, { context, http }: ConnectTools) {
  const { token, webhookSecret } = settings.credentials;
  // A private-app token does not expire, so there is nothing to refresh on a 401.
  const client = http({ baseURL: settings.baseUrl, auth: { header: () => Promise.resolve(`Bearer ${token}`) } });
  return {
    name: context.name,
    http: client,
    api: hubSpotApi(client),
    mapping: resolveMapping(settings.propertyMap),
    now: context.now,
    webhook: webhookSecret === undefined ? undefined : { clientSecret: webhookSecret, publicUrl: context.webhookUrl },
  };
}

export type HubSpotSession = ReturnType<typeof connectHubSpot>;
