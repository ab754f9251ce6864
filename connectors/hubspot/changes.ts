/**
 * Polling for changed companies and contacts. The search API is sorted on the modified date, so a
 * page's last record is a safe high-water mark; it stops at 10,000 results per query, beyond which
 * the plain list endpoint is scanned instead.
 * https://developers.hubspot.com/docs/api/crm/search#limitations
 */
import { z } from 'zod';
import type { Contact } from '../../src/core/model';
import { parseJsonCursor } from '../kit/parse';
import type { ChangedPage } from '../kit/types';
import { type HubSpotSession, SEARCH_RESULT_CAP, type SearchRequest } from './client';
import { type HubSpotObjectType, MODIFIED_PROPERTY } from './mappers';

/** How far back a list scan's high-water mark stays from our own clock, for clock skew with HubSpot. */
const CLOCK_SKEW_MS = 60_000;

const PAGE_SIZE = 100;

const markSchema = z.object({
  /** The latest modification time fully processed (ISO 8601), or null for "from the beginning". */
  since: z.string().nullable(),
  /** Ids already returned whose modification time equals `since`, so a GTE query can skip them. */
  seen: z.array(z.string()),
});
type Mark = z.infer<typeof markSchema>;

const cursorSchema = z.object({ v: z.literal(1), companies: markSchema, contacts: markSchema });
/** The cursor of listChanged: a high-water mark per HubSpot object type. */
type ChangeCursor = z.infer<typeof cursorSchema>;

const OBJECT_TYPES: readonly HubSpotObjectType[] = ['companies', 'contacts'];

/** Reads a cursor pollChanges wrote (JSON); null means from the beginning. */
export function decodeCursor(cursor: string | null, name = 'hubspot'): ChangeCursor {
  const start: Mark = { since: null, seen: [] };
  return (
    parseJsonCursor(cursorSchema, cursor, `${name}: the change cursor`) ?? { v: 1, companies: start, contacts: start }
  );
}

/**
 * Pages of companies, then contacts, modified at or after the cursor. Companies come first so a
 * person's company is known before the person. Each page carries the cursor valid after it.
 */
export async function* pollChanges(session: HubSpotSession, cursor: string | null): AsyncGenerator<ChangedPage> {
  const state = decodeCursor(cursor, session.name);
  let lastCursor = cursor;
  for (const objectType of OBJECT_TYPES) {
    for await (const { contacts, mark } of pollObjectType(session, objectType, state[objectType])) {
      state[objectType] = mark;
      const next = JSON.stringify(state);
      // Pages that neither carry records nor move the cursor would only make the engine busy.
      if (contacts.length === 0 && next === lastCursor) continue;
      lastCursor = next;
      yield { records: contacts, cursor: next };
    }
  }
}

type TypePage = { contacts: Contact[]; mark: Mark };

async function* pollObjectType(
  session: HubSpotSession,
  objectType: HubSpotObjectType,
  start: Mark,
): AsyncGenerator<TypePage, void> {
  const modifiedProperty = MODIFIED_PROPERTY[objectType];
  const request: SearchRequest = {
    filterGroups:
      start.since === null
        ? []
        : [{ filters: [{ propertyName: modifiedProperty, operator: 'GTE', value: String(Date.parse(start.since)) }] }],
    sorts: [{ propertyName: modifiedProperty, direction: 'ASCENDING' }],
    limit: PAGE_SIZE,
  };
  let mark = start;
  for (let after: string | undefined; ;) {
    const page = await session.api.search(objectType, { ...request, after });
    if (after === undefined && page.total > SEARCH_RESULT_CAP) return yield* scanList(session, objectType, mark);
    const contacts = page.contacts.filter((contact) => !alreadySeen(start, contact));
    for (const contact of contacts) mark = advance(mark, contact);
    yield { contacts, mark };
    if (page.after === undefined) return;
    // The search cannot page further; everything before `mark` is done, the rest is listed.
    if (Number(page.after) >= SEARCH_RESULT_CAP) return yield* scanList(session, objectType, mark);
    after = page.after;
  }
}

/**
 * Scans every record of a type with the list endpoint (ordered by id, not by date) and keeps the
 * ones modified at or after `start`. The mark only moves when the scan is complete, and never past
 * the moment the scan began: a record changed while the scan ran may sit in a page already read.
 */
async function* scanList(
  session: HubSpotSession,
  objectType: HubSpotObjectType,
  start: Mark,
): AsyncGenerator<TypePage, void> {
  const scanStartedAt = (session.now ?? Date.now)() - CLOCK_SKEW_MS;
  const since = start.since === null ? null : Date.parse(start.since);
  const modifiedBefore = (contact: Contact) => since !== null && Date.parse(contact.modifiedAt) < since;
  const kept: Contact[] = [];
  let after: string | undefined;
  do {
    const page = await session.api.list(objectType, after);
    const contacts = page.contacts.filter((contact) => !modifiedBefore(contact) && !alreadySeen(start, contact));
    kept.push(...contacts);
    after = page.after;
    yield { contacts, mark: after === undefined ? finalMark(start, kept, scanStartedAt) : start };
  } while (after !== undefined);
}

/** The mark after a complete scan: the latest modification time kept, but not past the scan's start. */
function finalMark(start: Mark, kept: Contact[], scanStartedAt: number): Mark {
  if (kept.length === 0) return start;
  const latest = kept.reduce((max, contact) => Math.max(max, Date.parse(contact.modifiedAt)), 0);
  const candidate = Math.min(latest, scanStartedAt);
  if (start.since !== null && candidate <= Date.parse(start.since)) return start;
  const seen = kept.filter((contact) => Date.parse(contact.modifiedAt) === candidate).map((contact) => contact.id);
  return { since: new Date(candidate).toISOString(), seen };
}

/** True when the contact was returned by the previous poll at exactly the mark's time. */
function alreadySeen(mark: Mark, contact: Contact): boolean {
  return (
    mark.since !== null && Date.parse(contact.modifiedAt) === Date.parse(mark.since) && mark.seen.includes(contact.id)
  );
}

/** Moves the mark to a contact returned in ascending modification order. */
function advance(mark: Mark, contact: Contact): Mark {
  const modified = Date.parse(contact.modifiedAt);
  const since = mark.since === null ? null : Date.parse(mark.since);
  if (since === null || modified > since) return { since: new Date(modified).toISOString(), seen: [contact.id] };
  if (modified === since && !mark.seen.includes(contact.id))
    return { since: mark.since, seen: [...mark.seen, contact.id] };
  return mark;
}
