/**
 * The CardDAV connector against a real Radicale, for what the contract does not cover: deletions
 * in a poll, an expired sync token, the ETag listing fallback, a write that keeps what another
 * client stored, and a conflicting ETag between read and write.
 */
import { carddav } from './index';
import { carddavConfig } from './config';
import { InvalidRequestError, PreconditionFailedError } from '../kit/errors';
import type { ChangedPage, Connector } from '../kit/types';
import { startRadicale, type RadicaleInstance } from '../../test/support/radicale/radicale';

jest.setTimeout(60_000);

let radicale: RadicaleInstance;
let connector: Connector;
beforeAll(async () => {
  radicale = await startRadicale();
  const settings = {
    ...carddavConfig.parse({ credentials: { username: radicale.username, password: radicale.password } }),
    baseUrl: radicale.addressBookUrl,
  };
  connector = carddav.create(settings, { name: 'crm', retry: { baseDelayMs: 1 } });
});
afterAll(async () => {
  await radicale.stop();
});

/** A request as another CardDAV client makes it. */
async function client(method: string, name: string, body?: string): Promise<Response> {
  const answer = await fetch(`${radicale.addressBookUrl}${name}`, {
    method,
    headers: { authorization: radicale.authorization, 'content-type': 'text/vcard' },
    ...(body === undefined ? {} : { body }),
  });
  if (answer.status >= 300) throw new Error(`${method} ${name} answered ${String(answer.status)}`);
  return answer;
}

async function poll(cursor: string | null): Promise<{ pages: ChangedPage[]; cursor: string | null }> {
  const pages: ChangedPage[] = [];
  for await (const page of connector.listChanged!('contact', cursor)) pages.push(page);
  return { pages, cursor: pages.at(-1)?.cursor ?? cursor };
}

const card = (uid: string, name: string) =>
  `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${name}\r\nN:${name};;;;\r\nTEL;TYPE=WORK:+49 30 1\r\nNOTE:from the phone\r\nX-SOCIALPROFILE;TYPE=twitter:x.com/a\r\nEND:VCARD\r\n`;

it('tells a card another client deleted in the next poll', async () => {
  await client('PUT', 'gone.vcf', card('gone', 'Gone Soon'));
  const first = await poll(null);
  expect(first.pages.flatMap((page) => page.records).map((record) => record.id)).toContain('gone.vcf');
  await client('DELETE', 'gone.vcf');
  const next = await poll(first.cursor);
  expect(next.pages.flatMap((page) => page.deleted ?? [])).toEqual(['gone.vcf']);
  expect(next.pages.flatMap((page) => page.records)).toEqual([]);
  expect(await connector.get('contact', 'gone.vcf')).toBeNull();
});

it('lists everything again after a sync token the server no longer knows', async () => {
  await client('PUT', 'kept.vcf', card('kept', 'Kept Card'));
  const expired = JSON.stringify({ syncToken: 'http://radicale.org/ns/sync/expired' });
  const again = await poll(expired);
  expect(again.pages.flatMap((page) => page.records).map((record) => record.id)).toContain('kept.vcf');
  expect(JSON.parse(again.cursor ?? '{}')).toMatchObject({ syncToken: expect.stringMatching(/^http/) });
});

it('polls by comparing ETags where it has no sync token', async () => {
  const first = await poll(JSON.stringify({ etags: {} }));
  const ids = first.pages.flatMap((page) => page.records).map((record) => record.id);
  expect(ids).toContain('kept.vcf');
  expect((await poll(first.cursor)).pages.flatMap((page) => [...page.records, ...(page.deleted ?? [])])).toEqual([]);
  await client('PUT', 'kept.vcf', card('kept', 'Kept Card Renamed'));
  await client('PUT', 'new.vcf', card('new', 'New Card'));
  const changed = await poll(first.cursor);
  const records = changed.pages.flatMap((page) => page.records);
  expect(records.map((record) => [record.id, record.fields.name]).sort()).toEqual([
    ['kept.vcf', 'Kept Card Renamed'],
    ['new.vcf', 'New Card'],
  ]);
  await client('DELETE', 'new.vcf');
  const removed = await poll(changed.cursor);
  expect(removed.pages.flatMap((page) => page.deleted ?? [])).toEqual(['new.vcf']);
});

it('writes a field and keeps the properties it does not know', async () => {
  await client('PUT', 'phone.vcf', card('phone', 'Phone Card'));
  const updated = await connector.update!('contact', { id: 'phone.vcf', fields: { email: 'a@b.example' } });
  expect(updated.fields).toMatchObject({ email: 'a@b.example', name: 'Phone Card', phone: '+49 30 1' });
  const stored = await (await client('GET', 'phone.vcf')).text();
  expect(stored).toContain('NOTE:from the phone');
  expect(stored).toContain('X-SOCIALPROFILE;TYPE=twitter:x.com/a');
  expect(stored).toContain('EMAIL:a@b.example');
});

it('refuses to write over a change another client made since the version read', async () => {
  await client('PUT', 'race.vcf', card('race', 'Race Card'));
  const read = await connector.get('contact', 'race.vcf');
  await client('PUT', 'race.vcf', card('race', 'Changed Elsewhere'));
  await expect(
    connector.update!('contact', { id: 'race.vcf', fields: { name: 'Ours' }, ifMatch: read!.version! }),
  ).rejects.toThrow(PreconditionFailedError);
  expect((await connector.get('contact', 'race.vcf'))?.fields.name).toBe('Changed Elsewhere');
});

it('refuses a cursor it did not make before any call', async () => {
  await expect(poll('{"page": 3}')).rejects.toThrow(InvalidRequestError);
  await expect(poll('not json')).rejects.toThrow(/carddav: listChanged: unexpected cursor/);
});

it('links a person to the company card its RELATED names by UID, else to the one its ORG names', async () => {
  await client(
    'PUT',
    'acme.vcf',
    'BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:acme-1\r\nKIND:org\r\nFN:Acme Tools\r\nORG:Acme Tools\r\nEND:VCARD\r\n',
  );
  await client(
    'PUT',
    'globex.vcf',
    'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:globex-1\r\nFN:Globex\r\nORG:Globex;\r\nEND:VCARD\r\n',
  );
  await client(
    'PUT',
    'ann.vcf',
    'BEGIN:VCARD\r\nVERSION:4.0\r\nUID:ann\r\nFN:Ann Lee\r\nORG:Globex\r\nRELATED;TYPE=co-worker:urn:uuid:acme-1\r\nEND:VCARD\r\n',
  );
  await client(
    'PUT',
    'bob.vcf',
    'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bob\r\nFN:Bob Ray\r\nN:Ray;Bob;;;\r\nORG:globex\r\nEND:VCARD\r\n',
  );
  await client('PUT', 'cy.vcf', 'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:cy\r\nFN:Cy Dee\r\nORG:Bob Ray\r\nEND:VCARD\r\n');
  const ann = await connector.get('contact', 'ann.vcf');
  expect(ann).toMatchObject({ type: 'person', companyId: 'acme.vcf' });
  expect(await connector.get('contact', 'bob.vcf')).toMatchObject({ type: 'person', companyId: 'globex.vcf' });
  // Bob Ray's card is a person's: an ORG naming it links to nothing.
  expect(await connector.get('contact', 'cy.vcf')).toMatchObject({ type: 'person', companyId: null });
  expect(await connector.get('contact', 'acme.vcf')).toMatchObject({ type: 'company', companyId: null });
  const polled = await poll(JSON.stringify({ etags: {} }));
  const byId = new Map(polled.pages.flatMap((page) => page.records).map((record) => [record.id, record]));
  expect(byId.get('ann.vcf')).toMatchObject({ companyId: 'acme.vcf' });
  expect(byId.get('bob.vcf')).toMatchObject({ companyId: 'globex.vcf' });
});
