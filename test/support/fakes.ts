import type { WriteDispatcher } from '../../src/app/ports/index';
import { writeKey, type WriteOutcome } from '../../src/core/confirm';
/**
 * In-memory connectors and a daemon wired to them, for tests of the queue, intake and HTTP
 * adapters against real Redis without the sandboxes. Every fake records what the engine asked of
 * it (reads, writes, polls) and how many writes ran at once, per record and in total.
 */
import { randomUUID } from 'node:crypto';
import IORedis from 'ioredis';
import pino from 'pino';
import { NotFoundError, PreconditionFailedError } from '../../connectors/kit/errors';
import type {
  ChangedPage,
  Connector,
  CreatedDocument,
  DocumentType,
  RecordUpdate,
  WebhookAdapter,
} from '../../connectors/kit/types';
import { startDaemon, type Daemon, type DaemonOptions } from '../../src/main/daemon';
import { configSchema, type TandemConfig } from '../../src/config/schema';
import type { Account, AccountKind, Contact, Entity, FieldValue, SyncRecord, System } from '../../src/core/model';
import type { ChangeJob } from '../../src/app/ports/changes';
import { openPgliteStore } from '../../src/store';
import type { Store } from '../../src/app/ports/store';
import { waitFor } from '../../src/util/net';
import { REDIS_URL } from './harness';
import { requireServers } from './servers';

export { REDIS_URL };

/** A logger that prints nothing unless TEST_LOG_LEVEL asks for it. */
export const quietLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** A BullMQ prefix no other test file uses. */
export const uniquePrefix = () => `t${randomUUID().slice(0, 8)}`;

/** One call of `update`, as the fake saw it. */
export interface UpdateCall {
  entity: Entity;
  id: string;
  fields: Record<string, FieldValue>;
  ifMatch?: string;
  startedAt: number;
  endedAt?: number;
  /** 'ok', or the code of the error the call ended with. */
  outcome?: string;
}

/** Options of a fake connector. */
export interface FakeOptions {
  name: string;
  system: System;
  entities: readonly Entity[];
  fields: readonly string[];
  /** Pages to answer listChanged with; without it the fake has no listChanged. */
  changedPages?: (entity: Entity, cursor: string | null) => Promise<ChangedPage[]> | ChangedPage[];
  webhook?: WebhookAdapter;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let clock = 0;
/** Strictly increasing modification times, so last-writer-wins never sees a tie by accident. */
function nextTimestamp(): string {
  clock = Math.max(Date.now(), clock + 1);
  return new Date(clock).toISOString();
}

/** An in-memory system behind the Connector contract. */
export class FakeConnector implements Connector {
  readonly name: string;
  readonly system: System;
  readonly entities: readonly Entity[];
  readonly fields: Partial<Record<Entity, readonly string[]>>;
  readonly webhook?: WebhookAdapter;
  readonly listChanged?: (entity: Entity, cursor: string | null) => AsyncIterable<ChangedPage>;

  readonly records = new Map<string, SyncRecord>();
  readonly updates: UpdateCall[] = [];
  readonly reads: Array<{ entity: Entity; id: string }> = [];
  readonly polls: Array<{ entity: Entity; cursor: string | null; at: number }> = [];
  /** The most writes that ran at once against one record, and against the whole system. */
  readonly maxActivePerRecord = new Map<string, number>();
  maxActive = 0;
  /** Milliseconds every update takes. */
  updateDelayMs = 0;
  /** Runs at the start of every update, before the etag check; may wait or throw. */
  beforeUpdate?: (call: UpdateCall) => Promise<void> | void;
  /** Runs at the start of every get; may wait or throw. */
  beforeGet?: (entity: Entity, id: string) => Promise<void> | void;
  /** Every create call, and a hook that runs after a record was stored (may throw: a lost response). */
  readonly creates: Array<{
    entity: Entity;
    fields: Record<string, FieldValue>;
    idempotencyKey: string;
    extra?: Record<string, unknown>;
  }> = [];
  afterCreate?: (record: SyncRecord) => Promise<void> | void;
  /** Document types createDocument starts; documents started so far. */
  documents?: readonly DocumentType[];
  readonly startedDocuments: CreatedDocument[] = [];
  private readonly createdByKey = new Map<string, string>();
  private readonly documentsByKey = new Map<string, CreatedDocument>();

  private readonly activePerRecord = new Map<string, number>();
  private active = 0;
  private versions = 0;

  constructor(options: FakeOptions) {
    this.name = options.name;
    this.system = options.system;
    this.entities = options.entities;
    this.fields = Object.fromEntries(options.entities.map((entity) => [entity, options.fields]));
    this.webhook = options.webhook;
    const pages = options.changedPages;
    if (pages) {
      this.listChanged = (entity, cursor) => {
        this.polls.push({ entity, cursor, at: Date.now() });
        return (async function* () {
          yield* await pages(entity, cursor);
        })();
      };
    }
  }

  /** Creates or replaces a record; returns it as stored. */
  put(entity: Entity, id: string, fields: Record<string, FieldValue>): SyncRecord {
    const base = { id, fields: { ...fields }, modifiedAt: nextTimestamp(), version: `v${++this.versions}` };
    const record: SyncRecord =
      entity === 'contact'
        ? ({ entity, type: 'company', companyId: null, ...base } as Contact)
        : ({ entity, number: id, ...base } as Account);
    this.records.set(`${entity}:${id}`, record);
    return record;
  }

  /** Changes fields as a user of the system would: new modification time, new etag. */
  edit(entity: Entity, id: string, fields: Record<string, FieldValue>): SyncRecord {
    const current = this.require(entity, id);
    return this.put(entity, id, { ...current.fields, ...fields } as Record<string, FieldValue>);
  }

  /** A record's current value of one field. */
  value(entity: Entity, id: string, field: string): FieldValue | undefined {
    return (this.records.get(`${entity}:${id}`)?.fields as Record<string, FieldValue> | undefined)?.[field];
  }

  /** A change job for a record as it is now, as a poll would report it. */
  change(entity: Entity, id: string, slot: 'crm' | 'accounting'): ChangeJob {
    return { connector: slot, entity, id, occurredAt: this.require(entity, id).modifiedAt, source: 'poll' };
  }

  async get(entity: Entity, id: string): Promise<SyncRecord | null> {
    this.reads.push({ entity, id });
    await this.beforeGet?.(entity, id);
    const record = this.records.get(`${entity}:${id}`);
    return record ? structuredClone(record) : null;
  }

  async update(entity: Entity, update: RecordUpdate): Promise<SyncRecord> {
    const key = `${entity}:${update.id}`;
    const call: UpdateCall = {
      entity,
      id: update.id,
      fields: update.fields,
      ifMatch: update.ifMatch,
      startedAt: Date.now(),
    };
    this.updates.push(call);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    const onRecord = (this.activePerRecord.get(key) ?? 0) + 1;
    this.activePerRecord.set(key, onRecord);
    this.maxActivePerRecord.set(key, Math.max(this.maxActivePerRecord.get(key) ?? 0, onRecord));
    try {
      await this.beforeUpdate?.(call);
      if (this.updateDelayMs > 0) await sleep(this.updateDelayMs);
      const current = this.records.get(key);
      if (!current) throw new NotFoundError(`${entity} ${update.id} does not exist`);
      if (update.ifMatch && current.version && update.ifMatch !== current.version) {
        throw new PreconditionFailedError(`${entity} ${update.id} is at ${current.version}, not ${update.ifMatch}`);
      }
      const written = this.edit(entity, update.id, update.fields);
      call.outcome = 'ok';
      return structuredClone(written);
    } catch (error) {
      call.outcome = (error as { code?: string }).code ?? 'error';
      throw error;
    } finally {
      call.endedAt = Date.now();
      this.active--;
      this.activePerRecord.set(key, (this.activePerRecord.get(key) ?? 1) - 1);
    }
  }

  /** Creates a record once per idempotency key (and per extra.number for accounts), as both real connectors do. */
  async create(
    entity: Entity,
    fields: Record<string, FieldValue>,
    options: { idempotencyKey: string; extra?: Record<string, unknown> },
  ): Promise<SyncRecord> {
    this.creates.push({ entity, fields, idempotencyKey: options.idempotencyKey, extra: options.extra });
    const number = typeof options.extra?.['number'] === 'string' ? options.extra['number'] : undefined;
    const previous =
      [...this.records.values()].find(
        (record) => number !== undefined && record.entity === entity && 'number' in record && record.number === number,
      ) ?? this.records.get(`${entity}:${this.createdByKey.get(options.idempotencyKey) ?? ''}`);
    if (previous) return structuredClone(previous);
    const id = `${entity}-new-${this.createdByKey.size + 1}`;
    const record = this.put(entity, id, fields);
    if (record.entity === 'contact') {
      record.type = options.extra?.['type'] === 'person' ? 'person' : 'company';
      record.companyId = typeof options.extra?.['companyId'] === 'string' ? options.extra['companyId'] : null;
    } else if (number !== undefined) record.number = number;
    this.createdByKey.set(options.idempotencyKey, id);
    await this.afterCreate?.(record);
    return structuredClone(record);
  }

  /** Starts a document for an account. */
  /**
   * Idempotent by key, as the real systems are: looking the key up and creating are two round
   * trips, so two calls with one key that overlap both create (the caller must serialize them).
   */
  async createDocument(
    type: DocumentType,
    input: { accountId: string; externalReference?: string; idempotencyKey: string },
  ): Promise<CreatedDocument> {
    const existing = this.documentsByKey.get(input.idempotencyKey);
    if (existing) return existing;
    await new Promise((resolve) => setTimeout(resolve, 10));
    const document: CreatedDocument = {
      type,
      id: `doc-${this.startedDocuments.length + 1}`,
      number: `D${1000 + this.startedDocuments.length}`,
      accountId: input.accountId,
      date: null,
      status: 'Draft',
    };
    this.startedDocuments.push(document);
    this.documentsByKey.set(input.idempotencyKey, document);
    return document;
  }

  /** Successful writes of one field of one record, in order. */
  written(entity: Entity, id: string, field: string): FieldValue[] {
    return this.updates
      .filter((call) => call.entity === entity && call.id === id && call.outcome === 'ok' && field in call.fields)
      .map((call) => call.fields[field] ?? null);
  }

  private require(entity: Entity, id: string): SyncRecord {
    const record = this.records.get(`${entity}:${id}`);
    if (!record) throw new Error(`no ${entity} ${id} in ${this.name}`);
    return record;
  }
}

/** The fields the fakes serve and the test config maps. */
export const MAPPED_FIELDS = ['name', 'phone', 'city'] as const;

/** A fake CRM with contacts. */
export function fakeCrm(options: Partial<FakeOptions> = {}): FakeConnector {
  return new FakeConnector({ name: 'crm', system: 'crm', entities: ['contact'], fields: MAPPED_FIELDS, ...options });
}

/** A fake accounting system with customers. */
export function fakeAccounting(options: Partial<FakeOptions> = {}): FakeConnector {
  return new FakeConnector({
    name: 'accounting',
    system: 'accounting',
    entities: ['customer'],
    fields: MAPPED_FIELDS,
    ...options,
  });
}

/** Config overrides a test may pass (input form: durations as text). */
export interface TestConfigOptions {
  queue?: Record<string, unknown>;
  crm?: Record<string, unknown>;
  accounting?: Record<string, unknown>;
}

/** A config for fake connectors: customers linked by CUST, name/phone/city mapped both ways. */
export function testConfig(prefix: string, options: TestConfigOptions = {}): TandemConfig {
  return configSchema.parse({
    connectors: {
      crm: {
        kind: 'hubspot',
        baseUrl: 'http://127.0.0.1:9',
        credentials: { token: 'unused' },
        webhooks: false,
        ...options.crm,
      },
      accounting: {
        kind: 'business-central',
        baseUrl: 'http://127.0.0.1:9',
        companyId: 'c1',
        credentials: { tokenUrl: 'http://127.0.0.1:9/token', clientId: 'unused', clientSecret: 'unused' },
        webhooks: false,
        ...options.accounting,
      },
    },
    relationCodes: { customer: 'CUST' },
    mappings: { customer: MAPPED_FIELDS.map((field) => ({ contact: field, account: field })) },
    server: { host: '127.0.0.1', port: 0 },
    queue: { prefix, attempts: 3, backoff: '50ms', intakeConcurrency: 4, ...options.queue },
  });
}

/** A daemon over fake connectors and an in-memory store. */
export interface FakeRig {
  prefix: string;
  config: TandemConfig;
  crm: FakeConnector;
  accounting: FakeConnector;
  store: Store;
  daemon: Daemon;
  /** A contact and a customer with the same fields, linked, with the first sync done. */
  linked(contactId: string, customerId: string, fields: Record<string, string>): Promise<void>;
  /** Enqueues a change of the contact as it is now. */
  contactChanged(contactId: string): Promise<void>;
  stop(): Promise<void>;
}

/** Options of startFakeRig. */
export interface FakeRigOptions extends TestConfigOptions {
  prefix?: string;
  crm?: Record<string, unknown>;
  crmConnector?: FakeConnector;
  accountingConnector?: FakeConnector;
  store?: Store;
  daemon?: Partial<DaemonOptions>;
}

/** Starts a worker daemon (no HTTP, no schedule) over fake connectors. */
export async function startFakeRig(options: FakeRigOptions = {}): Promise<FakeRig> {
  await requireServers(['redis']);
  const prefix = options.prefix ?? uniquePrefix();
  const config = testConfig(prefix, options);
  const crm = options.crmConnector ?? fakeCrm();
  const accounting = options.accountingConnector ?? fakeAccounting();
  const store = options.store ?? (await openPgliteStore());
  const daemon = await startDaemon({
    config,
    logger: quietLogger,
    redisUrl: REDIS_URL,
    store,
    connectors: { crm, accounting },
    role: 'worker',
    schedulePolling: false,
    ...options.daemon,
  });
  let stopped = false;
  const rig: FakeRig = {
    prefix,
    config,
    crm,
    accounting,
    store,
    daemon,
    async linked(contactId, customerId, fields) {
      crm.put('contact', contactId, fields);
      accounting.put('customer', customerId, fields);
      const relation = await store.createRelation({
        contactId,
        accountKind: 'customer' as AccountKind,
        accountId: customerId,
        relationCode: 'CUST',
        origin: 'linked',
      });
      await daemon.queues.enqueueChanges([{ connector: 'crm', entity: 'contact', id: contactId, source: 'manual' }]);
      await waitFor(async () => (await store.getShadow(relation.id)).length > 0, 10_000, 20);
    },
    async contactChanged(contactId) {
      await daemon.queues.enqueueChanges([crm.change('contact', contactId, 'crm')]);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await daemon.stop();
      if (!options.store) await store.close();
      await clearPrefix(prefix);
    },
  };
  return rig;
}

/** Deletes every Redis key under a prefix. */
export async function clearPrefix(prefix: string): Promise<void> {
  const redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A WriteDispatcher that writes straight to fake connectors, as the write workers would. */
export function directWrites(connectors: Record<'crm' | 'accounting', FakeConnector>): WriteDispatcher {
  return {
    async dispatch(writes) {
      const outcomes = new Map<string, WriteOutcome>();
      for (const write of writes) {
        try {
          const record = await connectors[write.system].update(write.entity, { id: write.id, fields: write.fields });
          outcomes.set(writeKey(write), { ok: true, record, jobId: `job-${write.id}` });
        } catch (error) {
          outcomes.set(writeKey(write), { ok: false, error: String(error) });
        }
      }
      return outcomes;
    },
  };
}
