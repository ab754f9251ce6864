import { changeJob, type ChangeJob } from '../app/ports/changes';
import { changeJobId, writeJob, writeJobId, type WriteJob } from './jobs';

const change: ChangeJob = {
  connector: 'crm',
  entity: 'contact',
  id: 'company-42',
  occurredAt: '2024-05-01T10:00:00.000Z',
  source: 'poll',
};
const write: WriteJob = {
  connector: 'accounting',
  entity: 'customer',
  id: 'c-1',
  fields: { phone: '1' },
  planId: 'chg-1-a0-1',
};

describe('changeJobId', () => {
  test('the same change gets the same id, whoever reported it', () => {
    expect(changeJobId(change)).toBe(changeJobId({ ...change }));
    expect(changeJobId({ ...change, source: 'webhook', eventId: 'hubspot-9' })).toBe(changeJobId(change));
    expect(changeJobId({ ...change, occurredAt: '2024-05-01T12:00:00+02:00' })).toBe(changeJobId(change));
  });

  test('a later change, another record or a deletion gets another id', () => {
    const ids = new Set([
      changeJobId(change),
      changeJobId({ ...change, occurredAt: '2024-05-01T10:00:00.001Z' }),
      changeJobId({ ...change, id: 'company-43' }),
      changeJobId({ ...change, deleted: true }),
      changeJobId({ ...change, connector: 'accounting', entity: 'customer' }),
      // A merge is not the deletion it also is.
      changeJobId({ ...change, deleted: true, mergedInto: 'company-44' }),
    ]);
    expect(ids.size).toBe(6);
  });

  test('without a time the event id tells changes apart', () => {
    const bare = { ...change, occurredAt: undefined };
    expect(changeJobId({ ...bare, eventId: 'a' })).toBe(changeJobId({ ...bare, eventId: 'a' }));
    expect(changeJobId({ ...bare, eventId: 'a' })).not.toBe(changeJobId({ ...bare, eventId: 'b' }));
  });

  test('a time that does not parse falls back to the event id', () => {
    const garbled = { ...change, occurredAt: 'yesterday' };
    expect(changeJobId({ ...garbled, eventId: 'a' })).not.toBe(changeJobId({ ...garbled, eventId: 'b' }));
  });

  test("ids avoid ':' (reserved by BullMQ) and stay short", () => {
    const odd = changeJobId({ ...change, id: 'a:b/c d' });
    expect(odd).not.toContain(':');
    const long = changeJobId({ ...change, id: 'x'.repeat(500) });
    expect(long.length).toBeLessThanOrEqual(50);
    expect(long).toBe(changeJobId({ ...change, id: 'x'.repeat(500) }));
    expect(long).not.toBe(changeJobId({ ...change, id: 'y'.repeat(500) }));
  });
});

describe('writeJobId', () => {
  test('one id per plan and target record', () => {
    expect(writeJobId(write)).toBe(writeJobId({ ...write, fields: { phone: '2' } }));
    expect(writeJobId({ ...write, planId: 'chg-1-a1-1' })).not.toBe(writeJobId(write));
    expect(writeJobId({ ...write, id: 'c-2' })).not.toBe(writeJobId(write));
    expect(writeJobId(write)).not.toContain(':');
  });
});

describe('payloads', () => {
  test('a foreign payload is refused with a reason', () => {
    expect(changeJob.safeParse({ ...change, entity: 'invoice' }).success).toBe(false);
    expect(changeJob.safeParse({ ...change, id: '' }).success).toBe(false);
    expect(writeJob.safeParse({ ...write, fields: { phone: 1 } }).success).toBe(false);
    expect(writeJob.parse(write)).toEqual(write);
  });
});
