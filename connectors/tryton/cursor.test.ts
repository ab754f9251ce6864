import type { Account } from '../../src/core/model';
import { InvalidRequestError } from '../kit/errors';
import type { ChangedPage } from '../kit/types';
import { changedPages } from './cursor';

const account = (id: string, version: string): Account => ({
  entity: 'customer',
  id,
  number: null,
  fields: {},
  modifiedAt: version,
  version,
});

async function poll(cursor: string | null, found: Account[], pageSize = 2) {
  const asked: (string | null)[] = [];
  const pages: ChangedPage[] = [];
  for await (const page of changedPages(cursor, pageSize, (since) => {
    asked.push(since);
    return Promise.resolve(found);
  }))
    pages.push(page);
  return { asked, pages, cursor: pages.at(-1)?.cursor ?? null };
}

it('pages the records oldest version first, ids breaking ties, with the cursor after each page', async () => {
  const found = [
    account('3', '2024-05-02T10:00:00.000002Z'),
    account('2', '2024-05-02T10:00:00.000001Z'),
    account('1', '2024-05-02T10:00:00.000002Z'),
  ];
  const { asked, pages } = await poll(null, found);
  expect(asked).toEqual([null]);
  expect(pages.map((page) => page.records.map((record) => record.id))).toEqual([['2', '1'], ['3']]);
  expect(JSON.parse(pages[0]!.cursor)).toEqual({
    latest: '2024-05-02T10:00:00.000002Z',
    seen: { '1': '2024-05-02T10:00:00.000002Z', '2': '2024-05-02T10:00:00.000001Z' },
  });
});

it('looks again from 30 s before the latest version and drops what it saw in that version', async () => {
  const first = await poll(null, [account('1', '2024-05-02T10:00:30.000005Z')]);
  const changed = account('2', '2024-05-02T10:00:10.000000Z');
  const again = await poll(first.cursor, [account('1', '2024-05-02T10:00:30.000005Z'), changed]);
  expect(again.asked).toEqual(['2024-05-02T10:00:00.000005Z']);
  expect(again.pages.map((page) => page.records)).toEqual([[changed]]);
});

it('answers a poll that finds nothing with one empty page whose cursor forgets what left the window', async () => {
  const before = JSON.stringify({
    latest: '2024-05-02T10:01:00.000000Z',
    seen: { '1': '2024-05-02T10:00:00.000000Z', '2': '2024-05-02T10:00:45.000000Z' },
  });
  const { pages } = await poll(before, []);
  expect(pages).toHaveLength(1);
  expect(pages[0]!.records).toEqual([]);
  expect(JSON.parse(pages[0]!.cursor)).toEqual({
    latest: '2024-05-02T10:01:00.000000Z',
    seen: { '2': '2024-05-02T10:00:45.000000Z' },
  });
});

it('refuses a cursor it did not write', async () => {
  await expect(poll('2024-05-02', [])).rejects.toBeInstanceOf(InvalidRequestError);
});
