/** The WebDAV client against a real Radicale: sync tokens, ETag listing, conditional writes, delete. */
import { HttpClient } from '../kit/http';
import { NotFoundError, PreconditionFailedError } from '../kit/errors';
import { startRadicale, type RadicaleInstance } from '../../test/support/radicale/radicale';
import { AddressBookClient, SyncTokenInvalidError } from './webdav';

jest.setTimeout(60_000);

let radicale: RadicaleInstance;
let book: AddressBookClient;
beforeAll(async () => {
  radicale = await startRadicale();
  const http = new HttpClient({
    connector: 'carddav',
    baseURL: radicale.addressBookUrl,
    auth: { header: () => Promise.resolve(radicale.authorization) },
    retry: { baseDelayMs: 1, attempts: 2 },
  });
  book = new AddressBookClient(http, radicale.addressBookUrl);
});
afterAll(async () => {
  await radicale.stop();
});

const card = (uid: string, name: string) =>
  `BEGIN:VCARD\r\nVERSION:4.0\r\nUID:${uid}\r\nFN:${name}\r\nX-KEEP:yes\r\nEND:VCARD\r\n`;

it('creates cards only where none is, and lists them with their ETags', async () => {
  const href = book.hrefFor('a.vcf');
  const etag = await book.putCard(href, card('a', 'Alpha'), null);
  expect(etag).toMatch(/^".+"$/);
  await expect(book.putCard(href, card('a', 'Again'), null)).rejects.toThrow(PreconditionFailedError);
  expect(await book.listCards()).toEqual([{ href, etag }]);
  const got = await book.getCard(href);
  expect(got).toMatchObject({ href, etag });
  expect(got.vcard).toContain('FN:Alpha');
});

it('tells changes and removals after a sync token, and nothing when nothing changed', async () => {
  const first = await book.syncCollection(null);
  expect(first.changed.map((ref) => ref.href)).toContain(book.hrefFor('a.vcf'));
  expect(await book.syncToken()).toBe(first.syncToken);
  const unchanged = await book.syncCollection(first.syncToken);
  expect(unchanged).toEqual({ changed: [], removed: [], syncToken: first.syncToken });

  const bHref = book.hrefFor('b.vcf');
  const bEtag = await book.putCard(bHref, card('b', 'Beta'), null);
  const afterCreate = await book.syncCollection(first.syncToken);
  expect(afterCreate.changed).toEqual([{ href: bHref, etag: bEtag }]);
  expect(afterCreate.removed).toEqual([]);

  const fetched = await book.multiget([bHref, book.hrefFor('missing.vcf')]);
  expect(fetched.map((resource) => [resource.href, resource.etag])).toEqual([[bHref, bEtag]]);
  expect(fetched[0]?.vcard).toContain('FN:Beta');

  await book.deleteCard(bHref, bEtag ?? undefined);
  const afterDelete = await book.syncCollection(afterCreate.syncToken);
  expect(afterDelete.changed).toEqual([]);
  expect(afterDelete.removed).toEqual([bHref]);
  await expect(book.getCard(bHref)).rejects.toThrow(NotFoundError);
});

it('refuses an update with a stale ETag and keeps the card as it was', async () => {
  const href = book.hrefFor('c.vcf');
  const stale = await book.putCard(href, card('c', 'Gamma'), null);
  const current = await book.putCard(href, card('c', 'Gamma 2'), stale);
  expect(current).not.toBe(stale);
  await expect(book.putCard(href, card('c', 'Lost'), stale)).rejects.toThrow(PreconditionFailedError);
  await expect(book.deleteCard(href, stale ?? undefined)).rejects.toThrow(PreconditionFailedError);
  const got = await book.getCard(href);
  expect(got.vcard).toContain('FN:Gamma 2');
  expect(got.etag).toBe(current);
});

it('names a sync token the server does not know', async () => {
  await expect(book.syncCollection('http://radicale.org/ns/sync/unknown')).rejects.toThrow(SyncTokenInvalidError);
});
