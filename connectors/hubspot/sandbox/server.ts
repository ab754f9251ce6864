/**
 * A local stand-in for the HubSpot CRM v3 API: the subset tandem uses (objects, list, search,
 * batch read/update) with HubSpot's paths, payloads, error bodies and published rate limits,
 * signed webhooks for every change, and the kit's knobs. For tests and demos; it keeps no secrets.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { loadState, saveState } from '../../kit/sandbox/persistence';
import type { RateLimit, SandboxAnswer } from '../../kit/sandbox/rate-limits';
import { type SandboxControls, type SandboxOptions, createSandboxServer, sendAnswer } from '../../kit/sandbox/server';
import {
  DEFAULT_READ_PROPERTIES,
  MODIFIED_PROPERTY,
  SANDBOX_OBJECT_TYPES,
  type SandboxObjectType,
  isKnownProperty,
} from './properties';
import { SearchRefusedError, runSearch, searchBodySchema } from './search';
import type { HubSpotSandboxSeed } from './seed';
import { type PropertyProblem, SandboxStore, type StoredObject, snapshotSchema } from './store';
import { WebhookDispatcher, type WebhookTarget } from './webhooks';

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
  /** Where delivery problems are reported; default console.warn. */
  log?: (message: string) => void;
}

/** A HubSpot record as the API returns it. */
export interface SandboxRecord {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: false;
}

/** A running sandbox. Direct helpers behave like edits in HubSpot's UI (changeSource CRM_UI). */
export interface HubSpotSandbox extends SandboxControls {
  /** Base URL to give the connector, e.g. http://127.0.0.1:53121. */
  readonly url: string;
  setWebhookTarget(target: WebhookTarget | null): void;
  /** Sends queued webhook events now and waits until every delivery is done. */
  flushWebhooks(): Promise<void>;
  createCompany(properties: Record<string, string>): SandboxRecord;
  updateCompany(id: string, properties: Record<string, string>): SandboxRecord;
  deleteCompany(id: string): void;
  getCompany(id: string): SandboxRecord | undefined;
  createContact(properties: Record<string, string>): SandboxRecord;
  updateContact(id: string, properties: Record<string, string>): SandboxRecord;
  deleteContact(id: string): void;
  getContact(id: string): SandboxRecord | undefined;
}

const MAX_BATCH_INPUTS = 100;
const MAX_LIST_LIMIT = 100;
// Contact-to-company association types that make a company the contact's primary one.
const COMPANY_ASSOCIATION_TYPE_IDS = new Set([1, 279]);

const idSchema = z.union([z.string(), z.number()]).transform(String);
const propertiesBodySchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));
const createBodySchema = z.object({
  properties: propertiesBodySchema.default({}),
  associations: z
    .array(
      z.object({
        to: z.object({ id: idSchema }),
        types: z.array(z.object({ associationCategory: z.string(), associationTypeId: z.number() })),
      }),
    )
    .optional(),
});
const updateBodySchema = z.object({ properties: propertiesBodySchema });
const batchReadBodySchema = z.object({
  properties: z.array(z.string()).optional(),
  inputs: z.array(z.object({ id: idSchema })),
});
const batchUpdateBodySchema = z.object({
  inputs: z.array(z.object({ id: idSchema, properties: propertiesBodySchema })),
});

/** An answer in HubSpot's error shape; its rate-limit answers have no category. */
function hubspotError(
  status: number,
  category: string | null,
  message: string,
  extra: Record<string, unknown> = {},
): SandboxAnswer {
  const body = { status: 'error', message, correlationId: randomUUID(), ...(category === null ? {} : { category }) };
  return { status, body: { ...body, ...extra } };
}

/** A refusal a route throws, answered in HubSpot's error shape. */
class HubSpotApiError extends Error {
  readonly code = 'HUBSPOT_SANDBOX_REFUSAL';
  readonly answer: SandboxAnswer;
  constructor(status: number, category: string, message: string, extra?: Record<string, unknown>) {
    super(message);
    this.answer = hubspotError(status, category, message, extra);
  }
}

const invalid = (message: string) => new HubSpotApiError(400, 'VALIDATION_ERROR', message);
const rateLimitBody = (policyName: string) => ({ errorType: 'RATE_LIMIT', policyName });
const secondly = () => hubspotError(429, null, 'You have reached your secondly limit.', rateLimitBody('SECONDLY'));
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
    refuse: () =>
      hubspotError(
        429,
        null,
        'You have reached your ten_secondly_rolling limit.',
        rateLimitBody('TEN_SECONDLY_ROLLING'),
      ),
    report: (remaining, { limit, windowMs }) => ({
      'X-HubSpot-RateLimit-Interval-Milliseconds': String(windowMs),
      'X-HubSpot-RateLimit-Max': String(limit),
      'X-HubSpot-RateLimit-Remaining': String(remaining),
    }),
  },
  search: { limit: 5, windowMs: 1000, counts: isSearch, refuse: secondly },
};

/** Starts a sandbox server. */
export async function startHubSpotSandbox(options: HubSpotSandboxOptions = {}): Promise<HubSpotSandbox> {
  const token = options.token ?? 'sandbox-token';
  const dispatcher = new WebhookDispatcher(
    options.webhook ?? null,
    options.log ?? ((message) => console.warn(message)),
  );
  const store = new SandboxStore((changes) => {
    dispatcher.enqueue(changes);
    saveState(options.file, () => store.snapshot());
  });
  const restored = loadState(options.file, snapshotSchema);
  if (restored) store.restore(restored);
  if (options.seed && store.isEmpty()) {
    const companyIds = (options.seed.companies ?? []).map((properties) => writeDirect('companies', properties).id);
    for (const properties of options.seed.contacts ?? []) {
      // `#<n>` names the n-th company of the same seed.
      const reference = /^#(\d+)$/.exec(properties.associatedcompanyid ?? '')?.[1];
      const companyId = reference === undefined ? properties.associatedcompanyid : companyIds[Number(reference)];
      writeDirect('contacts', {
        ...properties,
        ...(companyId === undefined ? {} : { associatedcompanyid: companyId }),
      });
    }
  }

  /** A create (no id) or update as a user in HubSpot's UI makes it. */
  function writeDirect(objectType: SandboxObjectType, properties: Record<string, string>, id?: string): StoredObject {
    const problems = store.problems(objectType, properties).map((problem) => `${problem.name} (${problem.error})`);
    if (problems.length > 0) throw new Error(`hubspot sandbox: ${objectType} cannot take ${problems.join(', ')}`);
    const object =
      id === undefined
        ? store.create(objectType, properties, 'CRM_UI')
        : store.update(objectType, id, properties, 'CRM_UI');
    if (!object) throw new Error(`hubspot sandbox: no ${objectType} record ${String(id)}`);
    return object;
  }

  function checkedProperties(
    objectType: SandboxObjectType,
    raw: Record<string, string | number | boolean | null>,
  ): Record<string, string> {
    const properties = Object.fromEntries(
      Object.entries(raw).map(([name, value]) => [name, value === null ? '' : String(value)]),
    );
    const problems = store.problems(objectType, properties);
    if (problems.length > 0)
      throw invalid(`Property values were not valid: ${JSON.stringify(problems.map(describeProblem))}`);
    return properties;
  }

  function findOrThrow(objectType: SandboxObjectType, id: string): StoredObject {
    const object = store.get(objectType, id);
    if (object) return object;
    throw new HubSpotApiError(404, 'OBJECT_NOT_FOUND', 'Object not found.  objectId are usually numeric.', {
      context: { id: [id] },
    });
  }

  const { app, listen } = createSandboxServer(
    {
      api: /^(?=\/crm\/)/,
      authenticate: (request) =>
        request.headers.authorization === `Bearer ${token}`
          ? undefined
          : hubspotError(
              401,
              'INVALID_AUTHENTICATION',
              'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
            ),
      throttled: secondly,
      unavailable: () => hubspotError(500, 'INTERNAL_ERROR', 'internal error'),
      rateLimits: HUBSPOT_RATE_LIMITS,
    },
    options,
  );
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof HubSpotApiError) return sendAnswer(reply, error.answer);
    if (error instanceof SearchRefusedError) return sendAnswer(reply, invalid(error.message).answer);
    if (error instanceof z.ZodError) {
      const issue = error.issues[0];
      const detail = issue ? `${issue.path.join('.')}: ${issue.message}` : 'unexpected shape';
      return sendAnswer(reply, invalid(`Invalid input JSON: ${detail}`).answer);
    }
    const status = z.object({ statusCode: z.number() }).safeParse(error).data?.statusCode ?? 500;
    const message = error instanceof Error ? error.message : String(error);
    return sendAnswer(reply, hubspotError(status, status < 500 ? 'VALIDATION_ERROR' : 'INTERNAL_ERROR', message));
  });
  app.setNotFoundHandler((request, reply) =>
    sendAnswer(reply, hubspotError(404, 'OBJECT_NOT_FOUND', `No route for ${request.method} ${request.url}`)),
  );

  app.get('/crm/v3/objects/:objectType', (request) => {
    const objectType = objectTypeParam(request);
    const query = z.record(z.string(), z.unknown()).parse(request.query);
    const limit = query.limit === undefined ? 10 : Number(query.limit);
    const after = query.after === undefined ? 0 : Number(query.after);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT)
      throw invalid(`limit must be between 1 and ${MAX_LIST_LIMIT}`);
    if (!Number.isFinite(after)) throw invalid('after must be a number');
    const remaining = store.all(objectType).filter((object) => Number(object.id) > after);
    const page = remaining.slice(0, limit);
    const last = page.at(-1);
    const link = `${request.url.split('?')[0] ?? ''}?after=${last?.id ?? ''}`;
    return {
      results: page.map((object) => view(objectType, object, requestedProperties(query.properties))),
      ...(remaining.length > limit && last ? { paging: { next: { after: last.id, link } } } : {}),
    };
  });

  app.get('/crm/v3/objects/:objectType/:id', (request) => {
    const objectType = objectTypeParam(request);
    const query = z.record(z.string(), z.unknown()).parse(request.query);
    return view(objectType, findOrThrow(objectType, idParam(request)), requestedProperties(query.properties));
  });

  app.post('/crm/v3/objects/:objectType', async (request, reply) => {
    const objectType = objectTypeParam(request);
    const body = createBodySchema.parse(request.body ?? {});
    const properties = checkedProperties(objectType, body.properties);
    const company = body.associations?.find((association) =>
      association.types.some((type) => COMPANY_ASSOCIATION_TYPE_IDS.has(type.associationTypeId)),
    );
    if (objectType === 'contacts' && company) {
      if (!store.get('companies', company.to.id)) throw invalid(`Company ${company.to.id} does not exist`);
      properties.associatedcompanyid = company.to.id;
    }
    const object = store.create(objectType, properties, 'INTEGRATION');
    return reply.code(201).send(view(objectType, object, Object.keys(object.properties)));
  });

  app.patch('/crm/v3/objects/:objectType/:id', (request) => {
    const objectType = objectTypeParam(request);
    const id = idParam(request);
    findOrThrow(objectType, id);
    const properties = checkedProperties(objectType, updateBodySchema.parse(request.body ?? {}).properties);
    const object = store.update(objectType, id, properties, 'INTEGRATION') ?? findOrThrow(objectType, id);
    return view(objectType, object, Object.keys(properties));
  });

  app.delete('/crm/v3/objects/:objectType/:id', async (request, reply) => {
    const objectType = objectTypeParam(request);
    findOrThrow(objectType, idParam(request));
    store.delete(objectType, idParam(request), 'INTEGRATION');
    return reply.code(204).send();
  });

  app.post('/crm/v3/objects/:objectType/search', (request) => {
    const objectType = objectTypeParam(request);
    const body = searchBodySchema.parse(request.body ?? {});
    const { total, page, nextAfter } = runSearch(objectType, store.all(objectType), body);
    const properties = body.properties && body.properties.length > 0 ? body.properties : undefined;
    return {
      total,
      results: page.map((object) => view(objectType, object, properties)),
      ...(nextAfter === undefined ? {} : { paging: { next: { after: nextAfter } } }),
    };
  });

  app.post('/crm/v3/objects/:objectType/batch/read', async (request, reply) => {
    const objectType = objectTypeParam(request);
    const body = batchReadBodySchema.parse(request.body ?? {});
    checkBatchSize(body.inputs.length);
    const startedAt = new Date().toISOString();
    const results = body.inputs.map((input) => ({ id: input.id, object: store.get(objectType, input.id) }));
    const found = results.flatMap(({ object }) => (object ? [view(objectType, object, body.properties)] : []));
    const missing = results.filter(({ object }) => !object).map(({ id }) => id);
    return batchAnswer(reply, objectType, found, missing, 'get', startedAt);
  });

  app.post('/crm/v3/objects/:objectType/batch/update', async (request, reply) => {
    const objectType = objectTypeParam(request);
    const body = batchUpdateBodySchema.parse(request.body ?? {});
    checkBatchSize(body.inputs.length);
    if (new Set(body.inputs.map((input) => input.id)).size !== body.inputs.length)
      throw invalid('Duplicate IDs found in batch input');
    // Like HubSpot, one invalid property refuses the whole batch before anything is written.
    const inputs = body.inputs.map(({ id, properties }) => ({
      id,
      properties: checkedProperties(objectType, properties),
    }));
    const startedAt = new Date().toISOString();
    const written: SandboxRecord[] = [];
    const missing: string[] = [];
    for (const input of inputs) {
      const object = store.update(objectType, input.id, input.properties, 'INTEGRATION');
      if (object) written.push(view(objectType, object, Object.keys(input.properties)));
      else missing.push(input.id);
    }
    return batchAnswer(reply, objectType, written, missing, 'update', startedAt);
  });
  const { origin, controls } = await listen();

  const direct = (objectType: SandboxObjectType) => ({
    create: (properties: Record<string, string>) =>
      view(objectType, writeDirect(objectType, properties), undefined, true),
    update: (id: string, properties: Record<string, string>) =>
      view(objectType, writeDirect(objectType, properties, id), undefined, true),
    delete: (id: string) => {
      if (!store.delete(objectType, id, 'CRM_UI')) throw new Error(`hubspot sandbox: no ${objectType} record ${id}`);
    },
    get: (id: string) => {
      const object = store.get(objectType, id);
      return object ? view(objectType, object, undefined, true) : undefined;
    },
  });
  const companies = direct('companies');
  const contacts = direct('contacts');

  return {
    ...controls,
    url: origin,
    close: async () => {
      await dispatcher.close();
      await controls.close();
    },
    setWebhookTarget: (target) => dispatcher.setTarget(target),
    flushWebhooks: () => dispatcher.flush(),
    createCompany: companies.create,
    updateCompany: companies.update,
    deleteCompany: companies.delete,
    getCompany: companies.get,
    createContact: contacts.create,
    updateContact: contacts.update,
    deleteContact: contacts.delete,
    getContact: contacts.get,
  };
}

function batchAnswer(
  reply: FastifyReply,
  objectType: SandboxObjectType,
  results: SandboxRecord[],
  missing: string[],
  verb: string,
  startedAt: string,
) {
  const completedAt = new Date().toISOString();
  if (missing.length === 0) return reply.code(200).send({ status: 'COMPLETE', results, startedAt, completedAt });
  const label = objectType === 'companies' ? 'COMPANY' : 'CONTACT';
  const error = {
    status: 'error',
    category: 'OBJECT_NOT_FOUND',
    message: `Could not ${verb} some ${label} objects, they may be deleted or not exist. Check that ids are valid.`,
    context: { ids: missing },
  };
  return reply.code(207).send({ status: 'COMPLETE', results, numErrors: 1, errors: [error], startedAt, completedAt });
}

function checkBatchSize(size: number): void {
  if (size > MAX_BATCH_INPUTS)
    throw invalid(`Batch input limit exceeded: ${size} inputs, at most ${MAX_BATCH_INPUTS} allowed`);
}

/** The record as the API shows it: requested properties (null when unset) plus the system ones. */
function view(
  objectType: SandboxObjectType,
  object: StoredObject,
  requested?: readonly string[],
  everything = false,
): SandboxRecord {
  const system = ['createdate', MODIFIED_PROPERTY[objectType], 'hs_object_id'];
  const names = everything
    ? Object.keys(object.properties)
    : [...(requested ?? DEFAULT_READ_PROPERTIES[objectType]), ...system];
  // HubSpot leaves out requested properties the object type does not have.
  const known = names.filter((name) => isKnownProperty(objectType, name));
  const properties = Object.fromEntries(known.map((name) => [name, object.properties[name] ?? null]));
  return { id: object.id, properties, createdAt: object.createdAt, updatedAt: object.updatedAt, archived: false };
}

function requestedProperties(raw: unknown): string[] | undefined {
  const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  const names = values
    .flatMap((value) => String(value).split(','))
    .map((name) => name.trim())
    .filter((name) => name !== '');
  return names.length > 0 ? names : undefined;
}

function objectTypeParam(request: FastifyRequest): SandboxObjectType {
  const { objectType } = z.object({ objectType: z.string() }).parse(request.params);
  const match = SANDBOX_OBJECT_TYPES.find((candidate) => candidate === objectType);
  if (!match) throw invalid(`Unable to infer object type from: ${objectType}`);
  return match;
}

function idParam(request: FastifyRequest): string {
  return z.object({ id: z.string() }).parse(request.params).id;
}

function describeProblem(problem: PropertyProblem) {
  const message =
    problem.error === 'READ_ONLY_VALUE'
      ? `"${problem.name}" is a read only property; its value cannot be set.`
      : `Property "${problem.name}" does not exist`;
  return { isValid: false, message, error: problem.error, name: problem.name };
}
