/** The mapping store's public surface: the `Store` contract, its SQL implementation, factories. */
export * from '../app/ports/store';
export { InvalidSchemaNameError, InvalidStoredRowError } from './errors';
export { InvalidAuditQueryError } from '../app/ports/store';
export { openStore, openPostgresStore, openPgliteStore, DEFAULT_DATA_DIR } from './open-store';
export type { StoreLocation } from './open-store';
export { SqlStore } from './sql-store';
export type { SqlExecutor, SqlQueryable, SqlRow } from './sql-executor';
export { createPostgresExecutor } from './postgres-executor';
export type { PostgresExecutorOptions, StoreRetryEvent } from './postgres-executor';
export { DEFAULT_STORE_RETRY, isConnectionFailure } from './postgres-retry';
export type { StoreRetryPolicy } from './postgres-retry';
export { createPgliteExecutor, IN_MEMORY, type Maintained, type PgliteSqlExecutor } from './pglite-executor';
export { runMigrations } from './migrate';
export { MIGRATIONS } from './migrations';
export type { Migration } from './migrations';
