/** A connector as a declarative definition (`defineConnector`); connectors/README.md says what the kit derives from it. */
import type { z } from 'zod';
import {
  ACCOUNT_KINDS,
  type AccountKind,
  type Entity,
  type FieldEarlier,
  type FieldValue,
  type SyncRecord,
  type System,
} from '../../src/core/model';
import {
  EntityNotServedError,
  InvalidIdError,
  InvalidRequestError,
  InvalidResponseError,
  NotFoundError,
  RateLimitedError,
} from './errors';
import { ProviderClock } from './clock';
import { rankSearch, SEARCH_MAX_RESULTS, SEARCH_OVERFETCH, searchText } from './search';
import { ReadCoalescer } from './coalesce';
import { currentPriority } from './priority';
import { HttpClient, type AuthProvider, type ResponseObserver, type RetryPolicy } from './http';
import { SharedLimiter, type BudgetFactory } from './budget';
import { RequestLimiter, type Limiter, type LimiterClock } from './limiter';
import type {
  BatchItemResult,
  ChangedPage,
  Connector,
  ConnectorLimits,
  CreateOptions,
  CreatedDocument,
  DocumentInput,
  DocumentType,
  FieldDescription,
  RecordUpdate,
  WebhookAdapter,
} from './types';

/** What the app hands every connector it builds, besides its config. */
export interface ConnectorContext {
  /** The connector's name in config: its slot, `crm` or `accounting`. */
  name: string;
  observe?: ResponseObserver;
  retry?: Partial<RetryPolicy>;
  /** The public URL of the connector's webhook route (what a provider signs), when one is configured. */
  webhookUrl?: string;
  /** Secrets the connector rotated earlier (Xero's refresh token), by name. */
  storedSecrets?: Readonly<Record<string, string>>;
  /** Keeps a rotated secret so the next start uses it. */
  saveSecret?: (name: string, value: string) => Promise<void>;
  /** The account kinds the store links these accounting ids as. */
  relationKinds?: (accountIds: readonly string[]) => Promise<ReadonlyMap<string, readonly AccountKind[]>>;
  /** The provider fields mapped as `custom.<name>` per entity, as the config in force names them now. */
  customFields?: (entity: Entity) => readonly string[];
  /** The local clock, injectable for tests. */
  now?: () => number;
  /** Clock and sleep of the request limiter, injectable so tests need not wait out a window. */
  limiterClock?: LimiterClock;
  /** How long a single read waits for others to share a batch call (./coalesce.ts); 0: none. Default READ_WINDOW_MS. */
  readWindowMs?: number;
  /** The request budget shared with every other process (./budget.ts); without it the limits are kept in process. */
  budget?: BudgetFactory;
}

/** How long a provider's described schema is kept before it is read again. */
export const DESCRIBE_TTL_MS = 10 * 60_000;

/** The default wait of a single read for others to batch with: short against any API's round trip. */
export const READ_WINDOW_MS = 10;
/** The most ids a coalesced read carries where the connector declares no batch size. */
const DEFAULT_READ_BATCH = 100;

/** The config a connector is built from: its own keys (the schema in its folder) and the shared baseUrl. */
export type ConnectorSettings<Config extends z.ZodObject> = z.output<Config> & { baseUrl: string };

/** What `connect` gets besides the settings. */
export interface ConnectTools {
  context: ConnectorContext;
  /** The kit's HTTP client for this connector: the context's retry policy and observer, the declared limits. */
  http: (options: { baseURL: string; auth?: AuthProvider }) => HttpClient;
  /** The provider's clock as its answers tell it; the kit moves every time the connector returns onto the local clock. */
  clock: ProviderClock;
}

/** The handlers of one entity: each the Connector method of its name, with the session first and the entity fixed. */
export interface EntityDefinition<Session> {
  /** The canonical fields the connector reads and writes for this entity. */
  fields: (session: Session) => readonly string[];
  get: (session: Session, id: string) => Promise<SyncRecord | null>;
  /**
   * Up to `limit` records the provider finds for `text` by name, e-mail, number or VAT no.; the
   * kit keeps those every word occurs in (see ./search.ts), so a broader query is fine.
   */
  search?: (session: Session, text: string, limit: number) => Promise<SyncRecord[]>;
  /** A page's `deleted` carries the deletions the provider can tell of. */
  listChanged?: (session: Session, cursor: string | null) => AsyncIterable<ChangedPage>;
  /** One call: distinct ids, at most `batchSize.read`, one `batchKey`. Without it, one get per id. */
  batchGet?: (session: Session, ids: string[]) => Promise<SyncRecord[]>;
  update?: (session: Session, update: RecordUpdate) => Promise<SyncRecord>;
  /** One call of at most `batchSize.write` updates, one `batchKey`, no id twice (see ../README.md). */
  batchUpdate?: (session: Session, updates: RecordUpdate[]) => Promise<BatchItemResult[]>;
  /** Must be idempotent: a retry with the same key finds what a lost response created. */
  create?: (session: Session, fields: Record<string, FieldValue>, options: CreateOptions) => Promise<SyncRecord>;
  /** Ids with different keys never share a batch call (HubSpot keeps companies and contacts apart). */
  batchKey?: (id: string) => string;
  /** The form of the provider's ids, and what it is (`a HubSpot contact id (...)`): any other id is refused before a call. */
  id?: { pattern: RegExp; means: string };
  /**
   * Reads the provider's schema of the entity: every field, custom ones included, with type,
   * writability and options. Where this is set, the entity's provider fields may be mapped as
   * `custom.<name>`, and its reads and writes carry the ones the context names.
   */
  describe?: (session: Session) => Promise<FieldDescription[]>;
}

/** Everything a connector is: what `defineConnector` takes. */
export interface ConnectorDefinition<Name extends string, Config extends z.ZodObject, Session> {
  /** The connector's `kind` in config. */
  name: Name;
  side: System;
  /** The connector's own config keys; the config adds the shared ones (baseUrl, pollEvery, webhooks, ...). */
  config: Config;
  /** Names of config keys that hold secrets: the config file may only reference them from the environment. */
  secrets?: readonly string[];
  /** The provider's limits, as data: the client keeps the request limits, the kit chunks batches by size. */
  limits?: ConnectorLimits;
  /** Builds the session the handlers share (clients, mappings) from the settings; no I/O. */
  connect: (settings: ConnectorSettings<Config>, tools: ConnectTools) => Session;
  entities: Partial<Record<Entity, EntityDefinition<Session>>>;
  /** The webhook adapter (see ./webhook.ts), or undefined when webhooks are not configured. */
  webhook?: (session: Session) => WebhookAdapter | undefined;
  /** Registers or renews webhook subscriptions where the provider needs that; only with a webhook. */
  subscribe?: (session: Session, notificationUrl: string) => Promise<{ renewAt?: string }>;
  /** The documents it can start; the kit refuses the other types. */
  documents?: {
    types: readonly DocumentType[];
    start: (session: Session, type: DocumentType, input: DocumentInput) => Promise<CreatedDocument>;
    /** Why a type is not offered, told in its refusal. */
    refused?: Partial<Record<DocumentType, string>>;
  };
  /** One cheap authenticated read; the kit counts a 429 as healthy. */
  health?: (session: Session) => Promise<unknown>;
  close?: (session: Session) => Promise<void>;
}

/** A connector as the registry lists it. */
export interface ConnectorKind<Name extends string = string, Config extends z.ZodObject = z.ZodObject> {
  readonly name: Name;
  readonly side: System;
  readonly config: Config;
  /** Names of config keys that hold secrets. */
  readonly secrets: readonly string[];
  /** Builds one instance; no I/O happens until a method is called. */
  create(settings: ConnectorSettings<Config>, context: ConnectorContext): Connector;
}

/** Entities in the order connectors list them. */
const ENTITY_ORDER: readonly Entity[] = ['contact', ...ACCOUNT_KINDS];

/** Declares a connector; the registry (connectors/index.ts) lists what this returns. */
export function defineConnector<const Name extends string, Config extends z.ZodObject, Session>(
  definition: ConnectorDefinition<Name, Config, Session>,
): ConnectorKind<Name, Config> {
  return {
    name: definition.name,
    side: definition.side,
    config: definition.config,
    secrets: definition.secrets ?? [],
    create: (settings, context) => build(definition, settings, context),
  };
}

/**
 * Chunks of at most `size` items sharing one key, in which no id repeats: a later write of an id
 * goes to a later chunk, so writes of one record stay in order.
 */
export function batches<T>(
  items: readonly T[],
  idOf: (item: T) => string,
  size = Number.POSITIVE_INFINITY,
  keyOf: (id: string) => string = () => '',
): T[][] {
  const chunks: { key: string; items: T[]; ids: Set<string> }[] = [];
  for (const item of items) {
    const id = idOf(item);
    const key = keyOf(id);
    let target = chunks.find((chunk) => chunk.key === key && chunk.items.length < size && !chunk.ids.has(id));
    if (!target) {
      target = { key, items: [], ids: new Set() };
      chunks.push(target);
    }
    target.items.push(item);
    target.ids.add(id);
  }
  return chunks.map((chunk) => chunk.items);
}

/** What `connect` gets: the kit's HTTP client with the context's retry policy and observer, and the declared limits. */
export function connectTools(limits: ConnectorLimits, context: ConnectorContext): ConnectTools {
  const limiter = limiterFor(limits, context);
  const { name: connector, retry, observe } = context;
  const clock = new ProviderClock();
  return {
    context,
    clock,
    http: (options) => new HttpClient({ connector, ...options, retry, observe, limiter, clock }),
  };
}

/** The shared budget when the app gives one, else the limits kept in process. */
function limiterFor(limits: ConnectorLimits, context: ConnectorContext): Limiter | undefined {
  if (!limits.requests && !limits.concurrency) return undefined;
  const { budget, limiterClock } = context;
  return budget ? new SharedLimiter(limits, budget(limits), limiterClock) : new RequestLimiter(limits, limiterClock);
}

/**
 * A record with its times on the local clock: last-writer-wins compares times from two systems,
 * and a provider's clock that runs ahead must not win for as long as it does.
 */
function onLocalClock<R extends SyncRecord>(record: R, clock: ProviderClock): R {
  if (clock.offsetMs() === 0) return record;
  const each = <V>(values: Readonly<Partial<Record<string, V>>> | undefined, local: (value: V) => V) =>
    values && Object.fromEntries(Object.entries(values).map(([field, value]) => [field, value && local(value)]));
  const fieldModifiedAt = each<string>(record.fieldModifiedAt, (time) => clock.toLocal(time));
  const fieldPrevious = each<FieldEarlier>(record.fieldPrevious, (before) => ({
    ...before,
    at: clock.toLocal(before.at),
  }));
  return {
    ...record,
    modifiedAt: clock.toLocal(record.modifiedAt),
    ...(fieldModifiedAt && { fieldModifiedAt }),
    ...(fieldPrevious && { fieldPrevious }),
  };
}

/** The webhook adapter on the local clock: signatures are timed by the provider's clock, notices on ours. */
function webhookOnLocalClock(adapter: WebhookAdapter, clock: ProviderClock): WebhookAdapter {
  return {
    ...adapter,
    handle(request, now) {
      const outcome = adapter.handle(request, new Date(clock.providerNow(now.getTime())));
      if (outcome.kind !== 'notices') return outcome;
      const notices = outcome.notices.map((notice) =>
        notice.occurredAt === undefined ? notice : { ...notice, occurredAt: clock.toLocal(notice.occurredAt) },
      );
      return { ...outcome, notices };
    },
  };
}

/** Failures of one record only: they become item results; throttling and outages stop the batch. */
function isItemFailure(error: unknown): error is InvalidRequestError | NotFoundError {
  return error instanceof InvalidRequestError || error instanceof NotFoundError;
}

function build<Config extends z.ZodObject, Session>(
  definition: ConnectorDefinition<string, Config, Session>,
  settings: ConnectorSettings<Config>,
  context: ConnectorContext,
): Connector {
  const { name } = context;
  const { limits = {} } = definition;
  const tools = connectTools(limits, context);
  const session = definition.connect(settings, tools);
  const local = <R extends SyncRecord>(record: R): R => onLocalClock(record, tools.clock);
  const entities = ENTITY_ORDER.filter((entity) => definition.entities[entity] !== undefined);

  const served = (entity: Entity): EntityDefinition<Session> => {
    const handlers = definition.entities[entity];
    if (!handlers) throw new EntityNotServedError(name, entity, entities);
    return handlers;
  };
  const handler = <Op extends keyof EntityDefinition<Session>>(entity: Entity, op: Op) => {
    const found = served(entity)[op];
    if (found === undefined) throw new InvalidRequestError(`${name}: ${definition.name} cannot ${op} ${entity}`);
    return found;
  };
  /** Refuses an id the provider cannot have, so that it costs no call and spoils no batch it would share. */
  const checked = (entity: Entity, id: string): string => {
    const format = served(entity).id;
    if (format && !format.pattern.test(id)) throw new InvalidIdError(name, entity, id, format.means);
    return id;
  };
  const anyEntityHas = (op: keyof EntityDefinition<Session>) =>
    entities.some((entity) => definition.entities[entity]?.[op] !== undefined);

  async function updateEach(entity: Entity, updates: RecordUpdate[]): Promise<BatchItemResult[]> {
    const results: BatchItemResult[] = [];
    for (const update of updates) {
      try {
        results.push({ id: update.id, ok: true, record: await handler(entity, 'update')(session, update) });
      } catch (error) {
        if (!isItemFailure(error)) throw error;
        results.push({ id: update.id, ok: false, error });
      }
    }
    return results;
  }

  async function batchUpdate(entity: Entity, updates: RecordUpdate[]): Promise<BatchItemResult[]> {
    const { batchUpdate: writeBatch, batchKey } = served(entity);
    const results = new Map<RecordUpdate, BatchItemResult>();
    for (const part of batches(updates, (update) => update.id, limits.batchSize?.write, batchKey)) {
      let answered: BatchItemResult[];
      try {
        answered = writeBatch ? await writeBatch(session, part) : await updateEach(entity, part);
      } catch (error) {
        // One bad input fails the whole call: write the items one by one to find it.
        if (!writeBatch || !isItemFailure(error)) throw error;
        answered = await updateEach(entity, part);
      }
      const byId = new Map(answered.map((result) => [result.id, result]));
      for (const update of part) results.set(update, byId.get(update.id) ?? notReported(update.id));
    }
    return updates.map((update) => {
      const result = results.get(update) ?? notReported(update.id);
      return result.ok ? { ...result, record: local(result.record) } : result;
    });
  }

  function notReported(id: string): BatchItemResult {
    return { id, ok: false, error: new InvalidResponseError(`${name}: the batch answer did not report ${id}`) };
  }

  async function batchGet(entity: Entity, ids: string[]): Promise<SyncRecord[]> {
    const { get, batchGet: readBatch, batchKey } = served(entity);
    const unique = [...new Set(ids)].map((id) => checked(entity, id));
    const found: SyncRecord[] = [];
    if (readBatch) {
      for (const part of batches(unique, (id) => id, limits.batchSize?.read, batchKey))
        found.push(...(await readBatch(session, part)));
    } else {
      for (const id of unique) {
        const record = await get(session, id);
        if (record) found.push(record);
      }
    }
    // In the order asked, each record once.
    const byId = new Map(found.map((record) => [record.id, record]));
    return unique.flatMap((id) => {
      const record = byId.get(id);
      return record ? [local(record)] : [];
    });
  }

  // Single reads of an entity with a batch read share batch calls (./coalesce.ts); one alone is a single get.
  const readWindowMs = context.readWindowMs ?? READ_WINDOW_MS;
  const reads = new ReadCoalescer<SyncRecord>(
    async (group, ids) => {
      const entity = group.slice(0, group.indexOf('|')) as Entity;
      if (ids.length === 1) {
        const record = await served(entity).get(session, ids[0] as string);
        return new Map(record ? [[record.id, local(record)]] : []);
      }
      return new Map((await batchGet(entity, ids)).map((record) => [record.id, record]));
    },
    readWindowMs,
    limits.batchSize?.read ?? DEFAULT_READ_BATCH,
  );
  async function getOne(entity: Entity, id: string): Promise<SyncRecord | null> {
    const handlers = served(entity);
    checked(entity, id);
    // An admin's read never waits in a batch of bulk reads: batches are kept apart by priority.
    if (readWindowMs > 0 && handlers.batchGet)
      return reads.load(`${entity}|${currentPriority()}|${handlers.batchKey?.(id) ?? ''}`, id);
    const record = await handlers.get(session, id);
    return record && local(record);
  }

  // The provider's schema changes seldom: read once per DESCRIBE_TTL_MS and entity, shared by callers.
  const described = new Map<Entity, { at: number; fields: Promise<FieldDescription[]> }>();
  const now = context.now ?? Date.now;
  async function describeFields(entity: Entity): Promise<FieldDescription[]> {
    const { describe, fields } = served(entity);
    const canonical = fields(session).map((field): FieldDescription => ({
      name: field,
      label: field,
      type: 'text',
      writable: true,
      custom: false,
    }));
    if (!describe) return canonical;
    let entry = described.get(entity);
    if (!entry || now() - entry.at > DESCRIBE_TTL_MS) {
      entry = { at: now(), fields: describe(session) };
      described.set(entity, entry);
      // A failed read is not kept: the next caller asks again.
      entry.fields.catch(() => described.delete(entity));
    }
    const provider = await entry.fields;
    const named = new Set(provider.map((field) => field.name));
    return [...canonical.filter((field) => !named.has(field.name)), ...provider];
  }

  async function search(entity: Entity, text: string, limit: number): Promise<SyncRecord[]> {
    const find = handler(entity, 'search');
    const wanted = searchText(name, text);
    const shown = Math.max(1, Math.min(SEARCH_MAX_RESULTS, Math.floor(limit)));
    const found = await find(session, wanted, shown * SEARCH_OVERFETCH);
    // An id typed in finds its record, whatever the provider's search makes of it (where ids have a known form).
    const format = served(entity).id;
    const byId = format?.pattern.test(wanted) ? await getOne(entity, wanted) : null;
    return rankSearch([...(byId ? [byId] : []), ...found.map(local)], wanted, shown);
  }

  const adapter = definition.webhook?.(session);
  const webhook = adapter && webhookOnLocalClock(adapter, tools.clock);
  const { subscribe, documents, health, close } = definition;
  return {
    name,
    system: definition.side,
    entities,
    fields: Object.fromEntries(entities.map((entity) => [entity, served(entity).fields(session)])),
    customFields: entities.filter((entity) => served(entity).describe !== undefined),
    describeFields: async (entity) => await describeFields(entity),
    ...((limits.requests ?? limits.concurrency) !== undefined && { limits }),
    // Every method answers a bad entity with a rejected promise, never a synchronous throw.
    get: async (entity, id) => await getOne(entity, id),
    ...(anyEntityHas('listChanged') && {
      listChanged: async function* (entity: Entity, cursor: string | null) {
        for await (const page of handler(entity, 'listChanged')(session, cursor))
          yield { ...page, records: page.records.map(local) };
      },
    }),
    ...(anyEntityHas('batchGet') && { batchGet }),
    ...(anyEntityHas('search') && { search }),
    ...(anyEntityHas('create') && {
      create: async (entity: Entity, fields: Record<string, FieldValue>, options: CreateOptions) =>
        local(await handler(entity, 'create')(session, fields, options)),
    }),
    ...(anyEntityHas('update') && {
      update: async (entity: Entity, update: RecordUpdate) => {
        checked(entity, update.id);
        return local(await handler(entity, 'update')(session, update));
      },
    }),
    ...(anyEntityHas('batchUpdate') && { batchUpdate }),
    ...(webhook && { webhook }),
    ...(webhook && subscribe && { ensureSubscriptions: async (url: string) => await subscribe(session, url) }),
    ...(documents && {
      documents: documents.types,
      createDocument: async (type: DocumentType, input: DocumentInput) => {
        if (!documents.types.includes(type)) {
          const reason = documents.refused?.[type];
          throw new InvalidRequestError(
            `${name}: ${definition.name} cannot start a ${type}${reason ? `: ${reason}` : ''}`,
          );
        }
        return await documents.start(session, type, input);
      },
    }),
    ...(health && {
      // A 429 proves the credentials as well, so it counts as healthy: readiness must not flap under load.
      checkHealth: async () => {
        try {
          await health(session);
        } catch (error) {
          if (!(error instanceof RateLimitedError)) throw error;
        }
      },
    }),
    ...(close && { close: async () => await close(session) }),
  };
}
