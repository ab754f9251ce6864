/**
 * End to end through both sandboxes, real Redis and a real store (PGlite and Postgres): the
 * promises of the seed as a user would see them on the other side.
 */
import { createHmac } from 'node:crypto';
import { waitFor } from '../src/util/net';
import { HUBSPOT_SECRET, settle, startRig, type Rig, type StoreKind } from './support/harness';

const stores: StoreKind[] = ['pglite', 'postgres'];

describe.each(stores)('sync end to end (%s store)', (storeKind) => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ store: storeKind });
  });
  afterAll(async () => {
    await rig?.stop();
  });
  beforeEach(() => {
    rig.hubspot.resetRequests();
    rig.bc.clearRequestLog();
  });

  const company = (name: string) => ({
    name,
    address: 'Prinsengracht 12',
    city: 'Amsterdam',
    postCode: '1015 DV',
    countryCode: 'NL',
    phone: '+31 20 100 0000',
    email: `info@${name.toLowerCase().replace(/[^a-z]/g, '')}.example`,
  });

  test('a phone changed in the CRM reaches the linked customer', async () => {
    const { hubspotId, accounts } = await rig.linkedCompany(company('Phone Change BV'), ['customer']);
    rig.hubspot.updateCompany(hubspotId, { phone: '+31 20 555 0199' });
    await waitFor(() => rig.bc.getCustomer(accounts.customer as string)?.phoneNumber === '+31 20 555 0199', 10_000);
    // The audit row is written once the planner has the write's confirmation, a moment after the value lands.
    const auditOf = () =>
      rig.store.queryAudit({ accountKind: 'customer', accountId: accounts.customer, kind: 'fieldChange' });
    await waitFor(async () => (await auditOf()).length > 0, 10_000);
    const audit = await auditOf();
    expect(audit).toEqual([
      expect.objectContaining({
        field: 'phone',
        oldValue: '+31 20 100 0000',
        newValue: '+31 20 555 0199',
        direction: 'toAccounting',
        sourceSystem: 'crm',
      }),
    ]);
    expect(audit[0]?.jobId).toBeTruthy();
  });

  test("a customer change reaches its contact and the contact's linked vendor", async () => {
    const { hubspotId, accounts } = await rig.linkedCompany(company('Fan Out GmbH'), ['customer', 'vendor']);
    rig.bc.updateCustomer(accounts.customer as string, { email: 'billing@fanout.example' });
    // The plan writes the contact and the vendor side by side: wait for both, in either order.
    await waitFor(
      () =>
        rig.bc.getVendor(accounts.vendor as string)?.email === 'billing@fanout.example' &&
        rig.hubspot.getCompany(hubspotId)?.properties.tandem_email === 'billing@fanout.example',
      10_000,
    );
    await settle(rig);
    // The customer itself is not written back.
    expect(rig.bc.countRequests({ method: 'PATCH', path: `customers(${accounts.customer})` })).toBe(0);
  });

  test('both sides changed the same field: the newer wins and the conflict is audited', async () => {
    const { hubspotId, contactId, accounts } = await rig.linkedCompany(company('Conflict AS'), ['customer']);
    rig.hubspot.setWebhookTarget(null);
    try {
      rig.hubspot.updateCompany(hubspotId, { city: 'Utrecht' });
      await new Promise((resolve) => setTimeout(resolve, 20));
      rig.bc.updateCustomer(accounts.customer as string, { city: 'Rotterdam' });
      await rig.bc.flushNotifications();
      await rig.daemon.queues.enqueueChanges([
        { connector: 'crm', entity: 'contact', id: contactId, source: 'manual' },
      ]);
      await waitFor(() => rig.hubspot.getCompany(hubspotId)?.properties.city === 'Rotterdam', 10_000);
      await settle(rig);
      expect(rig.bc.getCustomer(accounts.customer as string)?.city).toBe('Rotterdam');
      const conflicts = await rig.store.queryAudit({ contactId, kind: 'conflict' });
      expect(conflicts).toHaveLength(1);
      expect(conflicts[0]).toMatchObject({ field: 'city', newValue: 'Rotterdam', sourceSystem: 'accounting' });
      expect(conflicts[0]?.details).toMatchObject({ reason: 'newer' });
      const values = (conflicts[0]?.details?.candidates as Array<{ value: string }>)
        .map((candidate) => candidate.value)
        .sort();
      expect(values).toEqual(['Rotterdam', 'Utrecht']);
    } finally {
      rig.hubspot.setWebhookTarget({ targetUrl: rig.webhookUrl, clientSecret: HUBSPOT_SECRET, batchDelayMs: 10 });
    }
  });

  describe('record-level times: a vendor city, then a customer city, then the vendor phone', () => {
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    /**
     * Business Central keeps one time per record. The vendor's city is edited first, the
     * customer's city after it, then the vendor's phone, all before tandem syncs the contact (its
     * intake is paused). `observe` says whether tandem read the vendor between the city and the
     * phone edit, as a poll would.
     */
    async function editBothSides(name: string, observe: boolean) {
      const { contactId, accounts } = await rig.linkedCompany(company(name), ['customer', 'vendor']);
      const [customer, vendor] = [accounts.customer as string, accounts.vendor as string];
      await rig.daemon.queues.intake.pause();
      try {
        rig.bc.updateVendor(vendor, { city: 'Utrecht' });
        if (observe) await rig.daemon.pollNow('accounting', ['vendor']);
        await pause(30);
        rig.bc.updateCustomer(customer, { city: 'Rotterdam' });
        await pause(30);
        rig.bc.updateVendor(vendor, { phoneNumber: '+31 30 200 0000' });
        await rig.bc.flushNotifications();
        await rig.daemon.queues.enqueueChanges([
          { connector: 'accounting', entity: 'vendor', id: vendor, source: 'manual' },
        ]);
      } finally {
        await rig.daemon.queues.intake.resume();
      }
      await waitFor(() => rig.bc.getCustomer(customer)?.phoneNumber === '+31 30 200 0000', 10_000);
      await settle(rig);
      const conflicts = await rig.store.queryAudit({ contactId, kind: 'conflict' });
      return { customer, vendor, conflicts };
    }

    test('observed in between, the truly newer city wins, and the phone goes everywhere', async () => {
      const { customer, vendor, conflicts } = await editBothSides('Window One BV', true);
      expect(rig.bc.getCustomer(customer)?.city).toBe('Rotterdam');
      expect(rig.bc.getVendor(vendor)?.city).toBe('Rotterdam');
      expect(rig.bc.getVendor(vendor)?.phoneNumber).toBe('+31 30 200 0000');
      expect(conflicts).toHaveLength(1);
      expect(conflicts[0]).toMatchObject({ field: 'city', newValue: 'Rotterdam', accountKind: 'customer' });
      expect(conflicts[0]?.details).toMatchObject({ reason: 'newer' });
    });

    test('not observed in between, the order cannot be told apart and the conflict says so', async () => {
      const { customer, conflicts } = await editBothSides('Window Two BV', false);
      // The vendor's record time is its phone's. Two of its fields changed since it was last read
      // and one of them changed at that time: the city is as likely as not to be that one, so it
      // is weighed at that time, and wins here although the phone was the later edit.
      expect(rig.bc.getCustomer(customer)?.city).toBe('Utrecht');
      expect(conflicts).toHaveLength(1);
      const details = conflicts[0]?.details as { reason: string; candidates: Array<Record<string, unknown>> };
      expect(details.reason).toBe('uncertain');
      expect(details.candidates.map((candidate) => candidate.value)).toEqual(['Utrecht', 'Rotterdam']);
      expect(details.candidates[0]?.window).toMatchObject({ shared: true, since: expect.any(String), among: 2 });
    });
  });

  test("property history: a company city, then the customer's city, then the company phone", async () => {
    // HubSpot's record time is the phone's; the city's own time comes from its property history.
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const { contactId, hubspotId, accounts } = await rig.linkedCompany(company('History Three BV'), ['customer']);
    const customer = accounts.customer as string;
    rig.hubspot.setWebhookTarget(null);
    await rig.daemon.queues.intake.pause();
    try {
      rig.hubspot.updateCompany(hubspotId, { city: 'Utrecht' });
      await pause(30);
      rig.bc.updateCustomer(customer, { city: 'Rotterdam' });
      await pause(30);
      rig.hubspot.updateCompany(hubspotId, { phone: '+31 30 300 0000' });
      await rig.bc.flushNotifications();
      await rig.daemon.queues.enqueueChanges([
        { connector: 'crm', entity: 'contact', id: contactId, source: 'manual' },
      ]);
    } finally {
      await rig.daemon.queues.intake.resume();
      rig.hubspot.setWebhookTarget({ targetUrl: rig.webhookUrl, clientSecret: HUBSPOT_SECRET, batchDelayMs: 10 });
    }
    await waitFor(() => rig.bc.getCustomer(customer)?.phoneNumber === '+31 30 300 0000', 10_000);
    await settle(rig);
    expect(rig.bc.getCustomer(customer)?.city).toBe('Rotterdam');
    expect(rig.hubspot.getCompany(hubspotId)?.properties.city).toBe('Rotterdam');
    const conflicts = await rig.store.queryAudit({ contactId, kind: 'conflict' });
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({ field: 'city', newValue: 'Rotterdam', accountKind: 'customer' });
    expect(conflicts[0]?.details).toMatchObject({ reason: 'newer' });
  });

  test("tandem's own writes are not echoed back", async () => {
    const { hubspotId, accounts } = await rig.linkedCompany(company('Echo Ltd'), ['customer']);
    rig.hubspot.resetRequests();
    rig.bc.clearRequestLog();
    rig.hubspot.updateCompany(hubspotId, { website: 'https://echo.example' });
    await waitFor(() => rig.bc.getCustomer(accounts.customer as string)?.website === 'https://echo.example', 10_000);
    // The customer's notification about tandem's own write arrives and must change nothing.
    await rig.bc.flushNotifications();
    await settle(rig);
    expect(rig.bc.deliveries.length).toBeGreaterThan(0);
    expect(
      rig.hubspot.requests.filter((request) => request.method === 'PATCH' || request.path.includes('batch/update')),
    ).toHaveLength(0);
    expect(rig.bc.countRequests({ method: 'PATCH' })).toBe(1);
  });

  test('a duplicated webhook gives one write', async () => {
    const { hubspotId, accounts } = await rig.linkedCompany(company('Duplicate SRL'), ['customer']);
    rig.hubspot.setWebhookTarget(null);
    try {
      rig.hubspot.updateCompany(hubspotId, { phone: '+39 06 123 4567' });
      const body = JSON.stringify([
        {
          eventId: 900000 + Number(hubspotId),
          subscriptionId: 1,
          portalId: 62515,
          appId: 54321,
          occurredAt: Date.now(),
          subscriptionType: 'company.propertyChange',
          attemptNumber: 0,
          objectId: Number(hubspotId),
          propertyName: 'phone',
          propertyValue: '+39 06 123 4567',
          changeSource: 'CRM_UI',
        },
      ]);
      const first = await postSigned(rig.webhookUrl, body);
      const second = await postSigned(rig.webhookUrl, body);
      expect([first.status, second.status]).toEqual([202, 202]);
      expect(await second.json()).toMatchObject({ accepted: 0, duplicates: 1 });
      await waitFor(() => rig.bc.getCustomer(accounts.customer as string)?.phoneNumber === '+39 06 123 4567', 10_000);
      await settle(rig);
      expect(rig.bc.countRequests({ method: 'PATCH', path: `customers(${accounts.customer})` })).toBe(1);
    } finally {
      rig.hubspot.setWebhookTarget({ targetUrl: rig.webhookUrl, clientSecret: HUBSPOT_SECRET, batchDelayMs: 10 });
    }
  });

  test('two quick changes to one contact both land, in order', async () => {
    const { hubspotId, accounts, contactId } = await rig.linkedCompany(company('Quick Succession Oy'), ['customer']);
    rig.hubspot.updateCompany(hubspotId, { phone: '+358 9 111' });
    rig.hubspot.updateCompany(hubspotId, { phone: '+358 9 222', city: 'Helsinki' });
    await waitFor(() => rig.bc.getCustomer(accounts.customer as string)?.phoneNumber === '+358 9 222', 10_000);
    await settle(rig);
    const customer = rig.bc.getCustomer(accounts.customer as string);
    expect(customer).toMatchObject({ phoneNumber: '+358 9 222', city: 'Helsinki' });
    const phones = (await rig.store.queryAudit({ contactId, kind: 'fieldChange', field: 'phone' })).map(
      (entry) => entry.newValue,
    );
    expect(phones[phones.length - 1]).toBe('+358 9 222');
  });

  test('a bad signature is refused with 401 and nothing is enqueued; a malformed body with 400', async () => {
    const before = await rig.daemon.queues.intake.count();
    const body = JSON.stringify([
      { eventId: 1, subscriptionType: 'company.propertyChange', objectId: 1, occurredAt: Date.now() },
    ]);
    const bad = await fetch(rig.webhookUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hubspot-signature-v3': 'bm90IGEgc2lnbmF0dXJl',
        'x-hubspot-request-timestamp': String(Date.now()),
      },
      body,
    });
    expect(bad.status).toBe(401);
    expect(await rig.daemon.queues.intake.count()).toBe(before);
    const malformed = await postSigned(rig.webhookUrl, '{"not": "an array"');
    expect(malformed.status).toBe(400);
  });

  test('deleting the contact removes only its relations; deleting an account keeps the contact', async () => {
    const first = await rig.linkedCompany(company('Deleted Contact NV'), ['customer']);
    rig.hubspot.deleteCompany(first.hubspotId);
    // The relation goes first, its audit row right after: wait for the removal to finish.
    await waitFor(
      async () =>
        (await rig.store.findRelationsByContact(first.contactId)).length === 0 &&
        (await rig.store.queryAudit({ contactId: first.contactId, kind: 'delete' })).length > 0,
      10_000,
    );
    expect(rig.bc.getCustomer(first.accounts.customer as string)).toBeDefined();
    expect(await rig.store.queryAudit({ contactId: first.contactId, kind: 'delete' })).toHaveLength(1);

    const second = await rig.linkedCompany(company('Deleted Account NV'), ['customer', 'vendor']);
    rig.bc.deleteCustomer(second.accounts.customer as string);
    await waitFor(async () => (await rig.store.findRelationsByContact(second.contactId)).length === 1, 10_000);
    expect(rig.hubspot.getCompany(second.hubspotId)).toBeDefined();
    expect(rig.bc.getVendor(second.accounts.vendor as string)).toBeDefined();
  });
});

function postSigned(url: string, body: string): Promise<Response> {
  const timestamp = String(Date.now());
  const signature = createHmac('sha256', HUBSPOT_SECRET).update(`POST${url}${body}${timestamp}`).digest('base64');
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-hubspot-signature-v3': signature,
      'x-hubspot-request-timestamp': timestamp,
    },
    body,
  });
}
