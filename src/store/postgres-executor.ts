import { Pool, type PoolClient } from 'pg';
import type { SqlExecutor, SqlQueryable, SqlRow } from './sql-executor';
import { InvalidSchemaNameError } from './errors';

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
}

// Only plain lower-case identifiers: the name goes into a connection option and a DDL statement,
// where parameters are not possible.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A `SqlExecutor` over a `pg` pool; transactions run on one checked-out client. */
export async function createPostgresExecutor(
  databaseUrl: string,
  options: PostgresExecutorOptions = {},
): Promise<SqlExecutor> {
  const { schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) throw new InvalidSchemaNameError(schema);
  const pool = new Pool({
    connectionString: databaseUrl,
    max: options.maxConnections,
    // Set at connect time, so every pooled client has it before its first statement.
    options: schema === undefined ? undefined : `-c search_path=${schema}`,
  });
  // Without a listener an idle client's error would crash the process; pg drops that client and
  // the next query opens a new one. https://node-postgres.com/apis/pool#error
  pool.on('error', (error) => options.onIdleConnectionError?.(error));
  if (schema !== undefined) {
    try {
      await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } catch (error) {
      // Two processes creating the same schema at once can still collide in the catalog;
      // the schema exists either way.
      const exists = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      if (exists.rowCount === 0) {
        await pool.end();
        throw error;
      }
    }
  }
  return new PostgresExecutor(pool);
}

class PostgresExecutor implements SqlExecutor {
  readonly backend = 'postgres';

  constructor(private readonly pool: Pool) {}

  async query(text: string, params: readonly unknown[] = []): Promise<SqlRow[]> {
    const result = await this.pool.query<SqlRow>(text, [...params]);
    return result.rows;
  }

  async execScript(text: string): Promise<void> {
    // Without parameters pg uses the simple protocol, which accepts several statements.
    await this.pool.query(text);
  }

  async transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const tx = clientQueryable(client);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // A client that cannot roll back is in an unknown state: drop it instead of pooling it.
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function clientQueryable(client: PoolClient): SqlQueryable {
  return {
    async query(text, params = []) {
      const result = await client.query<SqlRow>(text, [...params]);
      return result.rows;
    },
    async execScript(text) {
      await client.query(text);
    },
  };
}
