import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { MIGRATIONS } from './migrations';
import { openPostgresStore } from './open-store';
import { createPostgresExecutor } from './postgres-executor';
import { SqlStore } from './sql-store';
import { describeStoreContract } from '../../test/contract/store.contract';
import { requireServers } from '../../test/support/servers';

const databaseUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema name no other test file uses, so files can run in parallel on one database. */
function freshSchema(): string {
  return `tandem_test_${randomUUID().replaceAll('-', '')}`;
}

async function dropSchema(schema: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

beforeAll(() => requireServers(['postgres']));

describeStoreContract('Postgres', async () => {
  const schema = freshSchema();
  const sql = await createPostgresExecutor(databaseUrl, { schema });
  const store = new SqlStore(sql);
  await store.migrate();
  return {
    store,
    sql,
    cleanup: async () => {
      await store.close();
      await dropSchema(schema);
    },
  };
});

describe('Postgres migrations from several processes', () => {
  const schema = freshSchema();

  afterAll(async () => {
    await dropSchema(schema);
  });

  it('applies each migration once when several pools migrate an empty schema at once', async () => {
    // Separate pools stand in for separate processes: different sessions, same schema.
    const openUnmigrated = async () => new SqlStore(await createPostgresExecutor(databaseUrl, { schema }));
    const stores = await Promise.all([openUnmigrated(), openUnmigrated(), openUnmigrated()]);
    try {
      await Promise.all(stores.map((store) => store.migrate()));

      const probe = await openPostgresStore(databaseUrl, { schema });
      try {
        await expect(
          probe.createRelation({
            contactId: 'C-1',
            accountKind: 'customer',
            accountId: 'CUST-1',
            relationCode: 'CUST',
            origin: 'linked',
          }),
        ).resolves.toMatchObject({ contactId: 'C-1' });
      } finally {
        await probe.close();
      }
      const client = new Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        const applied = await client.query<{ count: number }>(
          `SELECT count(*)::integer AS count FROM ${schema}.tandem_migrations`,
        );
        expect(applied.rows[0]?.count).toBe(MIGRATIONS.length);
      } finally {
        await client.end();
      }
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });
});
