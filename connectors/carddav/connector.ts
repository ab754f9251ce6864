/**
 * The CardDAV connector (CRM side): the cards of one address book (RFC 6352) as canonical
 * contacts. A contact's id is its card's resource name in the address book (`<name>.vcf`, the last
 * segment of its href, decoded): the one key GET, PUT and DELETE take without a search, and stable
 * for a card's life, where a UID needs an addressbook-query to find. Changes are polled with
 * sync-collection (RFC 6578), or by comparing ETags of a PROPFIND listing where the server has no
 * sync token; writes are conditional on the ETag.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Contact, FieldValue } from '../../src/core/model';
import { defineConnector, type ConnectorSettings, type ConnectTools } from '../kit/define';
import { NotFoundError, PreconditionFailedError, orNullIfNotFound } from '../kit/errors';
import { parseJsonCursor } from '../kit/parse';
import type { ChangedPage } from '../kit/types';
import { carddavConfig } from './config';
import { applyFields, CARD_FIELDS, companyLinks, isCompanyCard, newCard, toContact } from './mappers';
import { parseVCard, serializeVCard } from './vcard';
import { AddressBookClient, SyncTokenInvalidError, type CardRef, type CardResource } from './webdav';

/** What the handlers share. */
interface CardDavSession {
  book: AddressBookClient;
  now: () => number;
}

/** A card's resource name: one path segment, no slash. */
const CARD_ID = /^[^/]{1,255}$/;

/** How many cards one addressbook-multiget asks for. */
const MULTIGET_BATCH = 50;

/**
 * The poll cursor: the sync token, or (servers without one) each card's ETag. The ETag map
 * grows with the address book; the small books this serves keep it to kilobytes.
 */
const cursorSchema = z.union([
  z.object({ syncToken: z.string().min(1) }).strict(),
  z.object({ etags: z.record(z.string(), z.string()) }).strict(),
]);

function connect(settings: ConnectorSettings<typeof carddavConfig>, tools: ConnectTools): CardDavSession {
  const { username, password } = settings.credentials;
  const authorization = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
  const http = tools.http({ baseURL: settings.baseUrl, auth: { header: () => Promise.resolve(authorization) } });
  return { book: new AddressBookClient(http, settings.baseUrl), now: tools.context.now ?? Date.now };
}

/** The id of a card from its href (its last segment, decoded). */
function idOf(book: AddressBookClient, href: string): string {
  const path = decodeURIComponent(new URL(href, 'http://x').pathname);
  return path.slice(decodeURIComponent(book.path).length);
}

/** Company ids found by UID or organisation name, for the length of one read. */
type CompanyCache = Map<string, Promise<string | null>>;

/** The first company card whose `property` equals `value`, as its id. */
function companyBy(
  book: AddressBookClient,
  cache: CompanyCache,
  property: 'UID' | 'FN',
  value: string,
): Promise<string | null> {
  const key = `${property}:${value.toLowerCase()}`;
  let found = cache.get(key);
  if (found === undefined) {
    found = book.queryEquals(property, value).then((cards) => {
      const company = cards.find((resource) => isCompanyCard(parseVCard(resource.vcard)));
      return company === undefined ? null : idOf(book, company.href);
    });
    cache.set(key, found);
  }
  return found;
}

/**
 * A card as a contact; a person's company is the company card a RELATED value names by UID, else
 * the company card whose FN is the person's ORG (an addressbook-query each, remembered in `cache`).
 */
async function contactOf(
  book: AddressBookClient,
  resource: CardResource,
  cache: CompanyCache = new Map(),
): Promise<Contact> {
  const card = parseVCard(resource.vcard);
  const contact = toContact(idOf(book, resource.href), resource.etag, card, null);
  if (contact.type === 'person') {
    const { uids, org } = companyLinks(card);
    for (const uid of uids) {
      contact.companyId ??= await companyBy(book, cache, 'UID', uid);
    }
    if (org !== null) contact.companyId ??= await companyBy(book, cache, 'FN', org);
  }
  return contact;
}

async function read(book: AddressBookClient, refs: readonly CardRef[]): Promise<Contact[]> {
  const contacts: Contact[] = [];
  const cache: CompanyCache = new Map();
  for (let i = 0; i < refs.length; i += MULTIGET_BATCH) {
    const resources = await book.multiget(refs.slice(i, i + MULTIGET_BATCH).map((ref) => ref.href));
    for (const resource of resources) contacts.push(await contactOf(book, resource, cache));
  }
  return contacts;
}

async function* listChanged({ book }: CardDavSession, cursor: string | null): AsyncIterable<ChangedPage> {
  const known = parseJsonCursor(cursorSchema, cursor, 'carddav: listChanged');
  if (known === null || 'syncToken' in known) {
    let changes;
    try {
      changes = await book.syncCollection(known?.syncToken ?? null);
    } catch (error) {
      // The token expired on the server: everything is listed again; deletions meanwhile go untold.
      if (!(error instanceof SyncTokenInvalidError)) throw error;
      changes = await book.syncCollection(null);
    }
    const records = await read(book, changes.changed);
    yield {
      records,
      deleted: changes.removed.map((href) => idOf(book, href)),
      cursor: JSON.stringify({ syncToken: changes.syncToken }),
    };
    return;
  }
  const listed = await book.listCards();
  const etags = Object.fromEntries(listed.map((ref) => [ref.href, ref.etag]));
  const changed = listed.filter((ref) => known.etags[ref.href] !== ref.etag);
  const deleted = Object.keys(known.etags)
    .filter((href) => !(href in etags))
    .map((href) => idOf(book, href));
  yield { records: await read(book, changed), deleted, cursor: JSON.stringify({ etags }) };
}

/** The first poll decides: a server with a sync token is polled with sync-collection, else by ETags. */
async function* poll(session: CardDavSession, cursor: string | null): AsyncIterable<ChangedPage> {
  if ((cursor === null || cursor === '') && (await session.book.syncToken()) === null) {
    yield* listChanged(session, JSON.stringify({ etags: {} }));
    return;
  }
  yield* listChanged(session, cursor);
}

async function getCard(book: AddressBookClient, id: string): Promise<CardResource | null> {
  return orNullIfNotFound(book.getCard(book.hrefFor(id)));
}

/** The card after a write: the ETag the PUT told, else read again. */
async function written(book: AddressBookClient, href: string, etag: string | null, vcard: string): Promise<Contact> {
  const resource = etag === null ? await book.getCard(href) : { href, etag, vcard };
  return await contactOf(book, resource);
}

/** A UUID from the idempotency key, so that a retried create names the same card. */
function uidFor(idempotencyKey: string): string {
  const hex = createHash('sha256').update(`tandem-carddav:${idempotencyKey}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const createExtraSchema = z.looseObject({ type: z.enum(['company', 'person']).default('company') });

/** The CardDAV connector, as the registry lists it. */
export const carddav = defineConnector({
  name: 'carddav',
  side: 'crm',
  config: carddavConfig,
  secrets: ['password'],
  connect,
  entities: {
    contact: {
      fields: () => CARD_FIELDS,
      id: { pattern: CARD_ID, means: "a card's resource name in the address book (e.g. 1234.vcf)" },
      get: async ({ book }, id) => {
        const resource = await getCard(book, id);
        return resource && (await contactOf(book, resource));
      },
      batchGet: async ({ book }, ids) =>
        read(
          book,
          ids.map((id) => ({ href: book.hrefFor(id), etag: '' })),
        ),
      listChanged: poll,
      update: async ({ book, now }, { id, fields, ifMatch }) => {
        const current = await getCard(book, id);
        if (current === null) throw new NotFoundError(`carddav: no card ${id}`);
        if (ifMatch !== undefined && ifMatch !== current.etag)
          throw new PreconditionFailedError(`carddav: card ${id} changed since version ${ifMatch}`);
        const vcard = serializeVCard(applyFields(parseVCard(current.vcard), fields, new Date(now())));
        // If-Match: a change between our GET and PUT is refused (412), not overwritten.
        const etag = await book.putCard(current.href, vcard, current.etag);
        return written(book, current.href, etag, vcard);
      },
      create: async ({ book, now }, fields: Record<string, FieldValue>, { idempotencyKey, extra }) => {
        const { type } = createExtraSchema.parse(extra ?? {});
        const uid = uidFor(idempotencyKey);
        const href = book.hrefFor(`${uid}.vcf`);
        const vcard = serializeVCard(newCard(uid, type, fields, new Date(now())));
        try {
          return await written(book, href, await book.putCard(href, vcard, null), vcard);
        } catch (error) {
          // If-None-Match: * refused: a lost answer's create made it; that card is the answer.
          if (!(error instanceof PreconditionFailedError)) throw error;
          return await contactOf(book, await book.getCard(href));
        }
      },
    },
  },
  health: ({ book }) => book.syncToken(),
});
