/**
 * When a PostgreSQL call may be sent again, and for how long: the rules behind the Postgres
 * executor's retries (src/store/postgres-executor.ts).
 *
 * Only a failure of the connection is retried, never a statement's own error (a constraint
 * violation fails the same way every time). Whether a connection failure may be retried depends on
 * how far the call had got:
 *
 * - `connect`: no statement was sent; always safe.
 * - `statement`: a statement outside any transaction was sent. If the server answered it with a
 *   shutdown error (57P01, 57P02, 57P03) it aborted the statement, so nothing is stored and it is
 *   safe. If the connection just broke, the statement may or may not have been committed: safe for
 *   a read only.
 * - `transaction`: the connection broke inside BEGIN ... before COMMIT was sent; the server rolls
 *   the transaction back when it loses the connection, so running it whole again is safe.
 * - `commit`: the connection broke while COMMIT was under way: the outcome is unknown and the call
 *   is not retried here. The caller gets a StoreUnavailableError with `outcomeUnknown` and redoes
 *   its work (a job is retried by the queue, a webhook is redelivered), which is harmless because
 *   every store write is an upsert, a guarded update, or an audit entry the redone work does not
 *   repeat (the sync re-reads the shadow it wrote).
 */
import { sqlStateOf } from './sql-executor';

/** How long and how often the executor retries (see DEFAULT_STORE_RETRY). */
export interface StoreRetryPolicy {
  /** No new attempt starts later than this after the first one (ms). */
  totalMs: number;
  /** The first wait between attempts (ms); each later one doubles, up to `maxDelayMs`. */
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * 20 s: long enough to ride out a PostgreSQL restart or a failover of a managed database (which
 * usually take 5-15 s), short enough that an HTTP caller still gets an answer (a 503) before
 * its own timeout, typically 30 s. A queue job that still finds the store away is put off and
 * tried again later, without using up an attempt (src/queue/workers.ts).
 */
export const DEFAULT_STORE_RETRY: StoreRetryPolicy = { totalMs: 20_000, initialDelayMs: 100, maxDelayMs: 2_000 };

/** How far a call had got when its connection failed. */
export type CallPhase = 'connect' | 'statement' | 'transaction' | 'commit';

// Socket errors: the server is down, restarting, or the network between is broken.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

// The server said it terminated or refused this session: admin_shutdown, crash_shutdown,
// cannot_connect_now (starting up, shutting down, in recovery).
const SHUTDOWN_STATES = new Set(['57P01', '57P02', '57P03']);

// pg's own messages for a connection that ended or never came up in time (it sets no code).
const LOST_CONNECTION_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
];

/** True when `error` is a failure of the connection to PostgreSQL rather than of a statement. */
export function isConnectionFailure(error: unknown): boolean {
  const code = sqlStateOf(error);
  if (code !== undefined) {
    if (NETWORK_CODES.has(code) || SHUTDOWN_STATES.has(code)) return true;
    // Class 08: connection exception (08000, 08003, 08006, 08001, 08004, ...).
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  if (error instanceof AggregateError) return error.errors.some(isConnectionFailure);
  const message = error instanceof Error ? error.message : '';
  return LOST_CONNECTION_MESSAGES.some((lost) => message.startsWith(lost));
}

/** True when the server itself reported that it aborted the session, so nothing was committed. */
export function serverAborted(error: unknown): boolean {
  const code = sqlStateOf(error);
  return code !== undefined && SHUTDOWN_STATES.has(code);
}

/**
 * True when a statement reads only, so sending it again cannot change anything. Deliberately
 * narrow: a statement starting with SELECT (tandem issues no side-effecting SELECT outside a
 * transaction); anything else, WITH ... DELETE included, counts as a write.
 */
export function isReadOnly(statement: string): boolean {
  return /^\s*SELECT\b/i.test(statement);
}

/** Whether a call whose connection failed (see `isConnectionFailure`) may be run again. */
export function retrySafe(phase: CallPhase, error: unknown, readOnly: boolean): boolean {
  switch (phase) {
    case 'connect':
    case 'transaction':
      return true;
    case 'statement':
      return readOnly || serverAborted(error);
    case 'commit':
      return false;
  }
}

/** The cause in a few words, for messages: `ECONNREFUSED`, `57P01: terminating connection ...`. */
export function shortReason(error: unknown): string {
  const code = sqlStateOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code !== undefined && NETWORK_CODES.has(code)) return code;
  if (error instanceof AggregateError) {
    const first: unknown = error.errors[0];
    if (first !== undefined) return shortReason(first);
  }
  if (code !== undefined) return `${code}: ${message}`;
  return message;
}

/** The waits between attempts: exponential from `initialDelayMs`, capped, with ±20 % jitter. */
export function retryDelay(policy: StoreRetryPolicy, retry: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** retry);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** Checks a retry policy, so a typo in options fails at start rather than as endless retries. */
export function validRetryPolicy(policy: StoreRetryPolicy): StoreRetryPolicy {
  for (const key of ['totalMs', 'initialDelayMs', 'maxDelayMs'] as const) {
    const value = policy[key];
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`store retry ${key} must be a non-negative number of milliseconds, got ${value}`);
    }
  }
  if (policy.initialDelayMs > policy.maxDelayMs) {
    throw new RangeError(
      `store retry initialDelayMs (${policy.initialDelayMs}) must not exceed maxDelayMs (${policy.maxDelayMs})`,
    );
  }
  return policy;
}

/**
 * host:port of a connection string, for messages (never the user or password). A socket directory
 * in `?host=` is named as it is.
 */
export function endpointOf(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    const socketHost = url.searchParams.get('host');
    const host = socketHost ?? (url.hostname === '' ? 'localhost' : url.hostname);
    const port = url.searchParams.get('port') ?? (url.port === '' ? '5432' : url.port);
    return `${host}:${port}`;
  } catch {
    return 'the configured server';
  }
}
