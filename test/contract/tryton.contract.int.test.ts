/** The Tryton connector against a real trytond 6.0, held to the connector contract (customers). */
import { tryton } from '../../connectors/tryton';
import { startTrytond, trytonSettings } from '../support/tryton/trytond';
import { describeConnectorContract } from './connector.contract';

describeConnectorContract('tryton', async () => {
  const trytond = await startTrytond();
  // A small page size, so listChanged crosses page boundaries.
  const connector = tryton.create(trytonSettings(trytond, { pageSize: 2 }), {
    name: 'accounting',
    retry: { baseDelayMs: 1 },
  });
  const categories = (await trytond.user.model('party.category', 'search_read', [
    [],
    0,
    null,
    null,
    ['name'],
  ])) as Array<{ id: number; name: string }>;
  const category = (name: string) => categories.find((row) => row.name === name)!.id;
  let numbers = 0;
  /** Creates a party in a category the way Tryton's party form does, returning its id. */
  // One at a time: trytond on SQLite hands two concurrent creates the same party code.
  let queue: Promise<unknown> = Promise.resolve();
  const createParty = (categoryName: string, values: Record<string, unknown>): Promise<string> => {
    const created = queue.then(async () => {
      const [id] = (await trytond.user.model('party.party', 'create', [
        [{ ...values, categories: [['add', [category(categoryName)]]] }],
      ])) as number[];
      return String(id);
    });
    queue = created.catch(() => undefined);
    return created;
  };
  return {
    connector,
    entity: 'customer',
    field: 'phone',
    missingId: '999999',
    createRecord: async (value) =>
      createParty('Customer', {
        name: 'Contract Customer',
        contact_mechanisms: [['create', [{ type: 'phone', value }]]],
      }),
    namedRecord: async (name) => createParty('Customer', { name }),
    // Through the party form: the contact mechanism is written inside party.party.write.
    changeRecord: async (id, value) => {
      const [mechanism] = (await trytond.user.model('party.contact_mechanism', 'search', [
        [
          ['party', '=', Number(id)],
          ['type', '=', 'phone'],
        ],
        0,
        1,
        null,
      ])) as number[];
      await trytond.user.model('party.party', 'write', [
        [Number(id)],
        { contact_mechanisms: [['write', [mechanism], { value }]] },
      ]);
    },
    // Tryton has no idempotency key; a create with a chosen code returns the party with that code.
    idempotentCreate: () => ({ extra: { number: `CT${Date.now().toString(36)}${++numbers}` } }),
    documentAccount: async (kind) =>
      createParty(kind === 'customer' ? 'Customer' : 'Supplier', {
        name: `Contract Document ${kind}`,
        addresses: [['create', [{ street: 'Street 1', city: 'Berlin' }]]],
      }),
    cleanup: async () => {
      await connector.close?.();
      await trytond.stop();
    },
  };
});
