/**
 * PostgreSQL stopped and started again under a running tandem, on a private cluster (the shared
 * server is never touched): store calls wait for it within their bound, /readyz says why the store
 * is not ready, a webhook is answered 503 and its redelivery synced, and nothing is lost.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { hubSpotSignatureV3 } from '../connectors/hubspot/webhook';
import { createPostgresExecutor, openPostgresStore, StoreUnavailableError } from '../src/store';
import { waitFor } from '../src/util/net';
import { HUBSPOT_SECRET, startRig, type Rig } from './support/harness';
import { startPrivatePostgres, type PrivatePostgres } from './support/private-postgres';

jest.setTimeout(120_000);

let pg: PrivatePostgres;
beforeAll(async () => {
  pg = await startPrivatePostgres();
});
afterAll(async () => {
  await pg?.close();
});

describe('the store across a restart', () => {
  test('a call that began during the outage completes after the restart', async () => {
    const store = await openPostgresStore(pg.url, { schema: 'restart_calls' });
    try {
      await store.setCursor('crm', 'contact', 'before');
      await pg.stop();
      const unreachable = new RegExp(
        `^PostgreSQL unreachable at 127\\.0\\.0\\.1:${pg.port} since \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ \\(ECONNREFUSED\\)$`,
      );
      await expect(store.checkReachable()).rejects.toThrow(unreachable);
      const write = store.setCursor('crm', 'contact', 'during');
      const marked = store.markEventProcessed('crm', 'event-during');
      await sleep(1500);
      await pg.start();
      await write;
      await expect(marked).resolves.toBe(true);
      await expect(store.getCursor('crm', 'contact')).resolves.toBe('during');
      await expect(store.checkReachable()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });

  test('a transaction whose connection is lost before COMMIT is run again whole, and stored once', async () => {
    const executor = await createPostgresExecutor(pg.url, { schema: 'restart_tx_rule' });
    try {
      await executor.query('CREATE TABLE IF NOT EXISTS entry (name text NOT NULL)');
      let runs = 0;
      await executor.transaction(async (tx) => {
        runs += 1;
        await tx.query(`INSERT INTO entry (name) VALUES ('once')`);
        // The server ends this session mid-transaction (57P01), as a restart would.
        if (runs === 1) await tx.query('SELECT pg_terminate_backend(pg_backend_pid())');
      });
      expect(runs).toBe(2);
      await expect(executor.query('SELECT name FROM entry')).resolves.toEqual([{ name: 'once' }]);
    } finally {
      await executor.close();
    }
  });

  test('a transaction sent during a crash-like stop is stored once the server is back', async () => {
    const store = await openPostgresStore(pg.url, { schema: 'restart_tx' });
    try {
      await store.appendAudit([{ kind: 'fieldChange', field: 'before' }]);
      // An immediate stop is a crash: sessions vanish without a word, as on a network cut.
      await pg.stop('immediate');
      const appended = store.appendAudit([
        { kind: 'fieldChange', field: 'during-1' },
        { kind: 'fieldChange', field: 'during-2' },
      ]);
      await sleep(1000);
      await pg.start();
      await appended;
      const fields = (await store.queryAudit({})).map((entry) => entry.field);
      expect(fields).toEqual(['before', 'during-1', 'during-2']);
    } finally {
      await store.close();
    }
  });

  test('after its bound a call fails with STORE_UNAVAILABLE naming host:port and the cause', async () => {
    const store = await openPostgresStore(pg.url, { schema: 'restart_bound', retry: { totalMs: 1000 } });
    try {
      await pg.stop();
      const started = Date.now();
      const error = await store.getCursor('crm', 'contact').catch((caught: unknown) => caught);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as StoreUnavailableError).code).toBe('STORE_UNAVAILABLE');
      expect((error as Error).message).toContain(`PostgreSQL unreachable at 127.0.0.1:${pg.port} since `);
      expect((error as Error).message).toContain('(ECONNREFUSED)');
    } finally {
      await pg.start();
      await store.close();
    }
  });
});

describe('the daemon across a restart', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({
      store: 'postgres',
      databaseUrl: pg.url,
      // A webhook is answered within a few seconds during the outage.
      storeOptions: { retry: { totalMs: 2000 } },
      // Like HubSpot's own retries, spread over longer than the outage.
      webhookRetryDelaysMs: [1000, 2000, 4000, 8000, 8000],
    });
  });
  afterAll(async () => {
    await rig?.stop();
  });

  const readyz = async () => {
    const response = await fetch(`${rig.daemon.url}/readyz`);
    return {
      status: response.status,
      body: (await response.json()) as { status: string; checks: Record<string, string> },
    };
  };

  /** Posts a HubSpot webhook as the provider would. */
  const postWebhook = async (body: string) => {
    const timestamp = String(Date.now());
    return fetch(rig.webhookUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hubspot-request-timestamp': timestamp,
        'x-hubspot-signature-v3': hubSpotSignatureV3(HUBSPOT_SECRET, 'POST', rig.webhookUrl, body, timestamp),
      },
      body,
    });
  };

  test('/readyz says why, webhooks are refused with 503 and redelivered, nothing is lost', async () => {
    const { hubspotId, accounts } = await rig.linkedCompany(
      { name: 'Outage BV', city: 'Utrecht', phone: '+31 30 100 0000' },
      ['customer'],
    );
    const customerId = accounts.customer as string;
    expect((await readyz()).status).toBe(200);

    await pg.stop();
    await waitFor(async () => (await readyz()).status === 503, 15_000);
    const down = await readyz();
    expect(down.body.status).toBe('not ready');
    expect(down.body.checks.store).toMatch(
      new RegExp(`^PostgreSQL unreachable at 127\\.0\\.0\\.1:${pg.port} since \\S+Z \\(ECONNREFUSED\\)$`),
    );
    expect(down.body.checks.redis).toBe('ok');

    // A change made during the outage: the sandbox's webhook is refused, and delivered again later.
    rig.hubspot.updateCompany(hubspotId, { phone: '+31 30 555 0101' });
    // A webhook posted by hand during the outage is answered 503 with Retry-After, never 2xx.
    const event = JSON.stringify([
      {
        eventId: 990001,
        subscriptionId: 1,
        portalId: 1,
        occurredAt: Date.now(),
        subscriptionType: 'company.propertyChange',
        attemptNumber: 0,
        objectId: Number(hubspotId),
        propertyName: 'city',
        propertyValue: 'Zeist',
      },
    ]);
    rig.hubspot.updateCompany(hubspotId, { city: 'Zeist' });
    const refused = await postWebhook(event);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('30');

    await sleep(1000);
    await pg.start();
    await waitFor(async () => (await readyz()).status === 200, 20_000);

    // The provider's redelivery of the refused event is taken, not dropped as a duplicate.
    const redelivered = await postWebhook(event);
    expect(redelivered.status).toBe(202);
    expect(await redelivered.json()).toEqual({ accepted: 1, duplicates: 0 });

    await waitFor(() => {
      const customer = rig.bc.getCustomer(customerId);
      return customer?.phoneNumber === '+31 30 555 0101' && customer.city === 'Zeist';
    }, 30_000);
    const audit = await rig.store.queryAudit({ accountKind: 'customer', accountId: customerId, kind: 'fieldChange' });
    expect(audit.map((entry) => entry.field)).toEqual(expect.arrayContaining(['phone', 'city']));
  });
});
