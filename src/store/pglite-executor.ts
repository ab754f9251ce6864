import type { PGlite } from '@electric-sql/pglite';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AsyncMutex } from './async-mutex';
import type { SqlExecutor, SqlQueryable, SqlRow } from './sql-executor';

/** The data directory value that means "keep everything in memory". */
export const IN_MEMORY = 'memory://';

/** What one round of maintenance did to a table (see PgliteExecutor.maintain). */
export interface Maintained {
  table: string;
  action: 'vacuum' | 'analyze';
}

/** A `SqlExecutor` over PGlite, with the upkeep PGlite does not do itself. */
export interface PgliteSqlExecutor extends SqlExecutor {
  /** Vacuums and analyzes the tables that are due (see MAINTENANCE_DUE); answers what it did. */
  maintain(): Promise<Maintained[]>;
}

/**
 * A `SqlExecutor` over an embedded PGlite database in `dataDir` (a filesystem path), or in memory
 * when `dataDir` is undefined or `memory://`.
 */
export async function createPgliteExecutor(dataDir?: string): Promise<PgliteSqlExecutor> {
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

/** How often the tables' statistics are looked at (autovacuum's default is every minute). */
const MAINTENANCE_EVERY_MS = 30_000;

/**
 * The tables due for upkeep, by autovacuum's default thresholds: vacuumed (and analyzed) once
 * more than 50 rows and 20% of the live ones are dead, analyzed once more than 50 rows and 10%
 * changed since the last analysis.
 */
const MAINTENANCE_DUE = `SELECT quote_ident(schemaname) || '.' || quote_ident(relname) AS table,
  n_dead_tup > 50 + 0.2 * n_live_tup AS vacuum
  FROM pg_stat_user_tables
  WHERE n_dead_tup > 50 + 0.2 * n_live_tup OR n_mod_since_analyze > 50 + 0.1 * n_live_tup
  ORDER BY relname`;

/**
 * PGlite is one session: a statement sent while another caller's BEGIN is open would run inside
 * that transaction (and vanish with its rollback). Every top-level statement and every
 * transaction therefore takes the same lock; statements inside a transaction use its handle.
 *
 * It is also PostgreSQL without its background processes: autovacuum never runs, so no table is
 * ever vacuumed or analyzed unless tandem does it. Every change updates shadow and observation
 * rows and leaves dead ones behind, and without statistics the planner scans whole tables where
 * an index would do (a shadow read of 111 relations among 3,000, after ten rounds of updates,
 * took 11.5 ms, and 1.3 ms after VACUUM ANALYZE). So the executor does autovacuum's work, every
 * MAINTENANCE_EVERY_MS, one table at a time between other statements.
 */
class PgliteExecutor implements PgliteSqlExecutor {
  readonly backend = 'pglite';
  private readonly lock = new AsyncMutex();
  private readonly upkeep: NodeJS.Timeout;
  private maintaining = false;

  constructor(private readonly db: PGlite) {
    // A round that fails (the database closing) is tried again at the next.
    this.upkeep = setInterval(() => void this.maintain().catch(() => undefined), MAINTENANCE_EVERY_MS);
    this.upkeep.unref();
  }

  async maintain(): Promise<Maintained[]> {
    if (this.maintaining) return [];
    this.maintaining = true;
    try {
      // This session's own counts are flushed to the statistics now, not within the next second.
      await this.query('SELECT pg_stat_force_next_flush()');
      const due = await this.query(MAINTENANCE_DUE);
      const done: Maintained[] = [];
      for (const row of due) {
        const table = String(row['table']);
        const action = row['vacuum'] === true ? 'vacuum' : 'analyze';
        // VACUUM runs outside any transaction; the lock keeps every other one out meanwhile.
        await this.execScript(action === 'vacuum' ? `VACUUM (ANALYZE) ${table}` : `ANALYZE ${table}`);
        done.push({ table, action });
      }
      return done;
    } finally {
      this.maintaining = false;
    }
  }

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
    clearInterval(this.upkeep);
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
