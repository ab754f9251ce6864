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
