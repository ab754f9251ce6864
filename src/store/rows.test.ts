import { InvalidStoredRowError } from './errors';
import type { FieldObservation } from '../core/observe';
import { storedObservationFields, toRecordObservation, toShadowEntry } from './rows';

const at = '2026-11-30T10:00:00.000Z';

describe('toShadowEntry', () => {
  it('reads a row with the timestamps either driver gives', () => {
    const row = { relation_id: 'r1', side: 'account', field: 'phone', value: null, synced_at: at };
    expect(toShadowEntry({ ...row, source_modified_at: new Date(at) })).toEqual({
      relationId: 'r1',
      side: 'account',
      field: 'phone',
      value: null,
      sourceModifiedAt: at,
      syncedAt: at,
    });
    // As json_agg answers them: text with the server's offset.
    expect(toShadowEntry({ ...row, source_modified_at: '2026-11-30T11:00:00+01:00' }).sourceModifiedAt).toBe(at);
  });

  it.each([
    ['an unknown side', { side: 'both' }, 'side'],
    ['a value that is not text', { value: 42 }, 'value'],
    ['a time that is none', { source_modified_at: 'yesterday' }, 'source_modified_at'],
    ['a missing relation', { relation_id: undefined }, 'relation_id'],
  ])('refuses %s, naming the column', (_, change, column) => {
    const row = {
      relation_id: 'r1',
      side: 'contact',
      field: 'phone',
      value: '+31',
      source_modified_at: at,
      synced_at: at,
    };
    const read = () => toShadowEntry({ ...row, ...change });
    expect(read).toThrow(InvalidStoredRowError);
    expect(read).toThrow(column);
  });
});

describe('toRecordObservation', () => {
  const phone = { value: '+31 1', at, since: null, shared: false };

  it('reads the fields as stored, carried ones included', () => {
    const carried = { ...phone, carried: true, replaced: '+31 0', before: phone, overwritten: { value: null, at } };
    expect(toRecordObservation({ modified_at: at, fields: { phone, city: carried } })).toEqual({
      modifiedAt: at,
      fields: { phone, city: carried },
    });
  });

  it.each([
    ['a field without its time', { phone: { value: '+31 1', since: null, shared: false } }, 'fields.phone.at'],
    ['a window flag that is not a flag', { phone: { ...phone, shared: 'no' } }, 'fields.phone.shared'],
    ['an earlier value without its time', { phone: { ...phone, before: { value: 'x' } } }, 'fields.phone.before'],
  ])('refuses %s, naming it', (_, fields, path) => {
    const read = () => toRecordObservation({ modified_at: at, fields });
    expect(read).toThrow(InvalidStoredRowError);
    expect(read).toThrow(path);
  });

  it('keeps only the keys it knows, as the schema does', () => {
    const observation = toRecordObservation({ modified_at: at, fields: { phone: { ...phone, extra: 1 } } });
    expect(observation.fields['phone']).toEqual(phone);
  });
});

describe('storedObservationFields', () => {
  const later = '2026-11-30T10:05:00.000Z';
  const fields: Record<string, FieldObservation> = {
    exact: { value: 'a', at, since: at, shared: false },
    unknown: { value: null, at, since: null, shared: false },
    window: { value: 'b', at: later, since: at, shared: true },
    carried: {
      value: 'c',
      at,
      since: at,
      shared: false,
      carried: true,
      replaced: null,
      before: { value: 'd', at: later, since: null, shared: true },
      overwritten: { value: 'e', at: later },
    },
  };

  it('keeps how many fields shared a window', () => {
    const shared = { value: 'b', at: later, since: at, shared: true, among: 3 };
    const read = toRecordObservation({ modified_at: later, fields: JSON.parse(storedObservationFields({ shared })) });
    expect(read.fields['shared']).toEqual(shared);
  });

  it('stores less and reads back exactly what it stored', () => {
    const stored = storedObservationFields(fields);
    expect(stored.length).toBeLessThan(JSON.stringify(fields).length * 0.8);
    const read = toRecordObservation({ modified_at: later, fields: JSON.parse(stored) as unknown });
    expect(read).toEqual({ modifiedAt: later, fields });
  });

  it('leaves out only what is implied', () => {
    const stored = JSON.parse(storedObservationFields(fields)) as Record<string, Record<string, unknown>>;
    expect(stored['exact']).toEqual({ value: 'a', at });
    expect(stored['unknown']).toEqual({ value: null, at, since: null });
    expect(stored['window']).toEqual({ value: 'b', at: later, since: at, shared: true });
  });

  it('reads observations stored whole, as before', () => {
    expect(toRecordObservation({ modified_at: at, fields }).fields).toEqual(fields);
  });
});
