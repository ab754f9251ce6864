/**
 * A local stand-in for the HubSpot CRM v3 API: the subset tandem uses (objects, list, search,
 * batch read/update) with HubSpot's paths, payloads, error bodies and published rate limits,
 * signed webhooks for every change, and the kit's knobs. For tests and demos; it keeps no secrets.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type NamedEdits, namedEdits } from '../../kit/sandbox/direct-edits';
import { BearerTokens } from '../../kit/sandbox/oauth';
import type { RateLimit, SandboxAnswer } from '../../kit/sandbox/rate-limits';
import { type ChangedBy, RecordStore, type StoredRecord } from '../../kit/sandbox/records';
import {
  createSandboxServer,
  SandboxClock,
  SandboxFailure,
  SandboxRefusal,
  sendAnswer,
  type SandboxControls,
  type SandboxOptions,
} from '../../kit/sandbox/server';
import {
  DEFAULT_READ_PROPERTIES,
  MODIFIED_PROPERTY,
  SANDBOX_OBJECT_TYPES,
  type SandboxObjectType,
  PortalProperties,
  type PropertyDefinition,
  type SandboxProperty,
  systemProperties,
} from './properties';
import {
  historyView,
  MAX_HISTORY_BATCH_INPUTS,
  type PortalFields,
  portalFieldsSchema,
  upgradeState,
  withChanges,
} from './history';
import { runSearch, searchBodySchema } from './search';
import type { HubSpotSandboxSeed } from './seed';
import type { WebhookDisorder } from '../../kit/sandbox/webhooks';
import { hubspotWebhooks, type WebhookTarget } from './webhooks';

/** The rate limits the sandbox enforces, by name (see HUBSPOT_RATE_LIMITS). */
export type HubSpotRateLimitName = 'tenSecondly' | 'search';

/** Options of startHubSpotSandbox, besides the kit's port, host, latency, failures and rate limits. */
export interface HubSpotSandboxOptions extends SandboxOptions<HubSpotRateLimitName> {
  /** The bearer token every API call must carry; default 'sandbox-token'. */
  token?: string;
  /** Where to send webhooks; none are sent without it. */
  webhook?: WebhookTarget;
  /** A JSON file to load the portal from at start and to write on every change. */
  file?: string;
  /** Records to create when the portal starts empty. */
  seed?: HubSpotSandboxSeed;
  /** Custom properties the portal has from the start (see createProperty). */
  properties?: Partial<Record<SandboxObjectType, PropertyDefinition[]>>;
  /** Where delivery problems are reported; default console.warn. */
  log?: (message: string) => void;
}

/** A HubSpot record as the API returns it. */
export interface SandboxRecord {
  id: string;
  properties: Record<string, string | null>;
  /** Only when a read asks for it: the values of the properties named, newest first. */
  propertiesWithHistory?: Record<string, { value: string; timestamp: string; sourceType: string }[]>;
  createdAt: string;
  updatedAt: string;
  archived: false;
}

/** Edits as a user makes them in HubSpot's UI (changeSource CRM_UI). */
interface RecordEdits {
  create: (properties: Record<string, string>) => SandboxRecord;
  update: (id: string, properties: Record<string, string>) => SandboxRecord;
  delete: (id: string) => void;
  get: (id: string) => SandboxRecord | undefined;
}

/** A running sandbox: createCompany, updateCompany, deleteCompany, getCompany, and the same for contacts. */
export interface HubSpotSandbox
  extends SandboxControls, NamedEdits<'Company', RecordEdits>, NamedEdits<'Contact', RecordEdits> {
  /** Base URL to give the connector, e.g. http://127.0.0.1:53121. */
  readonly url: string;
  setWebhookTarget(target: WebhookTarget | null): void;
  /** Sends queued webhook events now and waits until every delivery is done. */
  flushWebhooks(): Promise<void>;
  /** Delivers webhook calls late (so out of order) and some twice; `{}` restores order. */
  disorderWebhooks(disorder: WebhookDisorder): void;
  /** Defines a custom property, as a portal admin does in HubSpot's settings. */
  createProperty(objectType: SandboxObjectType, definition: PropertyDefinition): SandboxProperty;
}

const MAX_BATCH_INPUTS = 100;
const MAX_LIST_LIMIT = 100;
// Contact-to-company association types that make a company the contact's primary one.
const COMPANY_ASSOCIATION_TYPE_IDS = new Set([1, 279]);

const idSchema = z.union([z.string(), z.number()]).transform(String);
const propertiesSchema = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))
  .transform((raw) => Object.fromEntries(Object.entries(raw).map(([name, value]) => [name, String(value ?? '')])));
const associationSchema = z.object({
  to: z.object({ id: idSchema }),
  types: z.array(z.object({ associationCategory: z.string(), associationTypeId: z.number() })),
});
const createBodySchema = z.object({
  properties: propertiesSchema.default({}),
  associations: z.array(associationSchema).optional(),
});
const batchReadBodySchema = z.object({
  properties: z.array(z.string()).optional(),
  propertiesWithHistory: z.array(z.string()).optional(),
  inputs: z.array(z.object({ id: idSchema })),
});
const batchUpdateBodySchema = z.object({ inputs: z.array(z.object({ id: idSchema, properties: propertiesSchema })) });
const querySchema = z.record(z.string(), z.unknown());
const paramsSchema = z.object({ objectType: z.string(), id: z.string().default('') });

/** An answer in HubSpot's error shape; its rate-limit answers have no category. */
function hubspotError(status: number, category: string | null, message: string, extra = {}): SandboxAnswer {
  const body = { status: 'error', message, correlationId: randomUUID(), ...(category === null ? {} : { category }) };
  return { status, body: { ...body, ...extra } };
}
const invalid = (message: string) => new SandboxFailure(400, message);
const rateLimited = (message: string, policyName: string) => () =>
  hubspotError(429, null, message, { errorType: 'RATE_LIMIT', policyName });
const isSearch = (call: { path: string }) => call.path.endsWith('/search');

/**
 * HubSpot's limits for a private app on a Professional or Enterprise portal: 190 calls per
 * 10 seconds (reported in X-HubSpot-RateLimit-*), and 5 per second to the search endpoints, which
 * report nothing. https://developers.hubspot.com/docs/guides/apps/api-usage/usage-details
 */
export const HUBSPOT_RATE_LIMITS: Record<HubSpotRateLimitName, RateLimit> = {
  tenSecondly: {
    limit: 190,
    windowMs: 10_000,
    counts: (call) => !isSearch(call),
    refuse: rateLimited('You have reached your ten_secondly_rolling limit.', 'TEN_SECONDLY_ROLLING'),
    report: (remaining, { limit, windowMs }) => ({
      'X-HubSpot-RateLimit-Interval-Milliseconds': String(windowMs),
      'X-HubSpot-RateLimit-Max': String(limit),
      'X-HubSpot-RateLimit-Remaining': String(remaining),
    }),
  },
  search: {
    limit: 5,
    windowMs: 1000,
    counts: isSearch,
    refuse: rateLimited('You have reached your secondly limit.', 'SECONDLY'),
  },
};

/** A stored company or contact: its properties without the system ones (the record's), and their history. */
type Stored = StoredRecord<PortalFields>;

/** Starts a sandbox server. */
export async function startHubSpotSandbox(options: HubSpotSandboxOptions = {}): Promise<HubSpotSandbox> {
  const tokens = new BearerTokens(options.token ?? 'sandbox-token');
  const clock = new SandboxClock(options.clockOffsetMs);
  const portal = new PortalProperties();
  for (const objectType of SANDBOX_OBJECT_TYPES)
    for (const definition of options.properties?.[objectType] ?? []) portal.define(objectType, definition);
  const webhooks = hubspotWebhooks(options.webhook, options.log ?? ((message) => console.warn(message)), clock.now);
  const store = new RecordStore({
    now: clock.now,
    collections: SANDBOX_OBJECT_TYPES,
    // Distinct ranges make a company id used as a contact id (or the reverse) miss, as in HubSpot.
    firstIds: { companies: 10_001, contacts: 50_001 },
    fields: portalFieldsSchema,
    file: options.file,
    // Files saved before the sandbox kept history hold the properties alone.
    upgrade: upgradeState,
    // Webhooks tell of property changes: the history is the sandbox's own.
    onChange: ({ record, before, ...change }) =>
      webhooks.enqueue({
        ...change,
        record: { ...record, fields: record.fields.properties },
        ...(before && { before: before.properties }),
      }),
  });
  if (options.seed && store.isEmpty()) {
    const companyIds = (options.seed.companies ?? []).map((properties) => direct('companies', properties).id);
    for (const properties of options.seed.contacts ?? []) {
      // `#<n>` names the n-th company of the same seed.
      const reference = /^#(\d+)$/.exec(properties.associatedcompanyid ?? '')?.[1];
      const companyId = reference === undefined ? properties.associatedcompanyid : companyIds[Number(reference)];
      direct('contacts', { ...properties, ...(companyId === undefined ? {} : { associatedcompanyid: companyId }) });
    }
  }

  /**
   * Creates a record (none given) or writes properties over it ('' clears one); the modified date
   * moves, and the history grows, only when a value really changed.
   */
  function write(
    objectType: SandboxObjectType,
    record: Stored | undefined,
    written: Record<string, string>,
    by: ChangedBy,
  ) {
    const before = record?.fields.properties ?? {};
    const fields = (at: number) => ({
      properties: present({ ...before, ...written }),
      history: withChanges(record?.fields.history ?? {}, before, written, at, by),
    });
    if (record === undefined) return store.create(objectType, fields, by);
    const changed = Object.entries(written).some(([name, value]) => (before[name] ?? '') !== value);
    return changed ? store.update(objectType, record, fields, by) : record;
  }

  /** A create (no id) or update as a user in HubSpot's UI makes it. */
  function direct(objectType: SandboxObjectType, properties: Record<string, string>, id?: string): Stored {
    const problems = portal.problems(objectType, properties).map(({ name, error }) => `${name} (${error})`);
    if (problems.length > 0) throw new Error(`hubspot sandbox: ${objectType} cannot take ${problems.join(', ')}`);
    const record = id === undefined ? undefined : store.get(objectType, id);
    if (id !== undefined && !record) throw new Error(`hubspot sandbox: no ${objectType} record ${id}`);
    return write(objectType, record, properties, 'user');
  }

  /** The properties of a write, refused whole (like HubSpot) when one of them may not be written. */
  function checked(objectType: SandboxObjectType, properties: Record<string, string>): Record<string, string> {
    const problems = portal.problems(objectType, properties).map(({ name, error }) => ({
      isValid: false,
      message:
        error === 'READ_ONLY_VALUE'
          ? `"${name}" is a read only property; its value cannot be set.`
          : `Property "${name}" does not exist`,
      error,
      name,
    }));
    if (problems.length > 0) throw invalid(`Property values were not valid: ${JSON.stringify(problems)}`);
    return properties;
  }

  function found(objectType: SandboxObjectType, id: string): Stored {
    const record = store.get(objectType, id);
    if (record) return record;
    const message = 'Object not found.  objectId are usually numeric.';
    throw new SandboxRefusal(hubspotError(404, 'OBJECT_NOT_FOUND', message, { context: { id: [id] } }));
  }

  /** The object type and id in the path; an unknown type is HubSpot's 400. */
  function target(request: FastifyRequest): { objectType: SandboxObjectType; id: string } {
    const { objectType, id } = paramsSchema.parse(request.params);
    const match = SANDBOX_OBJECT_TYPES.find((candidate) => candidate === objectType);
    if (!match) throw invalid(`Unable to infer object type from: ${objectType}`);
    return { objectType: match, id };
  }

  /**
   * HubSpot's answer to a batch that `run` carries out, one outcome per input id (undefined: not
   * found): 200 when every id was found, else 207 with the missing ids. Refused over HubSpot's size.
   */
  function batch(objectType: SandboxObjectType, verb: string, size: number, run: () => [string, unknown][]) {
    if (size > MAX_BATCH_INPUTS)
      throw invalid(`Batch input limit exceeded: ${size} inputs, at most ${MAX_BATCH_INPUTS} allowed`);
    const startedAt = iso(clock.now());
    const outcomes = run();
    const results = outcomes.flatMap(([, result]) => (result === undefined ? [] : [result]));
    const missing = outcomes.flatMap(([id, result]) => (result === undefined ? [id] : []));
    const answer = { status: 'COMPLETE', results, startedAt, completedAt: iso(clock.now()) };
    if (missing.length === 0) return { status: 200, body: answer };
    const label = objectType === 'companies' ? 'COMPANY' : 'CONTACT';
    const message = `Could not ${verb} some ${label} objects, they may be deleted or not exist. Check that ids are valid.`;
    const error = { status: 'error', category: 'OBJECT_NOT_FOUND', message, context: { ids: missing } };
    return { status: 207, body: { ...answer, numErrors: 1, errors: [error] } };
  }

  const { app, listen } = createSandboxServer(
    {
      api: /^(?=\/crm\/)/,
      authenticate: (request) =>
        tokens.accepts(request.headers.authorization)
          ? undefined
          : hubspotError(
              401,
              'INVALID_AUTHENTICATION',
              'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
            ),
      throttled: HUBSPOT_RATE_LIMITS.search.refuse,
      unavailable: () => hubspotError(500, 'INTERNAL_ERROR', 'internal error'),
      failure: (status, message) =>
        hubspotError(
          status,
          status === 404 ? 'OBJECT_NOT_FOUND' : status < 500 ? 'VALIDATION_ERROR' : 'INTERNAL_ERROR',
          message,
        ),
      rateLimits: HUBSPOT_RATE_LIMITS,
    },
    options,
    clock,
  );

  app.get('/crm/v3/objects/:objectType', (request) => {
    const { objectType } = target(request);
    const query = querySchema.parse(request.query);
    const limit = query.limit === undefined ? 10 : Number(query.limit);
    const after = query.after === undefined ? 0 : Number(query.after);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT)
      throw invalid(`limit must be between 1 and ${MAX_LIST_LIMIT}`);
    if (!Number.isFinite(after)) throw invalid('after must be a number');
    // Ids grow with every record created, so creation order is id order.
    const remaining = store.list(objectType).filter((record) => Number(record.id) > after);
    const page = remaining.slice(0, limit);
    const last = page.at(-1);
    const link = `${request.url.split('?')[0] ?? ''}?after=${last?.id ?? ''}`;
    return {
      results: page.map((record) => view(portal, objectType, record, requestedProperties(query.properties))),
      ...(remaining.length > limit && last ? { paging: { next: { after: last.id, link } } } : {}),
    };
  });

  // The properties API: every property of an object type, custom ones included.
  // https://developers.hubspot.com/docs/api-reference/legacy/crm/properties/get-properties
  app.get('/crm/v3/properties/:objectType', (request) => {
    const { objectType } = target(request);
    return { results: portal.list(objectType) };
  });

  app.get('/crm/v3/objects/:objectType/:id', (request) => {
    const { objectType, id } = target(request);
    const query = querySchema.parse(request.query);
    return view(
      portal,
      objectType,
      found(objectType, id),
      requestedProperties(query.properties),
      requestedProperties(query.propertiesWithHistory),
    );
  });

  app.post('/crm/v3/objects/:objectType', async (request, reply) => {
    const { objectType } = target(request);
    const body = createBodySchema.parse(request.body ?? {});
    const properties = checked(objectType, body.properties);
    const company = body.associations?.find((association) =>
      association.types.some((type) => COMPANY_ASSOCIATION_TYPE_IDS.has(type.associationTypeId)),
    );
    if (objectType === 'contacts' && company) {
      if (!store.get('companies', company.to.id)) throw invalid(`Company ${company.to.id} does not exist`);
      properties.associatedcompanyid = company.to.id;
    }
    return reply.code(201).send(view(portal, objectType, write(objectType, undefined, properties, 'api'), 'all'));
  });

  app.patch('/crm/v3/objects/:objectType/:id', (request) => {
    const { objectType, id } = target(request);
    const record = found(objectType, id);
    const { properties } = z.object({ properties: propertiesSchema }).parse(request.body ?? {});
    return view(
      portal,
      objectType,
      write(objectType, record, checked(objectType, properties), 'api'),
      Object.keys(properties),
    );
  });

  app.delete('/crm/v3/objects/:objectType/:id', async (request, reply) => {
    const { objectType, id } = target(request);
    found(objectType, id);
    store.delete(objectType, id, 'api');
    return reply.code(204).send();
  });

  app.post('/crm/v3/objects/:objectType/search', (request) => {
    const { objectType } = target(request);
    const body = searchBodySchema.parse(request.body ?? {});
    const searched = store
      .list(objectType)
      .map((record) => ({ ...record, properties: propertiesOf(objectType, record) }));
    const search = runSearch(objectType, searched, body, portal);
    const properties = body.properties && body.properties.length > 0 ? body.properties : undefined;
    return {
      total: search.total,
      results: search.page.map((record) => view(portal, objectType, record, properties)),
      ...(search.nextAfter === undefined ? {} : { paging: { next: { after: search.nextAfter } } }),
    };
  });

  app.post('/crm/v3/objects/:objectType/batch/read', async (request, reply) => {
    const { objectType } = target(request);
    const body = batchReadBodySchema.parse(request.body ?? {});
    const withHistory = body.propertiesWithHistory && body.propertiesWithHistory.length > 0;
    if (withHistory && body.inputs.length > MAX_HISTORY_BATCH_INPUTS)
      throw invalid(
        `Batch input limit exceeded: ${body.inputs.length} inputs, at most ${MAX_HISTORY_BATCH_INPUTS} allowed with propertiesWithHistory`,
      );
    const answer = batch(objectType, 'get', body.inputs.length, () =>
      body.inputs.map(({ id }) => {
        const record = store.get(objectType, id);
        return [id, record && view(portal, objectType, record, body.properties, body.propertiesWithHistory)];
      }),
    );
    return sendAnswer(reply, answer);
  });

  app.post('/crm/v3/objects/:objectType/batch/update', async (request, reply) => {
    const { objectType } = target(request);
    const { inputs } = batchUpdateBodySchema.parse(request.body ?? {});
    const answer = batch(objectType, 'update', inputs.length, () => {
      if (new Set(inputs.map(({ id }) => id)).size !== inputs.length)
        throw invalid('Duplicate IDs found in batch input');
      // Like HubSpot, one invalid property refuses the whole batch before anything is written.
      for (const { properties } of inputs) checked(objectType, properties);
      return inputs.map(({ id, properties }) => {
        const record = store.get(objectType, id);
        return [
          id,
          record && view(portal, objectType, write(objectType, record, properties, 'api'), Object.keys(properties)),
        ];
      });
    });
    return sendAnswer(reply, answer);
  });

  // Closing the server stops webhook deliveries too.
  app.addHook('onClose', () => webhooks.close());
  const { origin, controls } = await listen();
  const edits = (objectType: SandboxObjectType): RecordEdits => ({
    create: (properties) => view(portal, objectType, direct(objectType, properties), 'all'),
    update: (id, properties) => view(portal, objectType, direct(objectType, properties, id), 'all'),
    delete: (id) => {
      if (!store.delete(objectType, id, 'user')) throw new Error(`hubspot sandbox: no ${objectType} record ${id}`);
    },
    get: (id) => {
      const record = store.get(objectType, id);
      return record && view(portal, objectType, record, 'all');
    },
  });
  return {
    ...controls,
    ...namedEdits('Company', edits('companies')),
    ...namedEdits('Contact', edits('contacts')),
    url: origin,
    setWebhookTarget: (webhook) => webhooks.setTarget(webhook),
    flushWebhooks: () => webhooks.flush(),
    disorderWebhooks: (disorder) => webhooks.disorder(disorder),
    createProperty: (objectType, definition) => portal.define(objectType, definition),
  };
}

const iso = (ms: number) => new Date(ms).toISOString();
/** The properties that have a value: '' clears one. */
const present = (properties: Record<string, string>) =>
  Object.fromEntries(Object.entries(properties).filter(([, value]) => value !== ''));

/** Every property of a record, the system ones HubSpot maintains included. */
function propertiesOf(objectType: SandboxObjectType, { id, createdAt, updatedAt, fields }: Stored) {
  return {
    ...fields.properties,
    createdate: iso(createdAt),
    [MODIFIED_PROPERTY[objectType]]: iso(updatedAt),
    hs_object_id: id,
  };
}

/**
 * The record as the API shows it: requested properties (null when unset) plus the system ones, or
 * all it has; with the history of the properties named in `withHistory`, when there are any.
 */
function view(
  portal: PortalProperties,
  objectType: SandboxObjectType,
  record: Stored,
  requested?: readonly string[] | 'all',
  withHistory?: readonly string[],
): SandboxRecord {
  const all = propertiesOf(objectType, record);
  const names =
    requested === 'all'
      ? Object.keys(all)
      : [...(requested ?? DEFAULT_READ_PROPERTIES[objectType]), ...systemProperties(objectType)];
  // HubSpot leaves out requested properties the object type does not have.
  const known = names.filter((name) => portal.isKnown(objectType, name));
  const properties = Object.fromEntries(known.map((name) => [name, all[name] ?? null]));
  const { id, createdAt, updatedAt } = record;
  const history =
    withHistory && withHistory.length > 0
      ? { propertiesWithHistory: historyView(record.fields.history, withHistory) }
      : {};
  return { id, properties, ...history, createdAt: iso(createdAt), updatedAt: iso(updatedAt), archived: false };
}

/** The `properties` query parameter: repeated, comma-separated, or absent (undefined). */
function requestedProperties(raw: unknown): string[] | undefined {
  const values: unknown[] = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  const names = values.flatMap((value) => String(value).split(',')).map((name) => name.trim());
  return names.some((name) => name !== '') ? names.filter((name) => name !== '') : undefined;
}
