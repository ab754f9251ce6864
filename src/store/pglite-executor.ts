import type { PGlite } from '@electric-sql/pglite';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AsyncMutex } from './async-mutex';
import type { SqlExecutor, SqlQueryable, SqlRow } from './sql-executor';

/** The data directory value that means "keep everything in memory". */
export const IN_MEMORY = 'memory://';

/**
 * A `SqlExecutor` over an embedded PGlite database in `dataDir` (a filesystem path), or in memory
 * when `dataDir` is undefined or `memory://`.
 */
export async function createPgliteExecutor(dataDir?: string): Promise<SqlExecutor> {
  // Loaded on demand: the WASM build is large and a Postgres deployment never needs it.
  const { PGlite } = await import('@electric-sql/pglite');
  const inMemory = dataDir === undefined || dataDir === IN_MEMORY;
  if (!inMemory) await createDatabaseApart(dataDir);
  const db = inMemory ? await PGlite.create() : await PGlite.create(dataDir);
  return new PgliteExecutor(db);
}

const run = promisify(execFile);

/** What the process of createDatabaseApart runs: PGlite (its path) creates the database in a directory. */
const CREATE_DATABASE = `const { PGlite } = require(process.argv[1]);
PGlite.create(process.argv[2]).then((db) => db.close());`;

/**
 * Creates the database of a data directory that holds none yet, in a process of its own.
 * PGlite's initdb runs inside its WebAssembly memory and grows it to about 800 MB, which
 * WebAssembly never gives back: created apart, tandem opens the new database as it opens an
 * existing one, on about 280 MB.
 */
async function createDatabaseApart(dataDir: string): Promise<void> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return;
  try {
    await run(process.execPath, ['-e', CREATE_DATABASE, require.resolve('@electric-sql/pglite'), dataDir], {
      timeout: 120_000,
    });
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    const detail = typeof stderr === 'string' && stderr.trim() !== '' ? `: ${stderr.trim()}` : '';
    throw new Error(`could not create the PGlite database in ${dataDir}${detail}`, { cause: error });
  }
}

/**
 * PGlite is one session: a statement sent while another caller's BEGIN is open would run inside
 * that transaction (and vanish with its rollback). Every top-level statement and every
 * transaction therefore takes the same lock; statements inside a transaction use its handle.
 */
class PgliteExecutor implements SqlExecutor {
  readonly backend = 'pglite';
  private readonly lock = new AsyncMutex();

  constructor(private readonly db: PGlite) {}

  query(text: string, params: readonly unknown[] = []): Promise<SqlRow[]> {
    return this.lock.run(() => this.direct.query(text, params));
  }

  execScript(text: string): Promise<void> {
    return this.lock.run(() => this.direct.execScript(text));
  }

  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    return this.lock.run(async () => {
      await this.db.query('BEGIN');
      try {
        const result = await fn(this.direct);
        await this.db.query('COMMIT');
        return result;
      } catch (error) {
        // The caller needs the error that aborted the transaction, not a failure of the rollback.
        await this.db.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  async checkReachable(): Promise<void> {
    // In this process: it answers unless it was closed, which the query reports.
    await this.query('SELECT 1');
  }

  close(): Promise<void> {
    return this.lock.run(() => this.db.close());
  }

  /** Statements without the lock, for use by whoever holds it. */
  private readonly direct: SqlQueryable = {
    query: async (text, params = []) => {
      const result = await this.db.query<SqlRow>(text, [...params]);
      return result.rows;
    },
    execScript: async (text) => {
      await this.db.exec(text);
    },
  };
}
