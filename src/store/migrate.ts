import { MIGRATIONS, type Migration } from './migrations';
import type { SqlExecutor } from './sql-executor';

/**
 * Applies every migration not yet recorded in `tandem_migrations`, each in its own transaction.
 *
 * Each transaction first takes a transaction-scoped advisory lock, so processes starting at the
 * same time against one Postgres database apply a migration once and in order; the loser waits,
 * then sees the version recorded. The lock is taken before `CREATE TABLE IF NOT EXISTS` because
 * two concurrent IF NOT EXISTS creations can still fail on the catalog's unique index.
 * The key is derived from the current schema so separate schemas do not wait on each other.
 */
export async function runMigrations(
  executor: SqlExecutor,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<void> {
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  for (const migration of ordered) {
    await executor.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.tandem_migrations'))`);
      await tx.query(`
        CREATE TABLE IF NOT EXISTS tandem_migrations (
          version integer PRIMARY KEY,
          name text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`);
      const applied = await tx.query('SELECT 1 FROM tandem_migrations WHERE version = $1', [migration.version]);
      if (applied.length > 0) return;
      await tx.execScript(migration.sql);
      await tx.query('INSERT INTO tandem_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
    });
  }
}
