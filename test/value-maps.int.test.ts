/**
 * Value maps end to end, over both sandboxes: HubSpot keeps a company's country as its name
 * ("Netherlands"), Business Central as its ISO code ("NL"), and salespeople by name against BC's
 * codes. A change flows both ways in each side's spelling, records that agree under the map are
 * left alone (no ping-pong), and a value without an entry is held for review, not written.
 */
import { waitFor } from '../src/util/net';
import { settle, startRig, toBc, toHubSpot, type Rig } from './support/harness';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({
    config: (base) => ({
      ...base,
      mappings: {
        ...(base.mappings as Record<string, unknown>),
        customer: [
          { contact: 'name', account: 'name' },
          { contact: 'countryCode', account: 'countryCode', transform: 'country' },
          {
            contact: 'salespersonCode',
            account: 'salespersonCode',
            values: { 'Anna de Vries': 'AV', 'Bram Jansen': 'BJ' },
            unmapped: 'hold',
          },
        ],
      },
    }),
  });
});
afterAll(async () => {
  await rig?.stop();
});

/** Writes the sandboxes took from tandem (not reads). */
const writes = () =>
  [...rig.hubspot.requests, ...rig.bc.requests].filter((r) => r.method === 'PATCH' || r.method === 'PUT').length;

async function linked(name: string) {
  const company = rig.hubspot.createCompany({
    ...toHubSpot({ name, countryCode: 'Netherlands' }),
    tandem_salesperson_code: 'Anna de Vries',
  });
  const customer = rig.bc.createCustomer({ ...toBc({ name, countryCode: 'NL' }), salespersonCode: 'AV' });
  const contactId = `company-${company.id}`;
  const relation = await rig.link(contactId, 'customer', String(customer.id));
  return { company, customer: String(customer.id), contactId, relation };
}

test("a country flows both ways in each side's spelling, and records that agree under the map are left alone", async () => {
  const before = writes();
  const { company, customer, contactId } = await linked('Spelled Twice BV');
  // "Netherlands" and "NL" say the same: the first sync writes nothing.
  expect(writes()).toBe(before);
  expect(await rig.store.queryAudit({ contactId, kind: 'fieldChange' })).toEqual([]);

  rig.hubspot.updateCompany(company.id, { country: 'Germany' });
  await waitFor(() => rig.bc.getCustomer(customer)?.country === 'DE', 15_000);
  await rig.flush();

  rig.bc.updateCustomer(customer, { country: 'BE' });
  await waitFor(() => rig.hubspot.getCompany(company.id)?.properties.country === 'Belgium', 15_000);
  await rig.flush();

  // Each side's own report of tandem's write comes back as an echo: nothing more is written.
  const settled = writes();
  await rig.daemon.queues.enqueueChanges([{ connector: 'crm', entity: 'contact', id: contactId, source: 'manual' }]);
  await settle(rig);
  expect(writes()).toBe(settled);
  const changes = await rig.store.queryAudit({ contactId, kind: 'fieldChange', field: 'countryCode' });
  expect(changes.map((entry) => [entry.newValue, entry.sourceSystem])).toEqual([
    ['DE', 'crm'],
    ['Belgium', 'accounting'],
  ]);
});

test('a salesperson by table, and one without an entry held for review with nothing written', async () => {
  const { company, customer, contactId } = await linked('Held Value BV');
  rig.hubspot.updateCompany(company.id, { tandem_salesperson_code: 'Bram Jansen' });
  await waitFor(() => rig.bc.getCustomer(customer)?.salespersonCode === 'BJ', 15_000);
  await rig.flush();

  rig.hubspot.updateCompany(company.id, { tandem_salesperson_code: 'Someone New' });
  await waitFor(async () => (await rig.store.queryAudit({ contactId, kind: 'conflict' })).length > 0, 15_000);
  await settle(rig);
  expect(rig.bc.getCustomer(customer)?.salespersonCode).toBe('BJ');
  const [held] = await rig.store.queryAudit({ contactId, kind: 'conflict' });
  expect(held).toMatchObject({
    field: 'salespersonCode',
    newValue: 'BJ',
    details: { reason: 'unmapped', candidates: [{ system: 'crm', value: 'Someone New' }, { value: 'BJ' }] },
  });
});
