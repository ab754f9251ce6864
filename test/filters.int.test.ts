/**
 * Sync filters end to end: customers sync only while the HubSpot company is a customer or an
 * evangelist (its lifecycle stage) and the Business Central customer is not blocked. A relation
 * that stops matching is left alone (nothing written either way, the console's status says
 * filtered); once it matches again, what changed meanwhile is decided as any other change.
 */
import { waitFor } from '../src/util/net';
import { settle, startRig, toBc, toHubSpot, type Rig } from './support/harness';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({
    config: (base) => ({
      ...base,
      filters: {
        customer: {
          contact: [{ field: 'custom.lifecyclestage', in: ['customer', 'evangelist'] }],
          account: [{ field: 'custom.blocked', empty: true }],
        },
      },
    }),
  });
});
afterAll(async () => {
  await rig?.stop();
});

test('a blocked customer is left alone, and syncs again once unblocked', async () => {
  const company = rig.hubspot.createCompany({
    ...toHubSpot({ name: 'Filtered BV', phone: '+31 20 100 0001' }),
    lifecyclestage: 'customer',
  });
  const customer = String(rig.bc.createCustomer(toBc({ name: 'Filtered BV', phone: '+31 20 100 0001' })).id);
  const contactId = `company-${company.id}`;
  const relation = await rig.link(contactId, 'customer', customer);

  rig.hubspot.updateCompany(company.id, { phone: '+31 20 100 0002' });
  await waitFor(() => rig.bc.getCustomer(customer)?.phoneNumber === '+31 20 100 0002', 15_000);
  await rig.flush();

  // Blocked in the books: the relation stays, nothing is written either way.
  rig.bc.updateCustomer(customer, { blocked: 'All' });
  await rig.flush();
  rig.hubspot.updateCompany(company.id, { phone: '+31 20 100 0003' });
  rig.bc.updateCustomer(customer, { city: 'Utrecht' });
  await rig.flush();
  await rig.daemon.queues.enqueueChanges([{ connector: 'crm', entity: 'contact', id: contactId, source: 'manual' }]);
  await settle(rig);
  expect(rig.bc.getCustomer(customer)?.phoneNumber).toBe('+31 20 100 0002');
  expect(rig.hubspot.getCompany(company.id)?.properties.city ?? null).not.toBe('Utrecht');
  expect(await rig.store.getRelation(relation.id)).not.toBeNull();
  const status = await rig.daemon.service.relationStatus(relation.id);
  expect(status.filtered).toBe('account');

  // Unblocked: the changes made meanwhile flow, each by its own time.
  rig.bc.updateCustomer(customer, { blocked: ' ' });
  await waitFor(() => rig.bc.getCustomer(customer)?.phoneNumber === '+31 20 100 0003', 15_000);
  await waitFor(() => rig.hubspot.getCompany(company.id)?.properties.city === 'Utrecht', 15_000);
  expect((await rig.daemon.service.relationStatus(relation.id)).filtered).toBeNull();
});

test('a company that is no longer a customer in the CRM is left alone', async () => {
  const company = rig.hubspot.createCompany({
    ...toHubSpot({ name: 'Former Customer BV' }),
    lifecyclestage: 'customer',
  });
  const customer = String(rig.bc.createCustomer(toBc({ name: 'Former Customer BV' })).id);
  const contactId = `company-${company.id}`;
  const relation = await rig.link(contactId, 'customer', customer);
  rig.hubspot.updateCompany(company.id, { lifecyclestage: 'other', phone: '+31 30 200 0000' });
  await rig.flush();
  expect(rig.bc.getCustomer(customer)?.phoneNumber ?? '').toBe('');
  expect((await rig.daemon.service.relationStatus(relation.id)).filtered).toBe('contact');
});
