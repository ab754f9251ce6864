import type { Account } from './model';
import { carryValues, observeRecord, withObservedTimes, type RecordObservation } from './observe';

const [T1, T2, T3] = ['2026-03-01T10:00:00.000Z', '2026-03-01T10:05:00.000Z', '2026-03-01T10:09:00.000Z'];
const vendor = (modifiedAt: string, fields: Account['fields'], extra: Partial<Account> = {}): Account => ({
  entity: 'vendor',
  id: 'V-1',
  number: 'V-1',
  fields,
  modifiedAt,
  ...extra,
});

describe('observeRecord', () => {
  it('gives a first observation the record time for every field, with no lower bound', () => {
    expect(observeRecord(null, vendor(T1, { city: 'Delft', phone: null }))).toEqual({
      modifiedAt: T1,
      fields: {
        city: { value: 'Delft', at: T1, since: null, shared: false },
        phone: { value: null, at: T1, since: null, shared: false },
      },
    });
  });

  it('keeps a field’s window while the record changes other fields', () => {
    const first = observeRecord(null, vendor(T1, { city: 'Delft', phone: '1' }));
    const cityEdited = observeRecord(first, vendor(T2, { city: 'Leiden', phone: '1' }));
    const phoneEdited = observeRecord(cityEdited, vendor(T3, { city: 'Leiden', phone: '2' }));
    expect(phoneEdited.fields).toEqual({
      city: { value: 'Leiden', at: T2, since: T1, shared: false },
      phone: { value: '2', at: T3, since: T2, shared: false },
    });
  });

  it('marks fields that changed between the same two observations as sharing the window', () => {
    const first = observeRecord(null, vendor(T1, { city: 'Delft', phone: '1', email: 'a@x.test' }));
    const both = observeRecord(first, vendor(T3, { city: 'Leiden', phone: '2', email: 'a@x.test' }));
    // Two fields changed in the window: one of them changed at its end.
    expect(both.fields.city).toEqual({ value: 'Leiden', at: T3, since: T1, shared: true, among: 2 });
    expect(both.fields.phone).toEqual({ value: '2', at: T3, since: T1, shared: true, among: 2 });
    expect(both.fields.email).toEqual({ value: 'a@x.test', at: T1, since: null, shared: false });
  });

  it('takes the provider’s own field times as exact', () => {
    const first = observeRecord(null, vendor(T1, { city: 'Delft' }));
    const next = observeRecord(first, vendor(T3, { city: 'Leiden' }, { fieldModifiedAt: { city: T2 } }));
    expect(next.fields.city).toEqual({ value: 'Leiden', at: T2, since: T2, shared: false });
  });

  it('takes fields tandem just wrote as changed at the write, apart from the others', () => {
    const first = observeRecord(null, vendor(T1, { city: 'Delft', phone: '1', email: 'a@x.test' }));
    // The user edited the phone after T1; tandem's write of the city at T3 returns both.
    const written = observeRecord(first, vendor(T3, { city: 'Leiden', phone: '2', email: 'a@x.test' }), ['city']);
    expect(written.fields.city).toEqual({ value: 'Leiden', at: T3, since: T3, shared: false });
    // The record's time is the write's: the phone's own time is somewhere before it.
    // The window's end is the write's: the phone changed before it.
    expect(written.fields.phone).toEqual({ value: '2', at: T3, since: T1, shared: true, among: 0 });
    // After the write, a user's edit of the email stands alone: it gets the record's time.
    const later = '2026-03-01T10:12:00.000Z';
    const edited = observeRecord(written, vendor(later, { city: 'Leiden', phone: '2', email: 'b@x.test' }));
    expect(edited.fields.email).toEqual({ value: 'b@x.test', at: later, since: T3, shared: false });
  });

  it('learns nothing from a read older than the newest observation', () => {
    const newest = observeRecord(null, vendor(T2, { city: 'Leiden' }));
    expect(observeRecord(newest, vendor(T1, { city: 'Delft' }))).toBe(newest);
  });

  it('counts a value changed back as a new change', () => {
    let seen: RecordObservation = observeRecord(null, vendor(T1, { city: 'Delft' }));
    seen = observeRecord(seen, vendor(T2, { city: 'Leiden' }));
    seen = observeRecord(seen, vendor(T3, { city: 'Delft' }));
    expect(seen.fields.city).toEqual({ value: 'Delft', at: T3, since: T2, shared: false });
  });
});

describe('carryValues', () => {
  it('keeps a value tandem carried at its origin’s time, over the write’s and the provider’s own time', () => {
    const seen = observeRecord(null, vendor(T1, { city: 'Delft', phone: '1' }));
    // The city edited elsewhere at T2 is carried here; the write itself happens at T3.
    const carried = carryValues(seen, { city: 'Leiden' }, { city: T2 });
    const afterWrite = observeRecord(
      carried,
      vendor(T3, { city: 'Leiden', phone: '1' }, { fieldModifiedAt: { city: T3 } }),
      ['city'],
    );
    expect(afterWrite.fields.city).toMatchObject({ value: 'Leiden', at: T2, carried: true });
    // Edited here afterwards, it is an edit like any other.
    const later = '2026-03-01T10:12:00.000Z';
    const edited = observeRecord(afterWrite, vendor(later, { city: 'Gouda', phone: '1' }));
    expect(edited.fields.city).toEqual({ value: 'Gouda', at: later, since: T3, shared: false });
  });
});

describe('a carried value noted but never written', () => {
  it('leaves the field as it was observed, and a value changed back after the write is a new change', () => {
    const first = observeRecord(null, vendor(T1, { city: 'Delft', phone: '1' }));
    const noted = carryValues(first, { city: 'Leiden' }, { city: T2 });
    // The write was refused; the phone changed meanwhile, which moved the record's time.
    const refused = observeRecord(noted, vendor(T3, { city: 'Delft', phone: '2' }));
    expect(refused.fields.city).toEqual({ value: 'Delft', at: T1, since: null, shared: false });

    const landed = observeRecord(noted, vendor(T2, { city: 'Leiden', phone: '1' }), ['city']);
    const reverted = observeRecord(landed, vendor(T3, { city: 'Delft', phone: '1' }));
    expect(reverted.fields.city).toEqual({ value: 'Delft', at: T3, since: T2, shared: false });
  });
});

describe('an edit overwritten by a write of tandem’s', () => {
  // The plan read Delft here and carried Leiden (edited elsewhere at T2); a user's Gouda landed
  // at `between`, after the plan's read and before the write at T3, which replaced it.
  const between = '2026-03-01T10:07:00.000Z';
  const afterWrite = (previous: { value: string; at: string }) =>
    vendor(T3, { city: 'Leiden' }, { fieldModifiedAt: { city: T3 }, fieldPrevious: { city: previous } });
  const carried = () =>
    carryValues(
      observeRecord(null, vendor(T1, { city: 'Delft' })),
      { city: 'Leiden' },
      { city: T2 },
      { city: 'Delft' },
    );

  it('is told by the history: neither the value meant to be replaced nor tandem’s, and newer than its origin', () => {
    const seen = observeRecord(carried(), afterWrite({ value: 'Gouda', at: between }));
    expect(seen.fields.city).toMatchObject({
      value: 'Leiden',
      at: T2,
      carried: true,
      overwritten: { value: 'Gouda', at: between },
    });
    const record = withObservedTimes(afterWrite({ value: 'Gouda', at: between }), seen);
    expect(record.fieldOverwritten).toEqual({ city: { value: 'Gouda', at: between } });
  });

  it('is not seen where the write replaced what the plan read, an older value, or where nothing was compared', () => {
    expect(
      observeRecord(carried(), afterWrite({ value: 'Delft', at: between })).fields.city?.overwritten,
    ).toBeUndefined();
    expect(observeRecord(carried(), afterWrite({ value: 'Gouda', at: T1 })).fields.city?.overwritten).toBeUndefined();
    const withoutCompare = carryValues(
      observeRecord(null, vendor(T1, { city: 'Delft' })),
      { city: 'Leiden' },
      { city: T2 },
    );
    expect(
      observeRecord(withoutCompare, afterWrite({ value: 'Gouda', at: between })).fields.city?.overwritten,
    ).toBeUndefined();
  });

  it('is dropped once the history no longer shows it', () => {
    const seen = observeRecord(carried(), afterWrite({ value: 'Gouda', at: between }));
    const again = observeRecord(seen, vendor(T3, { city: 'Leiden' }, { fieldModifiedAt: { city: T3 } }));
    expect(again.fields.city?.overwritten).toBeUndefined();
  });
});

describe('withObservedTimes', () => {
  it('sets each field’s time and window where the observation holds the record’s value', () => {
    const seen = observeRecord(
      observeRecord(null, vendor(T1, { city: 'Delft', phone: '1' })),
      vendor(T2, { city: 'Leiden', phone: '1' }),
    );
    const read = vendor(T3, { city: 'Leiden', phone: '3' });
    const timed = withObservedTimes(read, seen);
    expect(timed.fieldModifiedAt).toEqual({ city: T2 });
    expect(timed.fieldWindow).toEqual({ city: { since: T1, shared: false } });
    // The record itself is left as read.
    expect(read.fieldModifiedAt).toBeUndefined();
    expect(timed.modifiedAt).toBe(T3);
  });
});
