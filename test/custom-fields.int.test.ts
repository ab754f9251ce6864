/**
 * Custom fields end to end: a HubSpot custom property ("Account manager", a picklist of names)
 * mapped onto Business Central's salesperson code through a value table. Changes flow both ways
 * in each side's spelling, the audit log names the custom field, and a start with a custom field
 * the portal does not have, or one it computes itself, is refused naming the field and connector.
 */
import { ConfigError } from '../src/config/load';
import type { TandemConfig } from '../src/config/schema';
import type { FieldMapping } from '../src/core/model';
import { setUpConnectors } from '../src/main/connectors';
import { waitFor } from '../src/util/net';
import { ACCOUNT_MANAGER, settle, startRig, toBc, toHubSpot, type Rig } from './support/harness';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({
    hubspot: {
      properties: {
        companies: [
          ACCOUNT_MANAGER,
          { name: 'hs_health_score', label: 'Health score', type: 'number', readOnly: true },
        ],
      },
    },
    config: (base) => ({
      ...base,
      mappings: {
        ...(base.mappings as Record<string, unknown>),
        customer: [
          { contact: 'name', account: 'name' },
          {
            contact: 'custom.account_manager',
            account: 'salespersonCode',
            values: { 'Anna de Vries': 'AV', 'Bram Jansen': 'BJ' },
          },
        ],
      },
    }),
  });
});
afterAll(async () => {
  await rig?.stop();
});

test('a custom HubSpot property flows both ways through a value table, and the audit log names it', async () => {
  const company = rig.hubspot.createCompany({ ...toHubSpot({ name: 'Managed BV' }), account_manager: 'Anna de Vries' });
  const customer = String(rig.bc.createCustomer({ ...toBc({ name: 'Managed BV' }), salespersonCode: 'AV' }).id);
  const contactId = `company-${company.id}`;
  const relation = await rig.link(contactId, 'customer', customer);
  const shadow = await rig.store.getShadow(relation.id);
  expect(shadow.find((entry) => entry.side === 'contact' && entry.field === 'custom.account_manager')?.value).toBe(
    'Anna de Vries',
  );

  rig.hubspot.updateCompany(company.id, { account_manager: 'Bram Jansen' });
  await waitFor(() => rig.bc.getCustomer(customer)?.salespersonCode === 'BJ', 15_000);
  await rig.flush();

  rig.bc.updateCustomer(customer, { salespersonCode: 'AV' });
  await waitFor(() => rig.hubspot.getCompany(company.id)?.properties.account_manager === 'Anna de Vries', 15_000);
  await settle(rig);
  const changes = await rig.store.queryAudit({ contactId, kind: 'fieldChange' });
  expect(changes.map((entry) => [entry.field, entry.newValue])).toEqual([
    ['salespersonCode', 'BJ'],
    ['custom.account_manager', 'Anna de Vries'],
  ]);
});

test('a start naming a custom property the portal does not have, or one it computes, is refused', async () => {
  const withMapping = (mapping: Partial<FieldMapping>): TandemConfig => ({
    ...rig.config,
    mappings: {
      ...rig.config.mappings,
      customer: [
        { contact: 'name', account: 'name', direction: 'both' },
        { contact: '', account: '', direction: 'both', ...mapping },
      ],
    },
  });
  const start = (mapping: Partial<FieldMapping>) =>
    setUpConnectors({
      config: withMapping(mapping),
      store: rig.store,
      publicUrl: 'http://127.0.0.1:9',
      observe: () => undefined,
    }).then(
      () => null,
      (error: unknown) => error,
    );

  const unknown = await start({ contact: 'custom.acount_manager', account: 'salespersonCode' });
  expect(unknown).toBeInstanceOf(ConfigError);
  expect((unknown as ConfigError).problems).toEqual([
    expect.stringMatching(
      /^mappings\.customer\[1\]\.contact: hubspot has no contact field 'custom\.acount_manager' \(its custom fields: .*custom\.account_manager/,
    ),
  ]);
  const computed = await start({ contact: 'custom.hs_health_score', account: 'salespersonCode' });
  expect((computed as ConfigError).problems).toEqual([
    "mappings.customer[1].contact: 'custom.hs_health_score' is read-only in hubspot; map it with direction toAccounting",
  ]);
  expect(
    await start({ contact: 'custom.hs_health_score', account: 'salespersonCode', direction: 'toAccounting' }),
  ).toBeNull();
});

test("the console lists each side's fields as the providers describe them, custom ones with their options", async () => {
  const fields = await rig.daemon.console.describeFields('customer');
  expect(fields.contact).toContainEqual({
    name: 'custom.account_manager',
    label: 'Account manager',
    type: 'enumeration',
    writable: true,
    options: [
      { value: 'Anna de Vries', label: 'Anna de Vries' },
      { value: 'Bram Jansen', label: 'Bram Jansen' },
    ],
    custom: true,
  });
  expect(fields.contact).toContainEqual(expect.objectContaining({ name: 'phone', custom: false }));
  expect(fields.account).toContainEqual(
    expect.objectContaining({ name: 'custom.blocked', type: 'enumeration', writable: true, custom: true }),
  );
  expect(fields.account).toContainEqual(expect.objectContaining({ name: 'custom.balanceDue', writable: false }));
});
