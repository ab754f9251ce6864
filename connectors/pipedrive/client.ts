/** The Pipedrive API v2 calls tandem makes, each answer parsed (https://developers.pipedrive.com/docs/api/v1). */
import { z } from 'zod';
import { orNullIfNotFound } from '../kit/errors';
import type { HttpClient } from '../kit/http';
import type { AddOrganizationRequest } from 'pipedrive/dist/versions/v2/models/add-organization-request';
import type { AddPersonRequest } from 'pipedrive/dist/versions/v2/models/add-person-request';
import type { UpdateOrganizationRequest } from 'pipedrive/dist/versions/v2/models/update-organization-request';
import type { UpdatePersonRequest } from 'pipedrive/dist/versions/v2/models/update-person-request';
import {
  organizationSchema,
  pageAnswer,
  personSchema,
  singleAnswer,
  type PipedriveOrganization,
  type PipedrivePerson,
} from './schemas';

/** The two collections tandem syncs, as they appear in paths. */
export type PipedriveCollection = 'organizations' | 'persons';
/** A record of either collection. */
export type PipedriveRecord = PipedriveOrganization | PipedrivePerson;

/** Records per list page: v2's most (https://pipedrive.readme.io/docs/core-api-concepts-pagination). */
export const PAGE_LIMIT = 500;

const schemaOf = { organizations: organizationSchema, persons: personSchema } as const;
const searchAnswer = z.object({
  success: z.literal(true),
  data: z.object({ items: z.array(z.object({ item: z.object({ id: z.number().int() }) })) }),
});

/** The calls, on the kit's HTTP client with the API token. */
export class PipedriveApi {
  constructor(
    private readonly http: HttpClient,
    private readonly apiToken: string,
  ) {}

  private get headers() {
    return { 'x-api-token': this.apiToken };
  }

  /** GET /api/v2/{collection}/{id}; null when Pipedrive has no such record. */
  async get(collection: PipedriveCollection, id: number): Promise<PipedriveRecord | null> {
    const answer = await orNullIfNotFound(
      this.http.json(singleAnswer(schemaOf[collection]), {
        url: `/api/v2/${collection}/${id}`,
        headers: this.headers,
      }),
    );
    return answer?.data ?? null;
  }

  /** One page of GET /api/v2/{collection}, oldest change first, from `updatedSince` (inclusive). */
  async listPage(
    collection: PipedriveCollection,
    params: { updatedSince?: string; cursor?: string; ids?: readonly number[] },
  ): Promise<{ records: PipedriveRecord[]; nextCursor: string | null }> {
    const answer = await this.http.json(pageAnswer(schemaOf[collection]), {
      url: `/api/v2/${collection}`,
      headers: this.headers,
      params: {
        sort_by: 'update_time',
        sort_direction: 'asc',
        limit: PAGE_LIMIT,
        ...(params.updatedSince !== undefined && { updated_since: params.updatedSince }),
        ...(params.cursor !== undefined && { cursor: params.cursor }),
        ...(params.ids !== undefined && { ids: params.ids.join(',') }),
      },
    });
    return { records: answer.data, nextCursor: answer.additional_data?.next_cursor ?? null };
  }

  /** The ids GET /api/v2/{collection}/search finds for `term` in `fields`. */
  async search(
    collection: PipedriveCollection,
    term: string,
    fields: string,
    limit: number,
    exactMatch = false,
  ): Promise<number[]> {
    const answer = await this.http.json(searchAnswer, {
      url: `/api/v2/${collection}/search`,
      headers: this.headers,
      params: { term, fields, limit, ...(exactMatch && { exact_match: true }) },
    });
    return answer.data.items.map(({ item }) => item.id);
  }

  /** PATCH /api/v2/organizations/{id}. */
  updateOrganization(id: number, body: UpdateOrganizationRequest): Promise<PipedriveOrganization> {
    return this.write(organizationSchema, 'PATCH', `/api/v2/organizations/${id}`, body);
  }

  /** PATCH /api/v2/persons/{id}. */
  updatePerson(id: number, body: UpdatePersonRequest): Promise<PipedrivePerson> {
    return this.write(personSchema, 'PATCH', `/api/v2/persons/${id}`, body);
  }

  /** POST /api/v2/organizations. */
  createOrganization(body: AddOrganizationRequest): Promise<PipedriveOrganization> {
    return this.write(organizationSchema, 'POST', '/api/v2/organizations', body);
  }

  /** POST /api/v2/persons. */
  createPerson(body: AddPersonRequest): Promise<PipedrivePerson> {
    return this.write(personSchema, 'POST', '/api/v2/persons', body);
  }

  private async write<T>(schema: z.ZodType<T>, method: 'PATCH' | 'POST', url: string, data: object): Promise<T> {
    return (await this.http.json(singleAnswer(schema), { method, url, data, headers: this.headers })).data;
  }

  /** The cheapest authenticated read: one organization. */
  health(): Promise<unknown> {
    return this.http.request(
      { url: '/api/v2/organizations', params: { limit: 1 }, headers: this.headers, timeout: 5000 },
      { attempts: 1 },
    );
  }
}
