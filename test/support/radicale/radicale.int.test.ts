/**
 * The Radicale helper: a real Radicale on a loopback port with an empty address book that answers
 * CardDAV (RFC 6352) and sync-collection (RFC 6578), refuses a wrong password, and is gone after stop().
 */
import { existsSync } from 'node:fs';
import { startRadicale, type RadicaleInstance } from './radicale';

jest.setTimeout(60_000);

let radicale: RadicaleInstance;
beforeAll(async () => {
  radicale = await startRadicale();
});
afterAll(async () => {
  await radicale.stop();
});

const PROPFIND = `<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:sync-token/></D:prop></D:propfind>`;

it('serves an empty address book with a sync token', async () => {
  const answer = await fetch(radicale.addressBookUrl, {
    method: 'PROPFIND',
    headers: { authorization: radicale.authorization, depth: '1', 'content-type': 'application/xml' },
    body: PROPFIND,
  });
  expect(answer.status).toBe(207);
  const body = await answer.text();
  expect(body).toMatch(/addressbook/);
  expect(body).toMatch(/sync-token>[^<]+</);
  // Depth 1 lists the collection itself and nothing else.
  expect(body.match(/<[A-Za-z0-9]*:?response>/g)).toHaveLength(1);
});

it('refuses a wrong password', async () => {
  const wrong = `Basic ${Buffer.from(`${radicale.username}:nope`).toString('base64')}`;
  const answer = await fetch(radicale.addressBookUrl, {
    method: 'PROPFIND',
    headers: { authorization: wrong, depth: '0' },
  });
  expect(answer.status).toBe(401);
});

it('is gone after stop, with its folder', async () => {
  const other = await startRadicale();
  expect(existsSync(other.dir)).toBe(true);
  await other.stop();
  await expect(fetch(other.url)).rejects.toThrow();
  expect(existsSync(other.dir)).toBe(false);
});
