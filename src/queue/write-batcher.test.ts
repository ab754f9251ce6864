import { InvalidRequestError, TransientError } from '../../connectors/kit/errors';
import type { BatchItemResult, Connector, RecordUpdate } from '../../connectors/kit/types';
import type { Account } from '../core/model';
import { currentPriority, withPriority } from '../../connectors/kit/priority';
import { WriteBatcher } from './write-batcher';

const account = (id: string, city: string | null): Account => ({
  entity: 'customer',
  id,
  number: null,
  fields: { city },
  modifiedAt: '2026-12-01T10:00:00.000Z',
});

/** A connector that records its calls; ids starting with `bad` fail as items, a city `down` fails the call. */
function ledger() {
  const calls: string[][] = [];
  const connector: Connector = {
    name: 'accounting',
    system: 'accounting',
    entities: ['customer'],
    fields: { customer: ['city'] },
    get: () => Promise.resolve(null),
    update: (_entity, update) => {
      calls.push([update.id]);
      return Promise.resolve(account(update.id, update.fields.city ?? null));
    },
    batchUpdate: (_entity, updates: RecordUpdate[]) => {
      calls.push(updates.map((update) => update.id));
      if (updates.some((update) => update.fields.city === 'down')) return Promise.reject(new TransientError('503'));
      return Promise.resolve(
        updates.map((update): BatchItemResult =>
          update.id.startsWith('bad')
            ? { id: update.id, ok: false, error: new InvalidRequestError(`${update.id} refused`) }
            : { id: update.id, ok: true, record: account(update.id, update.fields.city ?? null) },
        ),
      );
    },
  };
  return { connector, calls };
}

describe('WriteBatcher', () => {
  it('writes updates that arrive together in one call, each job getting its own record', async () => {
    const { connector, calls } = ledger();
    const batcher = new WriteBatcher(connector, 20, 100);
    const written = await Promise.all(
      ['c1', 'c2', 'c3'].map((id) => batcher.write('customer', { id, fields: { city: `City ${id}` } })),
    );
    expect(calls).toEqual([['c1', 'c2', 'c3']]);
    expect(written.map((record) => [record.id, record.fields.city])).toEqual([
      ['c1', 'City c1'],
      ['c2', 'City c2'],
      ['c3', 'City c3'],
    ]);
  });

  it('sends an update alone as a single update, and a full batch at once', async () => {
    const { connector, calls } = ledger();
    const batcher = new WriteBatcher(connector, 1000, 2);
    await batcher.write('customer', { id: 'solo', fields: { city: 'A' } }).catch(() => undefined);
    const started = Date.now();
    await Promise.all(['x', 'y'].map((id) => batcher.write('customer', { id, fields: { city: 'B' } })));
    expect(Date.now() - started).toBeLessThan(900);
    expect(calls).toEqual([['solo'], ['x', 'y']]);
  });

  it('keeps an admin’s writes out of a batch of bulk work, each call made with its own priority', async () => {
    const { connector, calls } = ledger();
    const priorities: string[] = [];
    const batchUpdate = connector.batchUpdate!.bind(connector);
    connector.batchUpdate = (entity, updates) => {
      priorities.push(currentPriority());
      return batchUpdate(entity, updates);
    };
    const batcher = new WriteBatcher(connector, 20, 100);
    const write = (id: string) => batcher.write('customer', { id, fields: { city: 'E' } });
    await Promise.all([
      write('b1'),
      withPriority('interactive', () => Promise.all([write('i1'), write('i2')])),
      write('b2'),
    ]);
    expect(calls).toEqual([
      ['b1', 'b2'],
      ['i1', 'i2'],
    ]);
    expect(priorities).toEqual(['bulk', 'interactive']);
  });

  it('fails only the refused item, and every job of a call that failed', async () => {
    const { connector } = ledger();
    const batcher = new WriteBatcher(connector, 10, 100);
    const items = await Promise.allSettled(
      ['ok1', 'bad1'].map((id) => batcher.write('customer', { id, fields: { city: 'C' } })),
    );
    expect(items.map((item) => item.status)).toEqual(['fulfilled', 'rejected']);
    expect((items[1] as PromiseRejectedResult).reason).toBeInstanceOf(InvalidRequestError);
    const call = await Promise.allSettled(
      ['a', 'b'].map((id, index) => batcher.write('customer', { id, fields: { city: index === 0 ? 'down' : 'D' } })),
    );
    expect(call.map((item) => item.status)).toEqual(['rejected', 'rejected']);
    expect((call[1] as PromiseRejectedResult).reason).toBeInstanceOf(TransientError);
  });
});
