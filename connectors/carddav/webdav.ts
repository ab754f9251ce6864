/**
 * The WebDAV calls of one CardDAV address book (RFC 6352) over the kit's HTTP client: PROPFIND of
 * the cards' ETags, REPORT sync-collection (RFC 6578) and addressbook-multiget, GET, PUT with
 * If-Match / If-None-Match: * (RFC 7232 via RFC 4918) and DELETE. Hrefs are the server's absolute
 * paths, as its multistatus answers name them; a href on another origin is refused.
 */
import type { AxiosRequestConfig } from 'axios';
import { ConnectorError, InvalidResponseError } from '../kit/errors';
import type { HttpClient } from '../kit/http';
import { CARDDAV, childNamed, childrenNamed, DAV, escapeXml, parseXml, XmlSyntaxError, type XmlElement } from './xml';

/** A card as a listing names it: its href and ETag. */
export interface CardRef {
  href: string;
  etag: string;
}

/** A card with its vCard text. */
export interface CardResource extends CardRef {
  vcard: string;
}

/** What changed since a sync token: cards added or changed, hrefs removed, and the token to ask from next. */
export interface SyncChanges {
  changed: CardRef[];
  removed: string[];
  syncToken: string;
}

/**
 * The server no longer knows the sync token (RFC 6578 section 3.2, DAV:valid-sync-token): the
 * connector lists afresh and compares ETags, so this never leaves it.
 */
export class SyncTokenInvalidError extends Error {
  /** Stable code for callers that branch on the kind of failure. */
  readonly code = 'SYNC_TOKEN_INVALID';

  constructor(message: string) {
    super(message);
    this.name = 'SyncTokenInvalidError';
  }
}

const XML_HEADERS = { 'Content-Type': 'application/xml; charset=utf-8', Accept: 'application/xml, text/xml' };

const PROPFIND_CARDS = `<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:resourcetype/></D:prop></D:propfind>`;

const PROPFIND_SYNC_TOKEN = `<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:sync-token/></D:prop></D:propfind>`;

/** One DAV:response of a multistatus: its href, its own status (a removed member) or its 200 props. */
interface DavResponse {
  href: string;
  status: number | null;
  props: XmlElement[];
}

function statusCode(line: string | undefined): number | null {
  const match = /^HTTP\/\d(?:\.\d)?\s+(\d{3})/.exec((line ?? '').trim());
  return match ? Number(match[1]) : null;
}

/** Reads a multistatus body (RFC 4918 section 14.16). */
export function parseMultistatus(body: string, what: string): { responses: DavResponse[]; syncToken: string | null } {
  let root: XmlElement;
  try {
    root = parseXml(body);
  } catch (error) {
    if (error instanceof XmlSyntaxError) throw new InvalidResponseError(`${what}: ${error.message}`);
    throw error;
  }
  if (root.ns !== DAV || root.local !== 'multistatus') throw new InvalidResponseError(`${what}: no DAV:multistatus`);
  const responses = childrenNamed(root, DAV, 'response').map((response): DavResponse => {
    const href = childNamed(response, DAV, 'href')?.text.trim();
    if (href === undefined || href === '') throw new InvalidResponseError(`${what}: a response without href`);
    const props = childrenNamed(response, DAV, 'propstat')
      .filter((propstat) => statusCode(childNamed(propstat, DAV, 'status')?.text) === 200)
      .flatMap((propstat) => childNamed(propstat, DAV, 'prop')?.children ?? []);
    return { href, status: statusCode(childNamed(response, DAV, 'status')?.text), props };
  });
  const token = childNamed(root, DAV, 'sync-token')?.text.trim();
  return { responses, syncToken: token === undefined || token === '' ? null : token };
}

function prop(response: DavResponse, ns: string, local: string): XmlElement | undefined {
  return response.props.find((element) => element.ns === ns && element.local === local);
}

/** The WebDAV client of one address book. */
export class AddressBookClient {
  private readonly base: URL;

  constructor(
    private readonly http: HttpClient,
    /** The address book collection's URL; a trailing slash is added when missing. */
    addressBookUrl: string,
  ) {
    this.base = new URL(addressBookUrl.endsWith('/') ? addressBookUrl : `${addressBookUrl}/`);
  }

  /** The address book's own path, as hrefs are spelled. */
  get path(): string {
    return this.base.pathname;
  }

  /** The href of a new card named `name` (a file name: the connector picks `<uid>.vcf`). */
  hrefFor(name: string): string {
    return `${this.base.pathname}${encodeURIComponent(name)}`;
  }

  private url(href: string): string {
    const url = new URL(href, this.base);
    if (url.origin !== this.base.origin) throw new InvalidResponseError(`carddav: href ${href} is on another server`);
    return url.toString();
  }

  private async text(config: AxiosRequestConfig, attempts?: number): Promise<{ body: string; etag: string | null }> {
    const response = await this.http.request(
      // The answers are XML or vCard text: axios must not try JSON on them.
      { ...config, responseType: 'text', transformResponse: [(data: unknown) => data] },
      attempts === undefined ? {} : { attempts },
    );
    const etag: unknown = response.headers.etag;
    return {
      body: typeof response.data === 'string' ? response.data : '',
      etag: typeof etag === 'string' ? etag : null,
    };
  }

  private isCard(response: DavResponse): boolean {
    const resourcetype = prop(response, DAV, 'resourcetype');
    // A collection is never a card: iCloud lists the address book itself among sync changes.
    if (response.href.endsWith('/') || decodeURI(response.href) === decodeURI(this.base.pathname)) return false;
    return !(resourcetype?.children.length ?? 0);
  }

  /** Every card of the address book with its ETag (PROPFIND, Depth: 1). */
  async listCards(): Promise<CardRef[]> {
    const { body } = await this.text({
      method: 'PROPFIND',
      url: this.base.toString(),
      headers: { ...XML_HEADERS, Depth: '1' },
      data: PROPFIND_CARDS,
    });
    return parseMultistatus(body, 'carddav: PROPFIND')
      .responses.filter((response) => this.isCard(response))
      .flatMap((response) => {
        const etag = prop(response, DAV, 'getetag')?.text.trim();
        return etag ? [{ href: response.href, etag }] : [];
      });
  }

  /** The collection's current sync token (RFC 6578 section 4), or null where the server has none. */
  async syncToken(): Promise<string | null> {
    const { body } = await this.text({
      method: 'PROPFIND',
      url: this.base.toString(),
      headers: { ...XML_HEADERS, Depth: '0' },
      data: PROPFIND_SYNC_TOKEN,
    });
    const [self] = parseMultistatus(body, 'carddav: PROPFIND sync-token').responses;
    const token = self === undefined ? undefined : prop(self, DAV, 'sync-token')?.text.trim();
    return token === undefined || token === '' ? null : token;
  }

  /**
   * The cards changed and removed since `syncToken` (null: all of them), with the next token
   * (REPORT sync-collection, sync-level 1). A token the server no longer knows is a SyncTokenInvalidError.
   */
  async syncCollection(syncToken: string | null): Promise<SyncChanges> {
    const data = `<?xml version="1.0" encoding="utf-8"?>
<D:sync-collection xmlns:D="DAV:"><D:sync-token>${escapeXml(syncToken ?? '')}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`;
    let body: string;
    try {
      ({ body } = await this.text({ method: 'REPORT', url: this.base.toString(), headers: XML_HEADERS, data }));
    } catch (error) {
      // RFC 6578 section 3.2: 403 or 409 with the DAV:valid-sync-token precondition in the body.
      if (error instanceof ConnectorError && syncToken !== null && /valid-sync-token/.test(error.message))
        throw new SyncTokenInvalidError(`carddav: the server no longer knows sync token ${syncToken}`);
      throw error;
    }
    const { responses, syncToken: next } = parseMultistatus(body, 'carddav: REPORT sync-collection');
    if (next === null) throw new InvalidResponseError('carddav: REPORT sync-collection: no DAV:sync-token');
    const changed: CardRef[] = [];
    const removed: string[] = [];
    for (const response of responses) {
      if (response.status === 404) removed.push(response.href);
      else if (this.isCard(response)) {
        const etag = prop(response, DAV, 'getetag')?.text.trim();
        if (etag) changed.push({ href: response.href, etag });
      }
    }
    return { changed, removed, syncToken: next };
  }

  /** The cards at these hrefs (REPORT addressbook-multiget, RFC 6352 section 8.7); missing ones are left out. */
  async multiget(hrefs: readonly string[]): Promise<CardResource[]> {
    if (hrefs.length === 0) return [];
    const data = `<?xml version="1.0" encoding="utf-8"?>
<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data/></D:prop>${hrefs
      .map((href) => `<D:href>${escapeXml(href)}</D:href>`)
      .join('')}</C:addressbook-multiget>`;
    const { body } = await this.text({
      method: 'REPORT',
      url: this.base.toString(),
      headers: { ...XML_HEADERS, Depth: '1' },
      data,
    });
    return parseMultistatus(body, 'carddav: REPORT addressbook-multiget').responses.flatMap((response) => {
      const etag = prop(response, DAV, 'getetag')?.text.trim();
      const vcard = prop(response, CARDDAV, 'address-data')?.text;
      return etag && vcard !== undefined ? [{ href: response.href, etag, vcard }] : [];
    });
  }

  /**
   * The cards whose property `name` equals `value`, case-insensitively (REPORT addressbook-query,
   * RFC 6352 section 8.6, with the i;unicode-casemap collation of section 8.3).
   */
  async queryEquals(name: string, value: string): Promise<CardResource[]> {
    const data = `<?xml version="1.0" encoding="utf-8"?>
<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data/></D:prop><C:filter><C:prop-filter name="${escapeXml(name)}"><C:text-match collation="i;unicode-casemap" match-type="equals">${escapeXml(value)}</C:text-match></C:prop-filter></C:filter></C:addressbook-query>`;
    const { body } = await this.text({
      method: 'REPORT',
      url: this.base.toString(),
      headers: { ...XML_HEADERS, Depth: '1' },
      data,
    });
    return parseMultistatus(body, 'carddav: REPORT addressbook-query').responses.flatMap((response) => {
      const etag = prop(response, DAV, 'getetag')?.text.trim();
      const vcard = prop(response, CARDDAV, 'address-data')?.text;
      return etag && vcard !== undefined && this.isCard(response) ? [{ href: response.href, etag, vcard }] : [];
    });
  }

  /** One card (GET), or NotFoundError. */
  async getCard(href: string): Promise<CardResource> {
    const { body, etag } = await this.text({ method: 'GET', url: this.url(href), headers: { Accept: 'text/vcard' } });
    if (etag === null) throw new InvalidResponseError(`carddav: GET ${href} answered without an ETag`);
    return { href, etag, vcard: body };
  }

  /**
   * Writes a card (PUT): `ifMatch` an ETag to replace exactly that version (412 otherwise:
   * PreconditionFailedError), or null to create one where none is (If-None-Match: *). Sent once:
   * a PUT that timed out may have been applied, and the queue decides on a retry. Returns the new
   * ETag, or null where the server did not tell it (RFC 6352 section 6.3.2.3 allows that).
   */
  async putCard(href: string, vcard: string, ifMatch: string | null): Promise<string | null> {
    const condition: Record<string, string> = ifMatch === null ? { 'If-None-Match': '*' } : { 'If-Match': ifMatch };
    const { etag } = await this.text(
      {
        method: 'PUT',
        url: this.url(href),
        headers: { 'Content-Type': 'text/vcard; charset=utf-8', Accept: '*/*', ...condition },
        data: vcard,
      },
      1,
    );
    return etag;
  }

  /** Deletes a card, only while it has ETag `ifMatch` when one is given. */
  async deleteCard(href: string, ifMatch?: string): Promise<void> {
    await this.text({
      method: 'DELETE',
      url: this.url(href),
      headers: { Accept: '*/*', ...(ifMatch === undefined ? {} : { 'If-Match': ifMatch }) },
    });
  }
}
