import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createPgliteExecutor, IN_MEMORY } from './pglite-executor';
import { createPostgresExecutor, type PostgresExecutorOptions } from './postgres-executor';
import type { SqlExecutor } from './sql-executor';
import { SqlStore } from './sql-store';
import type { Store } from '../app/ports/store';

/** Where the embedded database lives when no DATABASE_URL is given, relative to the cwd. */
export const DEFAULT_DATA_DIR = './data/tandem';

/** Where the store keeps its data. */
export interface StoreLocation {
  /** A Postgres connection string; when set, Postgres is used. */
  databaseUrl?: string;
  /** The embedded database's directory (default `./data/tandem`), or `memory://`. */
  dataDir?: string;
}

/** Opens the configured store (Postgres when `databaseUrl` is set, else PGlite) and migrates it. */
export function openStore(location: StoreLocation = {}): Promise<Store> {
  if (location.databaseUrl !== undefined && location.databaseUrl !== '') {
    return openPostgresStore(location.databaseUrl);
  }
  return openPgliteStore(location.dataDir ?? DEFAULT_DATA_DIR);
}

/** Opens a migrated store on Postgres, optionally inside its own schema. */
export async function openPostgresStore(databaseUrl: string, options: PostgresExecutorOptions = {}): Promise<SqlStore> {
  return migrated(await createPostgresExecutor(databaseUrl, options));
}

/** Opens a migrated store on PGlite in `dataDir` (created when missing), or in memory. */
export async function openPgliteStore(dataDir?: string): Promise<SqlStore> {
  if (dataDir === undefined || dataDir === IN_MEMORY) {
    return migrated(await createPgliteExecutor());
  }
  const directory = resolve(dataDir);
  await mkdir(directory, { recursive: true });
  return migrated(await createPgliteExecutor(directory));
}

async function migrated(executor: SqlExecutor): Promise<SqlStore> {
  const store = new SqlStore(executor);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
