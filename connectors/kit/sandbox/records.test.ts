import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { type RecordChange, RecordStore } from './records';

type Fields = { name: string };
const fields = z.object({ name: z.string() });

describe('RecordStore', () => {
  it('numbers ids per collection, lists in creation order and tells the listener every change', () => {
    const changes: RecordChange<'people' | 'places', Fields>[] = [];
    const store = new RecordStore({
      collections: ['people', 'places'],
      firstIds: { people: 100, places: 500 },
      fields,
      onChange: (change) => changes.push(change),
    });
    expect(store.isEmpty()).toBe(true);
    const ann = store.create('people', { name: 'Ann' }, 'user');
    const bob = store.create('people', { name: 'Bob' }, 'api');
    const home = store.create('places', { name: 'Home' }, 'api');
    expect([ann.id, bob.id, home.id]).toEqual(['100', '101', '500']);
    expect(store.update('people', ann, { name: 'Anne' }, 'api').fields).toEqual({ name: 'Anne' });
    expect(store.list('people').map((record) => record.fields.name)).toEqual(['Anne', 'Bob']);
    expect(store.delete('people', bob.id, 'user')?.fields.name).toBe('Bob');
    expect(store.delete('people', bob.id, 'user')).toBeUndefined();
    expect(store.get('people', bob.id)).toBeUndefined();
    expect(changes.map(({ collection, kind, by, record }) => [collection, kind, by, record.id])).toEqual([
      ['people', 'created', 'user', '100'],
      ['people', 'created', 'api', '101'],
      ['places', 'created', 'api', '500'],
      ['people', 'updated', 'api', '100'],
      ['people', 'deleted', 'user', '101'],
    ]);
    expect(changes[3]?.before).toEqual({ name: 'Ann' });
  });

  it('gives random UUIDs without a sequence, distinct times when asked, and lists what changed since a time', () => {
    const store = new RecordStore({ collections: ['things'], fields, distinctTimes: true });
    const made = Array.from({ length: 5 }, (_, index) => store.create('things', { name: String(index) }, 'api'));
    expect(made[0]?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect(new Set(made.map((record) => record.updatedAt)).size).toBe(5);
    const [first, second] = made;
    if (first === undefined || second === undefined) throw new Error('five were made');
    store.update('things', first, { name: 'again' }, 'user');
    const since = store.changedSince('things', second.updatedAt).map((record) => record.fields.name);
    expect(since).toEqual(['1', '2', '3', '4', 'again']);
    expect(store.changedSince('things')).toHaveLength(5);
    expect(store.changedSince('things', Number.NaN)).toHaveLength(5);
  });

  it("makes fields from the change's time when given a function", () => {
    const stamped = z.object({ name: z.string(), at: z.number() });
    const store = new RecordStore({ collections: ['things'], fields: stamped, distinctTimes: true });
    const created = store.create('things', (at) => ({ name: 'a', at }), 'api');
    expect(created.fields.at).toBe(created.createdAt);
    const updated = store.update('things', created, (at) => ({ name: 'b', at }), 'api');
    expect(updated.fields).toEqual({ name: 'b', at: updated.updatedAt });
    expect(updated.updatedAt).toBeGreaterThan(updated.createdAt);
  });

  it('never moves times backwards, and keeps everything in its file across restarts', () => {
    const directory = mkdtempSync(join(tmpdir(), 'sandbox-records-'));
    try {
      const file = join(directory, 'records.json');
      const first = new RecordStore({ collections: ['people'], firstIds: { people: 1 }, fields, file });
      const made = Array.from({ length: 50 }, () => first.create('people', { name: 'x' }, 'api'));
      const times = made.map((record) => record.updatedAt);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      const second = new RecordStore({ collections: ['people'], firstIds: { people: 1 }, fields, file });
      expect(second.list('people')).toEqual(first.list('people'));
      expect(second.create('people', { name: 'next' }, 'api').id).toBe('51');
      expect(second.list('people').at(-1)?.createdAt).toBeGreaterThanOrEqual(times.at(-1) ?? 0);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('takes ids the sandbox gives, keeps named counters, and upgrades a file of an older shape', () => {
    const directory = mkdtempSync(join(tmpdir(), 'sandbox-records-'));
    try {
      const file = join(directory, 'records.json');
      const options = { collections: ['people'] as const, firstIds: { people: 1 }, fields, file };
      const first = new RecordStore(options);
      expect(first.create('people', { name: 'Ann' }, 'user', 'ann').id).toBe('ann');
      expect(first.create('people', { name: 'Bob' }, 'user').id).toBe('1');
      expect([first.count('series'), first.count('series'), first.count('other')]).toEqual([1, 2, 1]);
      first.create('people', { name: 'Cy' }, 'api');
      expect(new RecordStore(options).count('series')).toBe(3);
      // An older file: one list of names, upgraded to the store's shape as it is read.
      writeFileSync(file, JSON.stringify({ names: ['Dee'] }));
      const upgraded = new RecordStore({
        ...options,
        upgrade: (saved) => {
          const { names } = z.object({ names: z.array(z.string()) }).parse(saved);
          const people = names.map((name) => ({
            id: name.toLowerCase(),
            createdAt: 5,
            updatedAt: 5,
            fields: { name },
          }));
          return { lastTime: 5, nextIds: {}, collections: { people } };
        },
      });
      expect(upgraded.list('people')).toEqual([{ id: 'dee', createdAt: 5, updatedAt: 5, fields: { name: 'Dee' } }]);
      expect(upgraded.count('series')).toBe(1);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
