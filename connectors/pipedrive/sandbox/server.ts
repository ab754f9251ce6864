/**
 * A local stand-in for Pipedrive's API v2, on the sandbox kit: organizations and persons by id,
 * lists with `updated_since`, `sort_by` and cursor pagination, PATCH and POST with v2's strict
 * validation (an unknown property is a 400), the search endpoints, API token (`x-api-token` or
 * `api_token`) or OAuth bearer auth, and Pipedrive's burst limits with its `x-ratelimit-*` headers.
 *
 * Pipedrive's pages: https://pipedrive.readme.io/docs/core-api-concepts-pagination,
 * https://pipedrive.readme.io/docs/core-api-concepts-rate-limiting,
 * https://pipedrive.readme.io/docs/pipedrive-api-v2-migration-guide.
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { RateLimit, SandboxAnswer } from '../../kit/sandbox/rate-limits';
import { type ChangedBy, RecordStore, type StoredRecord } from '../../kit/sandbox/records';
import {
  createSandboxServer,
  SandboxClock,
  type SandboxControls,
  SandboxFailure,
  type SandboxOptions,
} from '../../kit/sandbox/server';
import { namedEdits } from '../../kit/sandbox/direct-edits';

/** The API's path below the origin, as on <company>.pipedrive.com. */
export const SANDBOX_API_PATH = '/api/v2';

/** The limits the sandbox enforces, by name (see PIPEDRIVE_RATE_LIMITS). */
export type PipedriveRateLimitName = 'burst' | 'search';

/** How to start a sandbox; every option has a default. */
export interface PipedriveSandboxOptions extends SandboxOptions<PipedriveRateLimitName> {
  /** The API token clients present (x-api-token header or api_token query). */
  apiToken?: string;
  /** An OAuth access token clients may present as a bearer token instead. */
  accessToken?: string;
}

const addressFields = {
  value: z.string().optional(),
  country: z.string().optional(),
  admin_area_level_1: z.string().optional(),
  admin_area_level_2: z.string().optional(),
  locality: z.string().optional(),
  sublocality: z.string().optional(),
  route: z.string().optional(),
  street_number: z.string().optional(),
  subpremise: z.string().optional(),
  postal_code: z.string().optional(),
};
const addressSchema = z.object(addressFields).strict();
const labelled = z
  .object({ value: z.string().optional(), primary: z.boolean().optional(), label: z.string().optional() })
  .strict();
const customFields = z.record(z.string(), z.unknown());

/** An organization's stored fields (id and times are the store's). */
const organizationFields = z.object({
  name: z.string().min(1),
  address: addressSchema.nullable().optional(),
  website: z.string().nullable().optional(),
  custom_fields: customFields.optional(),
});
/** A person's stored fields. */
const personFields = z.object({
  name: z.string().min(1),
  org_id: z.number().int().positive().nullable().optional(),
  emails: z.array(labelled).optional(),
  phones: z.array(labelled).optional(),
  postal_address: addressSchema.nullable().optional(),
  custom_fields: customFields.optional(),
});
type OrganizationFields = z.infer<typeof organizationFields>;
type PersonFields = z.infer<typeof personFields>;
type Fields = OrganizationFields | PersonFields;
type Collection = 'organizations' | 'persons';

// v2 bodies, strict as v2's validation is: what AddOrganizationRequest and the rest allow of what tandem writes.
const writable = {
  owner_id: z.number().int().optional(),
  visible_to: z.number().int().optional(),
  label_ids: z.array(z.number().int()).optional(),
};
const organizationBody = z
  .object({
    name: z.string().min(1).optional(),
    address: addressSchema.optional(),
    website: z.string().nullable().optional(),
    linkedin: z.string().nullable().optional(),
    custom_fields: customFields.optional(),
    ...writable,
  })
  .strict();
const personBody = z
  .object({
    name: z.string().min(1).optional(),
    org_id: z.number().int().positive().optional(),
    emails: z.array(labelled).optional(),
    phones: z.array(labelled).optional(),
    postal_address: addressSchema.optional(),
    custom_fields: customFields.optional(),
    ...writable,
  })
  .strict();

/**
 * Pipedrive's burst limits at the smallest plan's numbers: 20 calls per 2 s per API token
 * (Essential), and 10 per 2 s to the search endpoints on every plan. The daily token budget is
 * not modelled: it weighs each endpoint by its own cost, the kit's buckets count calls.
 */
export const PIPEDRIVE_RATE_LIMITS: Record<PipedriveRateLimitName, RateLimit> = {
  burst: {
    limit: 20,
    windowMs: 2000,
    counts: ({ path }) => !path.endsWith('/search'),
    refuse: () => ({ body: { success: false, error: 'Request over limit', errorCode: 429 } }),
    report: (remaining, { limit }) => ({
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset': '2',
    }),
  },
  search: {
    limit: 10,
    windowMs: 2000,
    counts: ({ path }) => path.endsWith('/search'),
    refuse: () => ({ body: { success: false, error: 'Request over limit', errorCode: 429 } }),
    report: (remaining, { limit }) => ({
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset': '2',
    }),
  },
};

/** A failure in Pipedrive's words. */
const failure = (status: number, message: string): SandboxAnswer => ({
  status,
  body: { success: false, error: message, errorCode: status },
});

/** A record's time as v2 writes it: RFC 3339 to the second. */
export const rfc3339 = (millis: number): string =>
  new Date(Math.floor(millis / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** A running Pipedrive sandbox. */
export type PipedriveSandbox = SandboxControls & {
  readonly url: string;
  readonly apiToken: string;
  readonly accessToken: string;
} & ReturnType<typeof directEdits>;

/** A record as the API answers it. */
type RecordView = { id: number } & Record<string, unknown>;

/** The direct edits, as a user makes them in Pipedrive's UI. */
function directEdits(
  store: RecordStore<Collection, Fields>,
  view: (collection: Collection, record: StoredRecord<Fields>) => RecordView,
) {
  const edits = (collection: Collection, schema: z.ZodType<Fields>) => ({
    create: (fields: Record<string, unknown>) =>
      view(collection, store.create(collection, schema.parse(fields), 'user')),
    update: (id: string | number, fields: Record<string, unknown>) => {
      const record = store.get(collection, String(id));
      if (!record) throw new Error(`no ${collection} ${String(id)}`);
      return view(collection, store.update(collection, record, schema.parse({ ...record.fields, ...fields }), 'user'));
    },
    delete: (id: string | number) => store.delete(collection, String(id), 'user') !== undefined,
    get: (id: string | number) => {
      const record = store.get(collection, String(id));
      return record && view(collection, record);
    },
    list: () => store.list(collection).map((record) => view(collection, record)),
  });
  return {
    ...namedEdits('Organization', edits('organizations', organizationFields)),
    ...namedEdits('Person', edits('persons', personFields)),
  };
}

const listQuery = z.object({
  updated_since: z.string().optional(),
  cursor: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  sort_by: z.enum(['id', 'update_time', 'add_time']).default('id'),
  sort_direction: z.enum(['asc', 'desc']).default('asc'),
  ids: z.string().optional(),
});
const searchQuery = z.object({
  term: z.string(),
  fields: z.string().optional(),
  exact_match: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().optional(),
});

/** Starts a sandbox on a free port (or `options.port`). */
export async function startPipedriveSandbox(options: PipedriveSandboxOptions = {}): Promise<PipedriveSandbox> {
  const apiToken = options.apiToken ?? 'sandbox-api-token';
  const accessToken = options.accessToken ?? 'sandbox-access-token';
  const clock = new SandboxClock(options.clockOffsetMs);
  const store = new RecordStore<Collection, Fields>({
    collections: ['organizations', 'persons'],
    firstIds: { organizations: 1, persons: 1 },
    fields: z.union([organizationFields, personFields]),
    now: clock.now,
  });
  const view = (_collection: Collection, record: StoredRecord<Fields>): RecordView => {
    // The generated Person model has org_id as a number, never null: a person without an organization has none.
    const { org_id: orgId, ...fields } = record.fields as PersonFields;
    return {
      id: Number(record.id),
      ...fields,
      ...(typeof orgId === 'number' && { org_id: orgId }),
      custom_fields: record.fields.custom_fields ?? {},
      add_time: rfc3339(record.createdAt),
      update_time: rfc3339(record.updatedAt),
      is_deleted: false,
    };
  };

  const authenticate = (request: FastifyRequest): SandboxAnswer | undefined => {
    const query = new URLSearchParams(request.url.split('?')[1] ?? '');
    const token = request.headers['x-api-token'] ?? query.get('api_token');
    if (token === apiToken) return undefined;
    if (request.headers.authorization === `Bearer ${accessToken}`) return undefined;
    return failure(401, 'unauthorized access');
  };
  const { app, listen } = createSandboxServer(
    {
      api: new RegExp(`^${SANDBOX_API_PATH}`),
      authenticate,
      throttled: () => ({ body: { success: false, error: 'Request over limit', errorCode: 429 } }),
      unavailable: () => failure(503, 'Service unavailable'),
      failure,
      rateLimits: PIPEDRIVE_RATE_LIMITS,
    },
    options,
    clock,
  );

  const searchItem = (collection: Collection, record: StoredRecord<Fields>) => {
    const fields = record.fields as Partial<OrganizationFields & PersonFields>;
    const customTexts = Object.values(fields.custom_fields ?? {}).filter((value) => typeof value === 'string');
    const values = (entries: { value?: string }[] | undefined) =>
      (entries ?? []).map((entry) => entry.value).filter((value) => value !== undefined);
    if (collection === 'organizations')
      return {
        id: Number(record.id),
        type: 'organization',
        name: fields.name,
        ...(fields.address?.value !== undefined && { address: fields.address.value }),
        custom_fields: customTexts,
        notes: [],
      };
    const organization =
      typeof fields.org_id === 'number' ? store.get('organizations', String(fields.org_id)) : undefined;
    return {
      id: Number(record.id),
      type: 'person',
      name: fields.name,
      phones: values(fields.phones),
      emails: values(fields.emails),
      ...(organization && { organization: { id: Number(organization.id), name: organization.fields.name } }),
      custom_fields: customTexts,
      notes: [],
    };
  };
  const found = (collection: Collection, id: string) => {
    const record = /^\d+$/.test(id) ? store.get(collection, id) : undefined;
    if (!record)
      throw new SandboxFailure(404, `${collection === 'organizations' ? 'Organization' : 'Person'} not found`);
    return record;
  };
  const by = (): ChangedBy => 'api';
  /** Adds an API route whose handler answers with a body or throws a SandboxFailure. */
  const route = (method: 'GET' | 'POST' | 'PATCH', path: string, handler: (request: FastifyRequest) => unknown) =>
    app.route({ method, url: `${SANDBOX_API_PATH}${path}`, handler: (request, reply) => reply.send(handler(request)) });
  const idOf = (request: FastifyRequest) => z.object({ id: z.string() }).parse(request.params).id;

  for (const collection of ['organizations', 'persons'] as const) {
    const body = collection === 'organizations' ? organizationBody : personBody;
    const stored = collection === 'organizations' ? organizationFields : personFields;

    route('GET', `/${collection}/:id`, (request) => ({
      success: true,
      data: view(collection, found(collection, idOf(request))),
    }));

    route('GET', `/${collection}`, (request) => {
      const query = listQuery.parse(request.query);
      const since = query.updated_since === undefined ? undefined : Date.parse(query.updated_since);
      if (since !== undefined && Number.isNaN(since)) throw new SandboxFailure(400, 'updated_since is not RFC 3339');
      const ids = query.ids?.split(',').map((id) => id.trim());
      const sorted = store
        .list(collection)
        // Times are compared at v2's precision, the second; updated_since is inclusive.
        .filter((record) => since === undefined || Math.floor(record.updatedAt / 1000) * 1000 >= since)
        .filter((record) => ids === undefined || ids.includes(record.id))
        .sort((a, b) => {
          const key = (record: StoredRecord<Fields>) =>
            query.sort_by === 'update_time'
              ? Math.floor(record.updatedAt / 1000)
              : query.sort_by === 'add_time'
                ? record.createdAt
                : 0;
          return key(a) - key(b) || Number(a.id) - Number(b.id);
        });
      if (query.sort_direction === 'desc') sorted.reverse();
      const offset = query.cursor === undefined ? 0 : Number(Buffer.from(query.cursor, 'base64url').toString('utf8'));
      if (!Number.isInteger(offset) || offset < 0) throw new SandboxFailure(400, 'Invalid cursor');
      const page = sorted.slice(offset, offset + query.limit);
      const next =
        offset + query.limit < sorted.length ? Buffer.from(String(offset + query.limit)).toString('base64url') : null;
      return {
        success: true,
        data: page.map((record) => view(collection, record)),
        additional_data: { next_cursor: next },
      };
    });

    route('PATCH', `/${collection}/:id`, (request) => {
      const record = found(collection, idOf(request));
      const changes = body.parse(request.body ?? {});
      const fields = stored.parse({
        ...record.fields,
        ...changes,
        ...(changes.custom_fields && { custom_fields: { ...record.fields.custom_fields, ...changes.custom_fields } }),
      });
      return { success: true, data: view(collection, store.update(collection, record, fields, by())) };
    });

    route('POST', `/${collection}`, (request) => {
      const changes = body.parse(request.body ?? {});
      if (changes.name === undefined) throw new SandboxFailure(400, 'Validation failed: name: Parameter is required');
      if (collection === 'persons' && 'org_id' in changes && changes.org_id !== undefined)
        found('organizations', String(changes.org_id));
      return { success: true, data: view(collection, store.create(collection, stored.parse(changes), by())) };
    });

    route('GET', `/${collection}/search`, (request) => {
      const query = searchQuery.parse(request.query);
      const exact = query.exact_match === 'true';
      const term = query.term.trim().toLowerCase();
      // The search endpoints want at least 2 characters, or 1 with exact_match.
      if (term.length < (exact ? 1 : 2))
        throw new SandboxFailure(400, 'Search term must be at least 2 characters long');
      const searched = new Set(
        (
          query.fields ??
          (collection === 'organizations' ? 'name,address,custom_fields' : 'name,email,phone,custom_fields')
        ).split(','),
      );
      const texts = (record: StoredRecord<Fields>): string[] => {
        const fields = record.fields as Partial<OrganizationFields & PersonFields>;
        return [
          ...(searched.has('name') ? [fields.name] : []),
          ...(searched.has('email') ? (fields.emails ?? []).map((entry) => entry.value) : []),
          ...(searched.has('phone') ? (fields.phones ?? []).map((entry) => entry.value) : []),
          ...(searched.has('address') ? [fields.address?.value] : []),
          ...(searched.has('custom_fields')
            ? Object.values(fields.custom_fields ?? {}).map((value) => (typeof value === 'string' ? value : undefined))
            : []),
        ].filter((text): text is string => typeof text === 'string');
      };
      const matches = store
        .list(collection)
        .filter((record) =>
          texts(record).some((text) => (exact ? text.toLowerCase() === term : text.toLowerCase().includes(term))),
        );
      const page = matches.slice(0, query.limit);
      return {
        success: true,
        // A search item is a summary, not the record: e-mails, phones and custom field values as plain texts.
        data: { items: page.map((record) => ({ result_score: 1, item: searchItem(collection, record) })) },
        additional_data: { next_cursor: null },
      };
    });
  }

  const { origin, controls } = await listen();
  return {
    ...controls,
    url: origin,
    apiToken,
    accessToken,
    ...directEdits(store, view),
  };
}
