import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPgliteStore, openStore } from './open-store';
import { createPgliteExecutor } from './pglite-executor';
import { SqlStore } from './sql-store';
import { describeStoreContract } from '../../test/contract/store.contract';

describeStoreContract('PGlite in memory', async () => {
  const sql = await createPgliteExecutor('memory://');
  const store = new SqlStore(sql);
  await store.migrate();
  return { store, sql, cleanup: () => store.close() };
});

describe('PGlite in a data directory', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tandem-store-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps relations, shadow, cursors and audit across a reopen', async () => {
    const path = join(dataDir, 'nested', 'tandem');
    const first = await openStore({ dataDir: path });
    const relation = await first.createRelation({
      contactId: 'C-1',
      accountKind: 'vendor',
      accountId: 'V-1',
      relationCode: 'VEND',
      origin: 'createdFromContact',
    });
    const shadow = {
      relationId: relation.id,
      side: 'account' as const,
      field: 'name',
      value: 'Acme',
      sourceModifiedAt: '2024-05-01T10:00:00.000Z',
      syncedAt: '2024-05-01T10:00:01.000Z',
    };
    await first.recordSync([shadow], [{ kind: 'link', relationId: relation.id }]);
    await first.setCursor('accounting', 'vendor', 'page-3');
    await first.close();

    const reopened = await openPgliteStore(path);
    try {
      await expect(reopened.getRelation(relation.id)).resolves.toEqual(relation);
      await expect(reopened.getShadow(relation.id)).resolves.toEqual([shadow]);
      await expect(reopened.getCursor('accounting', 'vendor')).resolves.toBe('page-3');
      await expect(reopened.queryAudit({ relationId: relation.id })).resolves.toHaveLength(1);
    } finally {
      await reopened.close();
    }
  });

  it('says which directory it could not create a database in', async () => {
    // Something else's file where initdb makes its first directory: creating the database fails.
    const path = join(dataDir, 'taken');
    await mkdir(path);
    await writeFile(join(path, 'base'), 'not a database');
    await expect(openStore({ dataDir: path })).rejects.toThrow(`could not create the PGlite database in ${path}`);
  });
});

describe('PGlite upkeep', () => {
  // PGlite runs no autovacuum: without the executor's upkeep no table is ever vacuumed or analyzed.
  it('vacuums and analyzes the tables that updates left dead rows in, and only those', async () => {
    const sql = await createPgliteExecutor('memory://');
    const store = new SqlStore(sql);
    try {
      await store.migrate();
      const relations = await Promise.all(
        Array.from({ length: 40 }, (_, index) =>
          store.createRelation({
            contactId: `C-${index}`,
            accountKind: 'customer',
            accountId: `A-${index}`,
            relationCode: 'CUST',
            origin: 'linked',
          }),
        ),
      );
      const fields = ['name', 'city', 'phone', 'email', 'homePage'];
      for (let round = 0; round < 5; round++) {
        const at = new Date(Date.UTC(2026, 0, 1, 0, round)).toISOString();
        await store.recordSync(
          relations.flatMap((relation) =>
            fields.map((field) => ({
              relationId: relation.id,
              side: 'account' as const,
              field,
              value: `${field} ${round}`,
              sourceModifiedAt: at,
              syncedAt: at,
            })),
          ),
          [],
        );
      }
      const shadowStats = async () => {
        await sql.query('SELECT pg_stat_force_next_flush()');
        const [row] = await sql.query(
          `SELECT n_live_tup, n_dead_tup, last_vacuum, last_analyze FROM pg_stat_user_tables
           WHERE relname = 'relation_shadow'`,
        );
        return row ?? {};
      };
      const before = await shadowStats();
      expect(Number(before['n_dead_tup'])).toBeGreaterThan(100);
      expect(before['last_vacuum']).toBeNull();

      const done = await sql.maintain();
      expect(done).toContainEqual({ table: 'public.relation_shadow', action: 'vacuum' });
      const after = await shadowStats();
      expect(Number(after['n_dead_tup'])).toBe(0);
      expect(after['last_vacuum']).not.toBeNull();
      expect(after['last_analyze']).not.toBeNull();
      // The planner has statistics of the table now.
      const [stats] = await sql.query(`SELECT count(*) AS columns FROM pg_stats WHERE tablename = 'relation_shadow'`);
      expect(Number(stats?.['columns'])).toBeGreaterThan(0);
      // Nothing is due any more: a second round does nothing.
      expect(await sql.maintain()).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
