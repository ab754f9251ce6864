/**
 * HubSpot has no etag: tandem compares a record just before it writes, and an edit that lands in
 * between is replaced by the write. The property history tells: tandem puts the newer edit back
 * and carries it on, rather than losing it.
 */
import { waitFor } from '../src/util/net';
import { settle, startRig, type Rig } from './support/harness';

describe('an edit that lands between the compare and the write', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ store: 'pglite' });
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('is put back in the CRM and carried to the customer, and the audit says so', async () => {
    const { hubspotId, contactId, accounts } = await rig.linkedCompany(
      { name: 'Narrow Window BV', phone: '+31 20 100 0000', city: 'Delft' },
      ['customer'],
    );
    const customerId = accounts.customer as string;
    await settle(rig);
    // Every CRM call takes 400 ms once admitted: the write's compare read answers, then the
    // user's edit lands while the write itself is still on its way.
    rig.hubspot.setLatency(400);
    rig.hubspot.resetRequests();
    try {
      rig.bc.updateCustomer(customerId, { phoneNumber: '+31 20 200 0000' });
      await rig.bc.flushNotifications();
      const writing = () =>
        rig.hubspot.requests.some(
          (call) =>
            (call.method === 'PATCH' && call.path.includes(`companies/${hubspotId}`)) ||
            (call.method === 'POST' && call.path.includes('companies/batch/update')),
        );
      await waitFor(writing, 15_000, 2);
      rig.hubspot.updateCompany(hubspotId, { phone: '+31 20 300 0000' });
    } finally {
      rig.hubspot.setLatency(0);
    }
    await waitFor(
      () =>
        rig.hubspot.getCompany(hubspotId)?.properties.phone === '+31 20 300 0000' &&
        rig.bc.getCustomer(customerId)?.phoneNumber === '+31 20 300 0000',
      20_000,
    );
    await settle(rig);
    expect(rig.hubspot.getCompany(hubspotId)?.properties.phone).toBe('+31 20 300 0000');
    expect(rig.bc.getCustomer(customerId)?.phoneNumber).toBe('+31 20 300 0000');
    const changes = await rig.store.queryAudit({ contactId, kind: 'fieldChange', field: 'phone' });
    expect(changes.map((row) => [row.direction, row.oldValue, row.newValue])).toEqual([
      ['toCrm', '+31 20 100 0000', '+31 20 200 0000'],
      ['toCrm', '+31 20 200 0000', '+31 20 300 0000'],
      ['toAccounting', '+31 20 200 0000', '+31 20 300 0000'],
    ]);
  });
});
