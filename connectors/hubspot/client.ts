/**
 * A thin typed client for the parts of HubSpot's CRM v3 objects API tandem uses. Every call goes
 * through the shared HttpClient (auth, retries, 429, error translation); every answer is parsed.
 * https://developers.hubspot.com/docs/api/crm/companies
 */
import { HttpClient, type ResponseObserver, type RetryPolicy } from '../kit/http';
import { NotFoundError } from '../kit/errors';
import type { HubSpotObjectType } from './mappers';
import {
  type BatchResponse,
  type HubSpotObject,
  type ListPage,
  type SearchPage,
  batchResponseSchema,
  hubSpotObjectSchema,
  listPageSchema,
  parseResponse,
  searchPageSchema,
} from './schemas';

/** HubSpot's public API host. */
export const HUBSPOT_API_URL = 'https://api.hubapi.com';

/** The most inputs batch/read and batch/update accept per call. */
export const BATCH_LIMIT = 100;

/** The most results a search query can page through; beyond it HubSpot answers 400. */
export const SEARCH_RESULT_CAP = 10_000;

/** One search filter, as HubSpot's search API takes it. */
export interface SearchFilter {
  propertyName: string;
  operator: 'EQ' | 'NEQ' | 'GT' | 'GTE' | 'LT' | 'LTE' | 'HAS_PROPERTY' | 'NOT_HAS_PROPERTY';
  value?: string;
}

/** A search request body. */
export interface SearchRequest {
  filterGroups: { filters: SearchFilter[] }[];
  sorts?: { propertyName: string; direction: 'ASCENDING' | 'DESCENDING' }[];
  properties: string[];
  limit: number;
  after?: string;
}

/** Options of the HubSpot client. */
export interface HubSpotClientOptions {
  connector: string;
  baseUrl: string;
  token: string;
  retry?: Partial<RetryPolicy>;
  observe?: ResponseObserver;
}

/** Typed access to HubSpot companies and contacts. */
export class HubSpotClient {
  private readonly http: HttpClient;

  constructor(options: HubSpotClientOptions) {
    this.http = new HttpClient({
      connector: options.connector,
      baseURL: options.baseUrl,
      // A private-app token does not expire, so there is nothing to refresh on a 401.
      auth: { header: () => Promise.resolve(`Bearer ${options.token}`) },
      retry: options.retry,
      observe: options.observe,
    });
  }

  /** One record, or null when HubSpot does not know the id (deleted or never existed). */
  async get(objectType: HubSpotObjectType, id: string, properties: string[]): Promise<HubSpotObject | null> {
    try {
      const response = await this.http.request({
        method: 'GET',
        url: `/crm/v3/objects/${objectType}/${encodeURIComponent(id)}`,
        params: { properties: properties.join(',') },
      });
      return parseResponse(hubSpotObjectSchema, response.data, `GET ${objectType}/${id}`);
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  /** One page of a search. */
  async search(objectType: HubSpotObjectType, request: SearchRequest): Promise<SearchPage> {
    const response = await this.http.request({
      method: 'POST',
      url: `/crm/v3/objects/${objectType}/search`,
      data: request,
    });
    return parseResponse(searchPageSchema, response.data, `search ${objectType}`);
  }

  /** One page of the plain list, ordered by id. */
  async list(objectType: HubSpotObjectType, properties: string[], after?: string): Promise<ListPage> {
    const params: Record<string, string | number> = { limit: 100, properties: properties.join(',') };
    if (after !== undefined) params.after = after;
    const response = await this.http.request({ method: 'GET', url: `/crm/v3/objects/${objectType}`, params });
    return parseResponse(listPageSchema, response.data, `list ${objectType}`);
  }

  /** Reads up to BATCH_LIMIT records; ids HubSpot does not know are reported as errors (207). */
  async batchRead(objectType: HubSpotObjectType, ids: string[], properties: string[]): Promise<BatchResponse> {
    const response = await this.http.request({
      method: 'POST',
      url: `/crm/v3/objects/${objectType}/batch/read`,
      data: { properties, inputs: ids.map((id) => ({ id })) },
    });
    return parseResponse(batchResponseSchema, response.data, `batch read ${objectType}`);
  }

  /** Creates one record. */
  async create(
    objectType: HubSpotObjectType,
    body: { properties: Record<string, string>; associations?: unknown[] },
  ): Promise<HubSpotObject> {
    const response = await this.http.request({ method: 'POST', url: `/crm/v3/objects/${objectType}`, data: body });
    return parseResponse(hubSpotObjectSchema, response.data, `create ${objectType}`);
  }

  /** Writes properties of one record; a 404 stays a NotFoundError. */
  async update(objectType: HubSpotObjectType, id: string, properties: Record<string, string>): Promise<HubSpotObject> {
    const response = await this.http.request({
      method: 'PATCH',
      url: `/crm/v3/objects/${objectType}/${encodeURIComponent(id)}`,
      data: { properties },
    });
    return parseResponse(hubSpotObjectSchema, response.data, `update ${objectType}/${id}`);
  }

  /** Writes up to BATCH_LIMIT records; ids HubSpot does not know are reported as errors (207). */
  async batchUpdate(
    objectType: HubSpotObjectType,
    inputs: { id: string; properties: Record<string, string> }[],
  ): Promise<BatchResponse> {
    const response = await this.http.request({
      method: 'POST',
      url: `/crm/v3/objects/${objectType}/batch/update`,
      data: { inputs },
    });
    return parseResponse(batchResponseSchema, response.data, `batch update ${objectType}`);
  }
}

/** Splits a list into chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}
