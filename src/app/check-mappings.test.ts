import type { Connector, FieldDescription } from '../../connectors/kit/types';
import type { TandemConfig } from '../config/schema';
import { testConfig } from '../../test/support/fakes';
import { unsupportedCustomFields, unsupportedMappings } from './check-mappings';

function connector(
  system: 'crm' | 'accounting',
  options: { custom?: boolean; describe?: () => Promise<FieldDescription[]> } = {},
): Connector {
  const entity = system === 'crm' ? 'contact' : 'customer';
  return {
    name: system,
    system,
    entities: [entity],
    fields: { [entity]: ['name', 'phone', 'salespersonCode'] },
    ...(options.custom && { customFields: [entity] }),
    ...(options.describe && { describeFields: options.describe }),
    get: () => Promise.resolve(null),
  };
}

const field = (name: string, writable = true): FieldDescription => ({
  name,
  label: name,
  type: 'text',
  writable,
  custom: name.startsWith('custom.'),
});

function configWith(mappings: Array<Record<string, unknown>>): TandemConfig {
  const base = testConfig('check-mappings');
  return { ...base, mappings: { customer: mappings as TandemConfig['mappings']['customer'] } };
}

describe('custom fields in mappings', () => {
  const config = configWith([
    { contact: 'name', account: 'name', direction: 'both' },
    { contact: 'custom.customer_tier', account: 'salespersonCode', direction: 'both' },
  ]);

  it('are refused on a connector that does not read custom fields, naming the field and the connector', () => {
    expect(unsupportedMappings(config, connector('crm'), connector('accounting'))).toEqual([
      'mappings.customer[1].contact: hubspot does not read custom fields of contacts',
    ]);
    expect(unsupportedMappings(config, connector('crm', { custom: true }), connector('accounting'))).toEqual([]);
  });

  it("are checked against the provider's schema: unknown and read-only ones are refused", async () => {
    const crm = (fields: FieldDescription[]) =>
      connector('crm', { custom: true, describe: () => Promise.resolve(fields) });
    const unknown = await unsupportedCustomFields(
      config,
      crm([field('name'), field('custom.tier')]),
      connector('accounting'),
    );
    expect(unknown.problems).toEqual([
      "mappings.customer[1].contact: hubspot has no contact field 'custom.customer_tier' (its custom fields: custom.tier)",
    ]);
    const readOnly = await unsupportedCustomFields(
      config,
      crm([field('custom.customer_tier', false)]),
      connector('accounting'),
    );
    expect(readOnly.problems).toEqual([
      "mappings.customer[1].contact: 'custom.customer_tier' is read-only in hubspot; map it with direction toAccounting",
    ]);
    // Read only, it may still feed the other side.
    const oneWay = configWith([
      { contact: 'custom.customer_tier', account: 'salespersonCode', direction: 'toAccounting' },
    ]);
    expect(
      (await unsupportedCustomFields(oneWay, crm([field('custom.customer_tier', false)]), connector('accounting')))
        .problems,
    ).toEqual([]);
  });

  it('leave a schema that does not answer to later, saying which, and give up on one that hangs', async () => {
    const down = connector('crm', { custom: true, describe: () => Promise.reject(new Error('ECONNREFUSED')) });
    const result = await unsupportedCustomFields(config, down, connector('accounting'));
    expect(result.problems).toEqual([]);
    expect(result.unreadable).toEqual([{ slot: 'crm', error: new Error('ECONNREFUSED') }]);
    const hanging = connector('crm', { custom: true, describe: () => new Promise(() => undefined) });
    const late = await unsupportedCustomFields(config, hanging, connector('accounting'), 20);
    expect(String(late.unreadable[0]?.error)).toContain('no answer within 20 ms');
  });

  it('hold for the fields sync filters name too, read-only ones included', async () => {
    const filtered: TandemConfig = {
      ...configWith([{ contact: 'name', account: 'name', direction: 'both' }]),
      filters: {
        customer: {
          contact: [{ field: 'custom.lifecyclestage', in: ['customer'] }],
          account: [{ field: 'custom.blocked', empty: true }],
        },
      },
    };
    expect(unsupportedMappings(filtered, connector('crm', { custom: true }), connector('accounting'))).toEqual([
      'filters.customer.account[0].field: business-central does not read custom fields of customer records',
    ]);
    const crm = connector('crm', {
      custom: true,
      describe: () => Promise.resolve([field('custom.lifecyclestage', false)]),
    });
    const accounting = connector('accounting', { custom: true, describe: () => Promise.resolve([field('name')]) });
    expect((await unsupportedCustomFields(filtered, crm, accounting)).problems).toEqual([
      "filters.customer.account[0].field: business-central has no customer field 'custom.blocked'",
    ]);
  });
});
