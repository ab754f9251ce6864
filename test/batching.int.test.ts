/**
 * A burst of changes goes out in batch calls: planners running at once share batch reads, and
 * write jobs running at once share batch writes, each still fenced and compared on its own.
 */
import { waitFor } from '../src/util/net';
import { settle, startRig, type Rig } from './support/harness';

const COMPANIES = 40;

describe('a burst of changes', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({
      store: 'pglite',
      config: (base) => {
        const connectors = base.connectors as Record<string, Record<string, unknown>>;
        for (const connector of Object.values(connectors)) connector.concurrency = 32;
        return { ...base, queue: { intakeConcurrency: 32 } };
      },
    });
  });
  afterAll(async () => {
    await rig?.stop();
  });

  // The setup's 40 links go one after the other; alongside the other suites on two cores they
  // alone can take most of jest's default minute, hence a longer timeout.
  it('reaches the other side in batch calls, far fewer than one per change', async () => {
    const linked: Array<Awaited<ReturnType<Rig['linkedCompany']>>> = [];
    for (let index = 0; index < COMPANIES; index++)
      linked.push(await rig.linkedCompany({ name: `Burst ${index} BV`, phone: '+31 20 000 0000' }, ['customer']));
    await settle(rig);
    rig.hubspot.resetRequests();
    rig.bc.clearRequestLog();

    linked.forEach(({ accounts }, index) =>
      rig.bc.updateCustomer(accounts.customer as string, {
        phoneNumber: `+31 20 555 ${String(index).padStart(4, '0')}`,
      }),
    );
    await rig.bc.flushNotifications();
    await waitFor(
      () =>
        linked.every(
          ({ hubspotId }, index) =>
            rig.hubspot.getCompany(hubspotId)?.properties.phone === `+31 20 555 ${String(index).padStart(4, '0')}`,
        ),
      60_000,
    );
    await settle(rig);

    const crm = rig.hubspot.requests;
    const writes = crm.filter((call) => call.method === 'PATCH' || call.path.endsWith('batch/update'));
    const batchWrites = crm.filter((call) => call.path.endsWith('batch/update'));
    const reads = crm.filter((call) => call.method === 'GET' || call.path.endsWith('batch/read'));
    // Every change written, most of them in shared calls; reads of the contacts shared as well.
    expect(batchWrites.length).toBeGreaterThan(0);
    expect(writes.length).toBeLessThan(COMPANIES / 2);
    expect(reads.length).toBeLessThan(COMPANIES);
    const accountReads = rig.bc.requests.filter((call) => call.method === 'GET' || call.path.includes('$batch'));
    expect(accountReads.length).toBeLessThan(COMPANIES);
    const audit = await rig.store.queryAudit({ kind: 'fieldChange', field: 'phone', limit: 1000 });
    expect(audit.filter((row) => row.newValue?.startsWith('+31 20 555'))).toHaveLength(COMPANIES);
  }, 180_000);
});
