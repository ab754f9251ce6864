/**
 * A local stand-in for the HubSpot CRM v3 API: the subset tandem uses (objects, list, search,
 * batch read/update) with HubSpot's paths, payloads and error bodies, signed webhooks for every
 * change, and knobs for latency, 429 and 5xx. For tests and demos; it keeps no secrets.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  DEFAULT_READ_PROPERTIES,
  MODIFIED_PROPERTY,
  SANDBOX_OBJECT_TYPES,
  type SandboxObjectType,
  isKnownProperty,
} from './properties';
import { SearchRefusedError, runSearch, searchBodySchema } from './search';
import type { HubSpotSandboxSeed } from './seed';
import { type PropertyProblem, SandboxStore, type StoreSnapshot, type StoredObject } from './store';
import { WebhookDispatcher, type WebhookTarget } from './webhooks';

/** Options of startHubSpotSandbox. */
export interface HubSpotSandboxOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** The bearer token every API call must carry; default 'sandbox-token'. */
  token?: string;
  /** Delay added to every API call. */
  latencyMs?: number;
  /** Probabilities (0..1) that an API call fails with 429 or 500. */
  failures?: { rate429?: number; rate5xx?: number };
  /** Where to send webhooks; none are sent without it. */
  webhook?: WebhookTarget;
  /** A JSON file to load the portal from at start and to write on every change. */
  file?: string;
  /** Records to create when the portal starts empty. */
  seed?: HubSpotSandboxSeed;
  /** Where delivery problems are reported; default console.warn. */
  log?: (message: string) => void;
}

/** One API call the sandbox handled. `status` is set once the answer is sent. */
export interface SandboxRequest {
  method: string;
  path: string;
  status?: number;
}

/** Failures to inject into the next API calls, in this order: 429s first, then 5xx. */
export interface InjectedFailures {
  next429?: number;
  next5xx?: number;
  /** Retry-After of injected 429s, in seconds (default 1). */
  retryAfterSeconds?: number;
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
export interface HubSpotSandbox {
  /** Base URL to give the connector, e.g. http://127.0.0.1:53121. */
  readonly url: string;
  readonly port: number;
  /** API calls handled so far (including injected failures), oldest first. */
  readonly requests: readonly SandboxRequest[];
  /** Forgets the request log. */
  resetRequests(): void;
  close(): Promise<void>;
  setWebhookTarget(target: WebhookTarget | null): void;
  /** Sends queued webhook events now and waits until every delivery is done. */
  flushWebhooks(): Promise<void>;
  injectFailures(failures: InjectedFailures): void;
  setLatency(ms: number): void;
  createCompany(properties: Record<string, string>): SandboxRecord;
  updateCompany(id: string, properties: Record<string, string>): SandboxRecord;
  deleteCompany(id: string): void;
  getCompany(id: string): SandboxRecord | undefined;
  createContact(properties: Record<string, string>): SandboxRecord;
  updateContact(id: string, properties: Record<string, string>): SandboxRecord;
  deleteContact(id: string): void;
  getContact(id: string): SandboxRecord | undefined;
}

const DEFAULT_TOKEN = 'sandbox-token';
const MAX_BATCH_INPUTS = 100;
const MAX_LIST_LIMIT = 100;

const propertiesBodySchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));
const createBodySchema = z.object({
  properties: propertiesBodySchema.default({}),
  associations: z
    .array(
      z.object({
        to: z.object({ id: z.union([z.string(), z.number()]) }),
        types: z.array(z.object({ associationCategory: z.string(), associationTypeId: z.number() })),
      }),
    )
    .optional(),
});
const updateBodySchema = z.object({ properties: propertiesBodySchema });
const batchReadBodySchema = z.object({
  properties: z.array(z.string()).optional(),
  inputs: z.array(z.object({ id: z.union([z.string(), z.number()]) })),
});
const batchUpdateBodySchema = z.object({
  inputs: z.array(z.object({ id: z.union([z.string(), z.number()]), properties: propertiesBodySchema })),
});
const snapshotSchema = z.object({
  nextId: z.object({ companies: z.number(), contacts: z.number() }),
  lastChangeAt: z.number(),
  companies: z.array(
    z.object({
      id: z.string(),
      properties: z.record(z.string(), z.string()),
      createdAt: z.string(),
      updatedAt: z.string(),
    }),
  ),
  contacts: z.array(
    z.object({
      id: z.string(),
      properties: z.record(z.string(), z.string()),
      createdAt: z.string(),
      updatedAt: z.string(),
    }),
  ),
}) satisfies z.ZodType<StoreSnapshot>;

// Contact-to-company association types that make a company the contact's primary one.
const COMPANY_ASSOCIATION_TYPE_IDS = new Set([1, 279]);

/** An answer the sandbox gives in HubSpot's error shape. */
class HubSpotApiError extends Error {
  constructor(
    readonly statusCode: number,
    /** HubSpot's error category; its rate-limit answers have none. */
    readonly category: string | null,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Starts a sandbox server. */
export async function startHubSpotSandbox(options: HubSpotSandboxOptions = {}): Promise<HubSpotSandbox> {
  const token = options.token ?? DEFAULT_TOKEN;
  const log = options.log ?? ((message: string) => console.warn(message));
  let latencyMs = options.latencyMs ?? 0;
  const injected = { next429: 0, next5xx: 0, retryAfterSeconds: 1 };
  const requests: SandboxRequest[] = [];
  const dispatcher = new WebhookDispatcher(options.webhook ?? null, log);
  const store = new SandboxStore((changes) => {
    dispatcher.enqueue(changes);
    persist();
  });

  if (options.file && existsSync(options.file)) {
    store.restore(snapshotSchema.parse(JSON.parse(readFileSync(options.file, 'utf8'))));
  }
  if (options.seed && store.isEmpty()) applySeed(options.seed);

  function persist(): void {
    if (!options.file) return;
    // Write then rename, so a crash never leaves half a file behind.
    const temporary = `${options.file}.tmp`;
    writeFileSync(temporary, JSON.stringify(store.snapshot(), null, 2));
    renameSync(temporary, options.file);
  }

  function applySeed(seed: HubSpotSandboxSeed): void {
    const companyIds = (seed.companies ?? []).map((properties) => writeDirect('companies', properties, 'create').id);
    for (const properties of seed.contacts ?? []) {
      const reference = /^#(\d+)$/.exec(properties.associatedcompanyid ?? '');
      const companyId = reference ? companyIds[Number(reference[1])] : properties.associatedcompanyid;
      writeDirect(
        'contacts',
        { ...properties, ...(companyId === undefined ? {} : { associatedcompanyid: companyId }) },
        'create',
      );
    }
  }

  function writeDirect(
    objectType: SandboxObjectType,
    properties: Record<string, string>,
    action: 'create',
  ): StoredObject;
  function writeDirect(
    objectType: SandboxObjectType,
    properties: Record<string, string>,
    action: 'update',
    id: string,
  ): StoredObject;
  function writeDirect(
    objectType: SandboxObjectType,
    properties: Record<string, string>,
    action: 'create' | 'update',
    id?: string,
  ): StoredObject {
    const problems = store.problems(objectType, properties);
    if (problems.length > 0)
      throw new Error(
        `hubspot sandbox: ${objectType} cannot take ${problems.map((problem) => `${problem.name} (${problem.error})`).join(', ')}`,
      );
    if (action === 'create') return store.create(objectType, properties, 'CRM_UI');
    const updated = store.update(objectType, id ?? '', properties, 'CRM_UI');
    if (!updated) throw new Error(`hubspot sandbox: no ${objectType} record ${String(id)}`);
    return updated;
  }

  const app = Fastify({ logger: false });
  const entries = new WeakMap<FastifyRequest, SandboxRequest>();

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? request.url;
    if (!path.startsWith('/crm/')) return;
    const entry: SandboxRequest = { method: request.method, path };
    requests.push(entry);
    entries.set(request, entry);
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    if (request.headers.authorization !== `Bearer ${token}`) {
      return sendError(
        reply,
        new HubSpotApiError(
          401,
          'INVALID_AUTHENTICATION',
          'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
        ),
      );
    }
    const rate429 = options.failures?.rate429 ?? 0;
    const rate5xx = options.failures?.rate5xx ?? 0;
    if (injected.next429 > 0 || Math.random() < rate429) {
      if (injected.next429 > 0) injected.next429--;
      reply.header('Retry-After', String(injected.retryAfterSeconds));
      return sendError(
        reply,
        new HubSpotApiError(429, null, 'You have reached your secondly limit.', {
          errorType: 'RATE_LIMIT',
          policyName: 'SECONDLY',
        }),
      );
    }
    if (injected.next5xx > 0 || Math.random() < rate5xx) {
      if (injected.next5xx > 0) injected.next5xx--;
      return sendError(reply, new HubSpotApiError(500, 'INTERNAL_ERROR', 'internal error'));
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    const entry = entries.get(request);
    if (entry) entry.status = reply.statusCode;
  });

  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof HubSpotApiError) return sendError(reply, error);
    if (error instanceof SearchRefusedError)
      return sendError(reply, new HubSpotApiError(400, 'VALIDATION_ERROR', error.message));
    if (error instanceof z.ZodError) {
      const issue = error.issues[0];
      return sendError(
        reply,
        new HubSpotApiError(
          400,
          'VALIDATION_ERROR',
          `Invalid input JSON: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unexpected shape'}`,
        ),
      );
    }
    const status =
      typeof (error as { statusCode?: unknown }).statusCode === 'number'
        ? (error as { statusCode: number }).statusCode
        : 500;
    return sendError(
      reply,
      new HubSpotApiError(
        status,
        status < 500 ? 'VALIDATION_ERROR' : 'INTERNAL_ERROR',
        error instanceof Error ? error.message : String(error),
      ),
    );
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new HubSpotApiError(404, 'OBJECT_NOT_FOUND', `No route for ${request.method} ${request.url}`)),
  );

  app.get('/crm/v3/objects/:objectType', async (request) => {
    const objectType = objectTypeParam(request);
    const query = request.query as Record<string, unknown>;
    const limit = query.limit === undefined ? 10 : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT)
      throw new HubSpotApiError(400, 'VALIDATION_ERROR', `limit must be between 1 and ${MAX_LIST_LIMIT}`);
    const after = query.after === undefined ? 0 : Number(query.after);
    if (!Number.isFinite(after)) throw new HubSpotApiError(400, 'VALIDATION_ERROR', 'after must be a number');
    const properties = requestedProperties(query.properties);
    const remaining = store.all(objectType).filter((object) => Number(object.id) > after);
    const page = remaining.slice(0, limit);
    const last = page[page.length - 1];
    return {
      results: page.map((object) => view(objectType, object, properties)),
      ...(remaining.length > limit && last
        ? { paging: { next: { after: last.id, link: `${request.url.split('?')[0] ?? ''}?after=${last.id}` } } }
        : {}),
    };
  });

  app.get('/crm/v3/objects/:objectType/:id', async (request) => {
    const objectType = objectTypeParam(request);
    const object = findOrThrow(objectType, idParam(request));
    return view(objectType, object, requestedProperties((request.query as Record<string, unknown>).properties));
  });

  app.post('/crm/v3/objects/:objectType', async (request, reply) => {
    const objectType = objectTypeParam(request);
    const body = createBodySchema.parse(request.body ?? {});
    const properties = checkedProperties(objectType, body.properties);
    if (objectType === 'contacts') {
      const company = body.associations?.find((association) =>
        association.types.some((type) => COMPANY_ASSOCIATION_TYPE_IDS.has(type.associationTypeId)),
      );
      if (company) {
        const companyId = String(company.to.id);
        if (!store.get('companies', companyId))
          throw new HubSpotApiError(400, 'VALIDATION_ERROR', `Company ${companyId} does not exist`);
        properties.associatedcompanyid = companyId;
      }
    }
    const object = store.create(objectType, properties, 'INTEGRATION');
    return reply.code(201).send(view(objectType, object, Object.keys(object.properties)));
  });

  app.patch('/crm/v3/objects/:objectType/:id', async (request) => {
    const objectType = objectTypeParam(request);
    const id = idParam(request);
    findOrThrow(objectType, id);
    const properties = checkedProperties(objectType, updateBodySchema.parse(request.body ?? {}).properties);
    const object = store.update(objectType, id, properties, 'INTEGRATION') ?? findOrThrow(objectType, id);
    return view(objectType, object, Object.keys(properties));
  });

  app.delete('/crm/v3/objects/:objectType/:id', async (request, reply) => {
    const objectType = objectTypeParam(request);
    const id = idParam(request);
    findOrThrow(objectType, id);
    store.delete(objectType, id, 'INTEGRATION');
    return reply.code(204).send();
  });

  app.post('/crm/v3/objects/:objectType/search', async (request) => {
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
    const found: StoredObject[] = [];
    const missing: string[] = [];
    for (const input of body.inputs) {
      const object = store.get(objectType, String(input.id));
      if (object) found.push(object);
      else missing.push(String(input.id));
    }
    return batchAnswer(
      reply,
      objectType,
      found.map((object) => view(objectType, object, body.properties)),
      missing,
      'get',
      startedAt,
    );
  });

  app.post('/crm/v3/objects/:objectType/batch/update', async (request, reply) => {
    const objectType = objectTypeParam(request);
    const body = batchUpdateBodySchema.parse(request.body ?? {});
    checkBatchSize(body.inputs.length);
    const ids = body.inputs.map((input) => String(input.id));
    if (new Set(ids).size !== ids.length)
      throw new HubSpotApiError(400, 'VALIDATION_ERROR', 'Duplicate IDs found in batch input');
    // Like HubSpot, one invalid property refuses the whole batch before anything is written.
    const inputs = body.inputs.map((input) => ({
      id: String(input.id),
      properties: checkedProperties(objectType, input.properties),
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
    return reply.code(207).send({
      status: 'COMPLETE',
      results,
      numErrors: 1,
      errors: [
        {
          status: 'error',
          category: 'OBJECT_NOT_FOUND',
          message: `Could not ${verb} some ${label} objects, they may be deleted or not exist. Check that ids are valid.`,
          context: { ids: missing },
        },
      ],
      startedAt,
      completedAt,
    });
  }

  function checkBatchSize(size: number): void {
    if (size > MAX_BATCH_INPUTS)
      throw new HubSpotApiError(
        400,
        'VALIDATION_ERROR',
        `Batch input limit exceeded: ${size} inputs, at most ${MAX_BATCH_INPUTS} allowed`,
      );
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
      throw new HubSpotApiError(
        400,
        'VALIDATION_ERROR',
        `Property values were not valid: ${JSON.stringify(problems.map(describeProblem))}`,
      );
    return properties;
  }

  function findOrThrow(objectType: SandboxObjectType, id: string): StoredObject {
    const object = store.get(objectType, id);
    if (!object)
      throw new HubSpotApiError(404, 'OBJECT_NOT_FOUND', 'Object not found.  objectId are usually numeric.', {
        context: { id: [id] },
      });
    return object;
  }

  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('hubspot sandbox: no TCP address');
  const host = options.host ?? '127.0.0.1';

  const direct = (objectType: SandboxObjectType) => ({
    create: (properties: Record<string, string>) =>
      view(objectType, writeDirect(objectType, properties, 'create'), undefined, true),
    update: (id: string, properties: Record<string, string>) =>
      view(objectType, writeDirect(objectType, properties, 'update', id), undefined, true),
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
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    port: address.port,
    requests,
    resetRequests: () => {
      requests.length = 0;
    },
    close: async () => {
      await dispatcher.close();
      await app.close();
    },
    setWebhookTarget: (target) => dispatcher.setTarget(target),
    flushWebhooks: () => dispatcher.flush(),
    injectFailures: (failures) => {
      injected.next429 = failures.next429 ?? injected.next429;
      injected.next5xx = failures.next5xx ?? injected.next5xx;
      injected.retryAfterSeconds = failures.retryAfterSeconds ?? injected.retryAfterSeconds;
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
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

/** The record as the API shows it: requested properties (null when unset) plus the system ones. */
function view(
  objectType: SandboxObjectType,
  object: StoredObject,
  requested?: readonly string[],
  everything = false,
): SandboxRecord {
  const names = everything
    ? Object.keys(object.properties)
    : [
        ...(requested ?? DEFAULT_READ_PROPERTIES[objectType]),
        'createdate',
        MODIFIED_PROPERTY[objectType],
        'hs_object_id',
      ];
  const properties: Record<string, string | null> = {};
  // HubSpot leaves out requested properties the object type does not have.
  for (const name of names) if (isKnownProperty(objectType, name)) properties[name] = object.properties[name] ?? null;
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
  const { objectType } = request.params as { objectType?: string };
  const match = SANDBOX_OBJECT_TYPES.find((candidate) => candidate === objectType);
  if (!match)
    throw new HubSpotApiError(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${String(objectType)}`);
  return match;
}

function idParam(request: FastifyRequest): string {
  return String((request.params as { id?: string }).id ?? '');
}

function describeProblem(problem: PropertyProblem) {
  const message =
    problem.error === 'READ_ONLY_VALUE'
      ? `"${problem.name}" is a read only property; its value cannot be set.`
      : `Property "${problem.name}" does not exist`;
  return { isValid: false, message, error: problem.error, name: problem.name };
}

function sendError(reply: FastifyReply, error: HubSpotApiError): FastifyReply {
  return reply
    .code(error.statusCode)
    .type('application/json')
    .send({
      status: 'error',
      message: error.message,
      correlationId: randomUUID(),
      ...(error.category === null ? {} : { category: error.category }),
      ...error.extra,
    });
}
