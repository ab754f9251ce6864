/**
 * The narrow SQL surface the store needs, so one `SqlStore` runs unchanged on a `pg` pool and on
 * an embedded PGlite database.
 */

/** One result row, keyed by column name; values are whatever the driver parsed them into. */
export type SqlRow = Record<string, unknown>;

/** Something that runs statements: the executor itself, or one open transaction. */
export interface SqlQueryable {
  /** Runs one statement with positional parameters (`$1`, `$2`, ...) and returns its rows. */
  query(text: string, params?: readonly unknown[]): Promise<SqlRow[]>;
  /**
   * Runs a script of several statements without parameters (migrations). A separate method
   * because PGlite's `query` uses the extended protocol, which takes one statement only.
   */
  execScript(text: string): Promise<void>;
}

/** A connection (pool) to Postgres or PGlite. */
export interface SqlExecutor extends SqlQueryable {
  /** Which engine is behind it; only for diagnostics and tests, never for branching SQL. */
  readonly backend: 'postgres' | 'pglite';
  /**
   * Runs `fn` inside BEGIN/COMMIT on one connection, rolling back when it throws. Statements must
   * go through the `tx` handed to `fn`; calling the executor itself from inside `fn` would wait for
   * the transaction to end on PGlite (single connection) and run outside it on Postgres.
   */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  /** Checks once, without retrying, that the database answers (see Store.checkReachable). */
  checkReachable(): Promise<void>;
  close(): Promise<void>;
}

/** The SQLSTATE of a driver error (both `pg` and PGlite put it in `code`), if there is one. */
export function sqlStateOf(error: unknown): string | undefined {
  return stringProperty(error, 'code');
}

/** The constraint a driver error names (unique, check, foreign key), if there is one. */
export function constraintOf(error: unknown): string | undefined {
  return stringProperty(error, 'constraint');
}

/** SQLSTATE for a unique violation. */
export const UNIQUE_VIOLATION = '23505';

function stringProperty(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null || !(key in value)) return undefined;
  const property: unknown = (value as Record<string, unknown>)[key];
  return typeof property === 'string' ? property : undefined;
}
