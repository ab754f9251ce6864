/**
 * The intake hooks of the relation operations against real Redis with fake connectors:
 * automatic contacts exactly once, none for a first poll, and person contacts' fields.
 */
import { waitFor } from '../src/util/net';
import { FakeConnector, MAPPED_FIELDS, startFakeRig, type FakeRig } from './support/fakes';

let rig: FakeRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

const settle = async (current: FakeRig) => {
  await waitFor(
    async () => {
      const counts = await current.daemon.queues.intake.getJobCounts('waiting', 'active', 'delayed');
      return Object.values(counts).every((count) => count === 0);
    },
    10_000,
    25,
  );
};

describe('automatic contacts', () => {
  it('creates one contact for a new customer reported four times at once, and none for a first poll', async () => {
    const accounting = new FakeConnector({
      name: 'accounting',
      system: 'accounting',
      entities: ['customer'],
      fields: MAPPED_FIELDS,
    });
    rig = await startFakeRig({ accountingConnector: accounting });
    (rig.config as { automaticContacts: { customer: boolean } }).automaticContacts.customer = true;
    const account = accounting.put('customer', 'new-1', { name: 'Northwind', phone: '+44 1' });
    const base = { connector: 'accounting' as const, entity: 'customer' as const, id: 'new-1' };
    await rig.daemon.queues.enqueueChanges([
      { ...base, source: 'webhook', eventId: 'e1' },
      { ...base, source: 'webhook', eventId: 'e2' },
      { ...base, source: 'poll', occurredAt: account.modifiedAt },
      { ...base, source: 'manual', occurredAt: new Date(Date.parse(account.modifiedAt) + 1).toISOString() },
    ]);
    await settle(rig);
    const companies = [...rig.crm.records.values()].filter((record) => record.entity === 'contact');
    expect(companies).toHaveLength(1);
    const relation = await rig.store.findRelationByAccount('customer', 'new-1');
    expect(relation).toMatchObject({ origin: 'automatic', contactId: companies[0]?.id });

    accounting.put('customer', 'old-1', { name: 'Existing' });
    await rig.daemon.queues.enqueueChanges([
      {
        connector: 'accounting',
        entity: 'customer',
        id: 'old-1',
        source: 'poll',
        initial: true,
        occurredAt: new Date().toISOString(),
      },
    ]);
    await settle(rig);
    expect(await rig.store.findRelationByAccount('customer', 'old-1')).toBeNull();
    expect([...rig.crm.records.values()]).toHaveLength(1);
  });

  it('creates none while the kind is not enabled', async () => {
    rig = await startFakeRig();
    rig.accounting.put('customer', 'new-2', { name: 'Adatum' });
    await rig.daemon.queues.enqueueChanges([
      { connector: 'accounting', entity: 'customer', id: 'new-2', source: 'webhook', eventId: 'x' },
    ]);
    await settle(rig);
    expect(rig.crm.records.size).toBe(0);
  });
});

describe('person contacts', () => {
  it("leave the company's accounts alone by default", async () => {
    rig = await startFakeRig();
    await rig.linked('company-1', 'cust-1', { name: 'Fabrikam', phone: '+31 1', city: 'Delft' });
    const person = rig.crm.put('contact', 'person-1', { name: 'Anna', phone: '+31 9' });
    if (person.entity === 'contact') {
      person.type = 'person';
      person.companyId = 'company-1';
    }
    await rig.contactChanged('person-1');
    await settle(rig);
    expect(rig.accounting.value('customer', 'cust-1', 'phone')).toBe('+31 1');
  });

  it("write the listed fields to the company's accounts when configured", async () => {
    rig = await startFakeRig();
    (rig.config as { persons: { fieldsToAccount: string[] } }).persons.fieldsToAccount = ['phone'];
    await rig.linked('company-1', 'cust-1', { name: 'Fabrikam', phone: '+31 1', city: 'Delft' });
    const person = rig.crm.put('contact', 'person-1', { name: 'Anna', phone: '+31 9' });
    if (person.entity === 'contact') {
      person.type = 'person';
      person.companyId = 'company-1';
    }
    await rig.contactChanged('person-1');
    await waitFor(() => rig?.accounting.value('customer', 'cust-1', 'phone') === '+31 9', 10_000, 25);
    // The company contact keeps its own phone: the account side of the shadow followed the write.
    await rig.contactChanged('company-1');
    await settle(rig);
    expect(rig.crm.value('contact', 'company-1', 'phone')).toBe('+31 1');
    expect(rig.crm.value('contact', 'company-1', 'name')).toBe('Fabrikam');
  });
});
