/**
 * A thin typed client for HubSpot's CRM v3 objects API on the kit's HTTP client: every answer is
 * parsed, and its records come back as canonical contacts of the mapping in force.
 * https://developers.hubspot.com/docs/api/crm/companies
 */
import type { AxiosRequestConfig } from 'axios';
import type { Contact } from '../../src/core/model';
import type { ConnectorSettings, ConnectTools } from '../kit/define';
import { orNullIfNotFound } from '../kit/errors';
import type { HttpClient } from '../kit/http';
import type { hubspotConfig } from './config';
import {
  propertiesToRead,
  propertiesWithHistoryToRead,
  resolveMapping,
  toContact,
  withCustomProperties,
  type HubSpotMapping,
  type HubSpotObjectType,
} from './mappers';
import {
  batchResponseSchema,
  hubSpotObjectSchema,
  listPageSchema,
  propertiesSchema,
  searchPageSchema,
  type HubSpotObject,
} from './schemas';

/** HubSpot's public API host. */
export const HUBSPOT_API_URL = 'https://api.hubapi.com';

/** The most inputs batch/read and batch/update accept per call. */
export const BATCH_LIMIT = 100;

/** The most inputs batch/read accepts per call when it is asked for `propertiesWithHistory`. */
export const HISTORY_BATCH_LIMIT = 50;

/** The most results a search query can page through; beyond it HubSpot answers 400. */
export const SEARCH_RESULT_CAP = 10_000;

/** A search request body with the filters and sorts tandem uses; the client adds the properties to read. */
export interface SearchRequest {
  filterGroups: { filters: { propertyName: string; operator: 'EQ' | 'GTE' | 'CONTAINS_TOKEN'; value: string }[] }[];
  sorts?: { propertyName: string; direction: 'ASCENDING' }[];
  limit: number;
  after?: string;
}

const path = (objectType: HubSpotObjectType, rest = '') => `/crm/v3/objects/${objectType}${rest}`;
const one = (objectType: HubSpotObjectType, id: string) => path(objectType, `/${encodeURIComponent(id)}`);

/** Typed calls to HubSpot companies and contacts, answering canonical contacts. */
function hubSpotApi(http: HttpClient, mappingNow: () => HubSpotMapping) {
  const contacts = (objectType: HubSpotObjectType, objects: HubSpotObject[]) =>
    objects.map((object) => toContact(objectType, object, mappingNow()));
  const contact = async (objectType: HubSpotObjectType, request: AxiosRequestConfig, options = {}) =>
    toContact(objectType, await http.json(hubSpotObjectSchema, request, options), mappingNow());
  // Reads by id ask for the history of the properties that carry fields: its newest entries are
  // the fields' own change times (see toContact).
  const reads = (objectType: HubSpotObjectType) => {
    const mapping = mappingNow();
    const history = propertiesWithHistoryToRead(objectType, mapping);
    return { properties: propertiesToRead(objectType, mapping), history: history.length > 0 ? history : undefined };
  };
  const batch = async (objectType: HubSpotObjectType, kind: 'read' | 'update', data: object, options = {}) => {
    const url = path(objectType, `/batch/${kind}`);
    const response = await http.json(batchResponseSchema, { method: 'POST', url, data }, options);
    // Ids HubSpot does not know are reported as errors (207).
    return { contacts: contacts(objectType, response.results), errors: response.errors ?? [] };
  };
  return {
    /** One record, or null when HubSpot does not know the id (deleted or never existed). */
    get: (objectType: HubSpotObjectType, id: string): Promise<Contact | null> => {
      const { properties, history } = reads(objectType);
      const params = { properties: properties.join(','), propertiesWithHistory: history?.join(',') };
      return orNullIfNotFound(contact(objectType, { url: one(objectType, id), params }));
    },
    /** One page of a search. */
    search: async (objectType: HubSpotObjectType, request: SearchRequest) => {
      const data = { ...request, properties: propertiesToRead(objectType, mappingNow()) };
      const page = await http.json(searchPageSchema, { method: 'POST', url: path(objectType, '/search'), data });
      return { total: page.total, contacts: contacts(objectType, page.results), after: page.paging?.next?.after };
    },
    /** One page of the plain list, ordered by id. */
    list: async (objectType: HubSpotObjectType, after?: string) => {
      const params = { limit: 100, properties: propertiesToRead(objectType, mappingNow()).join(','), after };
      const page = await http.json(listPageSchema, { url: path(objectType), params });
      return { contacts: contacts(objectType, page.results), after: page.paging?.next?.after };
    },
    /** Reads up to BATCH_LIMIT records, HISTORY_BATCH_LIMIT with the history of their properties. */
    batchRead: (objectType: HubSpotObjectType, ids: string[]) => {
      const { properties, history } = reads(objectType);
      const inputs = ids.map((id) => ({ id }));
      return batch(objectType, 'read', { properties, propertiesWithHistory: history, inputs });
    },
    /** Creates one record. */
    create: (objectType: HubSpotObjectType, data: { properties: Record<string, string>; associations?: unknown[] }) =>
      contact(objectType, { method: 'POST', url: path(objectType), data }),
    /**
     * Writes properties of one record; a 404 stays a NotFoundError. Sent once: HubSpot has no
     * If-Match, so the write queue compares the record just before each attempt, and a retry
     * slept here, after that comparison, could land over an edit made meanwhile.
     */
    update: (objectType: HubSpotObjectType, id: string, properties: Record<string, string>) =>
      contact(objectType, { method: 'PATCH', url: one(objectType, id), data: { properties } }, { attempts: 1 }),
    /** Every property of an object type, custom ones included. */
    properties: async (objectType: HubSpotObjectType) =>
      (await http.json(propertiesSchema, { url: `/crm/v3/properties/${objectType}` })).results,
    /** Writes up to BATCH_LIMIT records; sent once, as a single update is: each job is compared again before a retry. */
    batchUpdate: (objectType: HubSpotObjectType, inputs: { id: string; properties: Record<string, string> }[]) =>
      batch(objectType, 'update', { inputs }, { attempts: 1 }),
  };
}

/** Builds what the connector's handlers share, once per connector; the webhook is set when configured. */
export function connectHubSpot(settings: ConnectorSettings<typeof hubspotConfig>, { context, http }: ConnectTools) {
  const { token, webhookSecret } = settings.credentials;
  // A private-app token does not expire, so there is nothing to refresh on a 401.
  const client = http({ baseURL: settings.baseUrl, auth: { header: () => Promise.resolve(`Bearer ${token}`) } });
  const base = resolveMapping(settings.propertyMap);
  // Custom properties follow the config in force: the mapping is rebuilt when they change.
  let built = { key: '', mapping: base };
  const mappingNow = () => {
    const custom = context.customFields?.('contact') ?? [];
    const key = custom.join(',');
    if (key !== built.key) built = { key, mapping: withCustomProperties(base, custom) };
    return built.mapping;
  };
  return {
    name: context.name,
    http: client,
    api: hubSpotApi(client, mappingNow),
    /** The mapping in force now (read it per call: custom properties may change). */
    get mapping() {
      return mappingNow();
    },
    now: context.now,
    webhook: webhookSecret === undefined ? undefined : { clientSecret: webhookSecret, publicUrl: context.webhookUrl },
  };
}

export type HubSpotSession = ReturnType<typeof connectHubSpot>;
