import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, type PoolClient } from 'pg';
import { StoreUnavailableError } from '../app/ports/store';
import type { SqlExecutor, SqlQueryable, SqlRow } from './sql-executor';
import { InvalidSchemaNameError } from './errors';
import {
  DEFAULT_STORE_RETRY,
  endpointOf,
  isConnectionFailure,
  isReadOnly,
  retryDelay,
  retrySafe,
  shortReason,
  validRetryPolicy,
  type CallPhase,
  type StoreRetryPolicy,
} from './postgres-retry';

/** One retry of a store call whose connection failed, for logs and metrics. */
export interface StoreRetryEvent {
  /** host:port of the server. */
  endpoint: string;
  /** The cause in a few words (`ECONNREFUSED`). */
  reason: string;
  /** 1 for the first retry. */
  retry: number;
  delayMs: number;
}

/** How to reach Postgres. */
export interface PostgresExecutorOptions {
  /**
   * Schema to work in (becomes the connection's search_path and is created when missing), so
   * several test files can share one database without seeing each other's tables.
   */
  schema?: string;
  /** Most connections the pool opens (pg's default is 10). */
  maxConnections?: number;
  /** Told about errors on idle pooled connections (server restart, network drop). */
  onIdleConnectionError?: (error: Error) => void;
  /** How long and how often a call whose connection failed is retried (default DEFAULT_STORE_RETRY). */
  retry?: Partial<StoreRetryPolicy>;
  /** Opening one connection that takes longer than this counts as a connection failure (default 5 s). */
  connectTimeoutMs?: number;
  /** Told about every retry. */
  onRetry?: (event: StoreRetryEvent) => void;
}

// Only plain lower-case identifiers: the name goes into a connection option and a DDL statement,
// where parameters are not possible.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/**
 * A `SqlExecutor` over a `pg` pool; transactions run on one checked-out client. Calls whose
 * connection fails are retried within the retry policy where that is safe (see postgres-retry.ts);
 * then they fail with a StoreUnavailableError.
 */
export async function createPostgresExecutor(
  databaseUrl: string,
  options: PostgresExecutorOptions = {},
): Promise<SqlExecutor> {
  const { schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) throw new InvalidSchemaNameError(schema);
  const policy = validRetryPolicy({ ...DEFAULT_STORE_RETRY, ...options.retry });
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (!Number.isInteger(connectTimeoutMs) || connectTimeoutMs < 1) {
    throw new RangeError(`connectTimeoutMs must be a positive whole number of milliseconds, got ${connectTimeoutMs}`);
  }
  const pool = new Pool({
    connectionString: databaseUrl,
    max: options.maxConnections,
    // pg waits for ever by default; an unreachable host must count as a failure, to be retried.
    connectionTimeoutMillis: connectTimeoutMs,
    // A connection whose server vanished without a word (host down, network cut) is noticed.
    keepAlive: true,
    // Set at connect time, so every pooled client has it before its first statement.
    options: schema === undefined ? undefined : `-c search_path=${schema}`,
  });
  // Without a listener an idle client's error would crash the process; pg drops that client and
  // the next query opens a new one. https://node-postgres.com/apis/pool#error
  pool.on('error', (error) => options.onIdleConnectionError?.(error));
  const executor = new PostgresExecutor(pool, endpointOf(databaseUrl), policy, options.onRetry);
  if (schema !== undefined) {
    try {
      await executor.ensureSchema(schema);
    } catch (error) {
      await pool.end();
      throw error;
    }
  }
  return executor;
}

/** A call's connection failed; `safe` says whether running the call again is harmless. */
class ConnectionLost extends Error {
  constructor(
    readonly failure: unknown,
    readonly safe: boolean,
  ) {
    super(shortReason(failure), { cause: failure });
    this.name = 'ConnectionLost';
  }
}

/** The part of a pg Pool the executor uses (a fake one in the unit tests of the retry rules). */
export type ConnectionPool = Pick<Pool, 'connect' | 'end'>;

/** The executor over a pool; createPostgresExecutor makes the pool and the schema. */
export class PostgresExecutor implements SqlExecutor {
  readonly backend = 'postgres';
  /** Set from the first connection failure until the server answers again. */
  private outage: { since: Date; reason: string } | undefined;

  constructor(
    private readonly pool: ConnectionPool,
    private readonly endpoint: string,
    private readonly policy: StoreRetryPolicy,
    private readonly onRetry?: (event: StoreRetryEvent) => void,
  ) {}

  query(text: string, params: readonly unknown[] = []): Promise<SqlRow[]> {
    return this.retrying(() => this.statement(text, [...params], isReadOnly(text)));
  }

  async execScript(text: string): Promise<void> {
    // Without parameters pg uses the simple protocol, which accepts several statements.
    await this.retrying(() => this.statement(text, undefined, isReadOnly(text)));
  }

  /**
   * BEGIN, `fn`, COMMIT on one client. A connection lost before COMMIT was sent runs the whole
   * transaction again (the server rolled it back); one lost during COMMIT is not retried, its
   * outcome being unknown (see postgres-retry.ts). `fn` may therefore run more than once and must
   * do nothing but statements through `tx`.
   */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    return this.retrying(async () => {
      const client = await this.connect();
      let phase: CallPhase = 'transaction';
      let lost: unknown;
      let broken: Error | undefined;
      const tx = clientQueryable(client, (error) => {
        lost ??= error;
      });
      try {
        await tx.query('BEGIN');
        const result = await fn(tx);
        phase = 'commit';
        await client.query('COMMIT');
        return result;
      } catch (error) {
        const failure = lost ?? (isConnectionFailure(error) ? error : undefined);
        if (failure !== undefined) {
          broken = asError(failure);
          throw new ConnectionLost(failure, retrySafe(phase, failure, false));
        }
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          // A client that cannot roll back is in an unknown state: drop it instead of pooling it.
          broken = asError(rollbackError);
        }
        throw error;
      } finally {
        client.release(broken);
      }
    });
  }

  /** One try, no retries: for /readyz, which must answer at once and say why it cannot. */
  async checkReachable(): Promise<void> {
    try {
      await this.statement('SELECT 1', [], true);
      this.outage = undefined;
    } catch (error) {
      if (!(error instanceof ConnectionLost)) throw error;
      throw this.unavailable(error);
    }
  }

  /** Creates the schema when missing; retried like a read, as running it twice is harmless. */
  async ensureSchema(schema: string): Promise<void> {
    await this.retrying(async () => {
      try {
        await this.statement(`CREATE SCHEMA IF NOT EXISTS ${schema}`, undefined, true);
      } catch (error) {
        if (error instanceof ConnectionLost) throw error;
        // Two processes creating the same schema at once can still collide in the catalog;
        // the schema exists either way.
        const exists = await this.statement('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema], true);
        if (exists.length === 0) throw error;
      }
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** One statement on a pooled client; a connection failure becomes a ConnectionLost. */
  private async statement(text: string, params: unknown[] | undefined, readOnly: boolean): Promise<SqlRow[]> {
    const client = await this.connect();
    let broken: Error | undefined;
    try {
      const result = await client.query<SqlRow>(text, params);
      return result.rows;
    } catch (error) {
      if (!isConnectionFailure(error)) throw error;
      broken = asError(error);
      throw new ConnectionLost(error, retrySafe('statement', error, readOnly));
    } finally {
      client.release(broken);
    }
  }

  private async connect(): Promise<PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      if (isConnectionFailure(error)) throw new ConnectionLost(error, retrySafe('connect', error, false));
      throw error;
    }
  }

  /** Runs `call`, again after a growing wait while its connection fails and retrying is safe. */
  private async retrying<T>(call: () => Promise<T>): Promise<T> {
    const started = Date.now();
    for (let retry = 0; ; retry += 1) {
      try {
        const result = await call();
        this.outage = undefined;
        return result;
      } catch (error) {
        if (!(error instanceof ConnectionLost)) {
          // The server answered (with an error of the statement): it is reachable.
          if (!isConnectionFailure(error)) this.outage = undefined;
          throw error;
        }
        const delayMs = retryDelay(this.policy, retry);
        if (!error.safe || Date.now() - started + delayMs > this.policy.totalMs) {
          throw this.unavailable(error, Date.now() - started);
        }
        this.noteOutage(error);
        this.onRetry?.({ endpoint: this.endpoint, reason: error.message, retry: retry + 1, delayMs });
        await sleep(delayMs);
      }
    }
  }

  private noteOutage(error: ConnectionLost): { since: Date; reason: string } {
    this.outage = { since: this.outage?.since ?? new Date(), reason: error.message };
    return this.outage;
  }

  /** The error a caller gets; `retriedMs` is absent for the single try of checkReachable. */
  private unavailable(error: ConnectionLost, retriedMs?: number): StoreUnavailableError {
    const { since, reason } = this.noteOutage(error);
    const sinceText = since.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const details = { endpoint: this.endpoint, since: sinceText, reason, outcomeUnknown: !error.safe };
    const message = !error.safe
      ? `PostgreSQL at ${this.endpoint}: the connection was lost while a change was being stored, so it may or ` +
        `may not have been (${reason}); the work is to be done again`
      : `PostgreSQL unreachable at ${this.endpoint} since ${sinceText} (${reason})` +
        (retriedMs === undefined ? '' : `; gave up after retrying for ${Math.round(retriedMs / 1000)} s`);
    return new StoreUnavailableError(message, details, { cause: error.failure });
  }
}

/** The statements of one transaction; `onLost` hears of every connection failure among them. */
function clientQueryable(client: PoolClient, onLost: (error: unknown) => void): SqlQueryable {
  const run = async (text: string, params?: unknown[]) => {
    try {
      return (await client.query<SqlRow>(text, params)).rows;
    } catch (error) {
      if (isConnectionFailure(error)) onLost(error);
      throw error;
    }
  };
  return {
    query: (text, params = []) => run(text, [...params]),
    async execScript(text) {
      await run(text);
    },
  };
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
