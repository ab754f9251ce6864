/**
 * Polling for changed Accounts and Contacts: SOQL on SystemModstamp (which moves on every change,
 * system ones included), oldest first with Id as the tie-break, paged through nextRecordsUrl;
 * then getDeleted for the ids deleted since the last poll.
 * https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_getdeleted.htm
 */
import { z } from 'zod';
import type { Contact } from '../../src/core/model';
import { parseJsonCursor } from '../kit/parse';
import type { ChangedPage } from '../kit/types';
import type { SalesforceSession } from './client';
import { type SObjectType, SOBJECT_TYPES, toContactId } from './fields';
import { isoTime } from './mappers';
import { soqlDateTime } from './soql';

/** getDeleted answers for the last 15 days at most (less where the Recycle Bin was emptied). */
const DELETED_REACH_MS = 15 * 86_400_000;
/** getDeleted works to the minute: deletions are asked for at most once a minute. */
const DELETED_EVERY_MS = 60_000;

const markSchema = z.object({
  /** The latest SystemModstamp fully processed (ISO 8601), or null for "from the beginning". */
  since: z.string().nullable(),
  /** Ids already returned whose SystemModstamp equals `since`. */
  seen: z.array(z.string()),
});
type Mark = z.infer<typeof markSchema>;

const cursorSchema = z.object({
  v: z.literal(1),
  Account: markSchema,
  Contact: markSchema,
  /** Deletions are known up to this time (getDeleted's latestDateCovered); null before the first poll. */
  deletedUntil: z.string().nullable(),
  /** Ids reported deleted at or after `deletedUntil`, which the next getDeleted lists again. */
  deletedSeen: z.array(z.string()).default([]),
});
type ChangeCursor = z.infer<typeof cursorSchema>;

/** Reads a cursor pollChanges wrote (JSON); null means from the beginning. */
export function decodeCursor(cursor: string | null, name = 'salesforce'): ChangeCursor {
  const start: Mark = { since: null, seen: [] };
  return (
    parseJsonCursor(cursorSchema, cursor, `${name}: the change cursor`) ?? {
      v: 1,
      Account: start,
      Contact: start,
      deletedUntil: null,
      deletedSeen: [],
    }
  );
}

/**
 * Pages of Accounts, then Contacts, modified at or after the cursor (Accounts first, so a
 * person's company is known before the person), then the deletions since the last poll. Each
 * page carries the cursor valid after it.
 */
export async function* pollChanges(session: SalesforceSession, cursor: string | null): AsyncGenerator<ChangedPage> {
  const state = decodeCursor(cursor, session.name);
  // Once per poll without a known allocation: read it, so that the first calls respect it too.
  if (session.allocation.usage === undefined) await session.api.limits();
  const startedAt = session.now();
  let lastCursor = cursor;
  for (const sObjectType of SOBJECT_TYPES) {
    for await (const { contacts, mark } of pollType(session, sObjectType, state[sObjectType])) {
      state[sObjectType] = mark;
      const next = JSON.stringify(state);
      if (contacts.length === 0 && next === lastCursor) continue;
      lastCursor = next;
      yield { records: contacts, cursor: next };
    }
  }
  // A first poll lists what exists; deletions count from then on.
  if (state.deletedUntil === null) {
    state.deletedUntil = new Date(startedAt).toISOString();
    yield { records: [], cursor: JSON.stringify(state) };
    return;
  }
  if (startedAt - Date.parse(state.deletedUntil) < DELETED_EVERY_MS) return;
  const start = replicationTime(Math.max(Date.parse(state.deletedUntil), startedAt - DELETED_REACH_MS));
  const end = replicationTime(startedAt);
  const found: { id: string; at: string }[] = [];
  let covered = new Date(startedAt).toISOString();
  for (const sObjectType of SOBJECT_TYPES) {
    const answer = await session.api.deleted(sObjectType, start, end);
    found.push(
      ...answer.deletedRecords.map((record) => ({
        id: toContactId(sObjectType, record.id),
        at: isoTime(record.deletedDate),
      })),
    );
    const until = isoTime(answer.latestDateCovered);
    if (until < covered) covered = until;
  }
  const deleted = found.filter((record) => !state.deletedSeen.includes(record.id)).map((record) => record.id);
  // Never back: a minute's rounding may cover less than the last poll's answer said. What lies
  // past the covered time is asked for again next time: remember it, so it is reported once.
  if (covered > state.deletedUntil) state.deletedUntil = covered;
  const until = state.deletedUntil;
  state.deletedSeen = found.filter((record) => record.at >= until).map((record) => record.id);
  yield { records: [], deleted, cursor: JSON.stringify(state) };
}

/** getDeleted's start and end as its reference writes them, YYYY-MM-DDThh:mm:ss+00:00 (it ignores the seconds anyway). */
function replicationTime(millis: number): string {
  return `${new Date(millis).toISOString().slice(0, 19)}+00:00`;
}

type TypePage = { contacts: Contact[]; mark: Mark };

/**
 * The records of one type modified at or after the mark's second (SOQL's dateTime literals have
 * whole seconds), without those already returned: older than the mark, or at it and seen.
 */
async function* pollType(session: SalesforceSession, sObjectType: SObjectType, start: Mark): AsyncGenerator<TypePage> {
  const since = start.since === null ? null : Date.parse(start.since);
  const where = since === null ? '' : `WHERE SystemModstamp >= ${soqlDateTime(since)} `;
  let mark = start;
  for await (const page of session.api.find(sObjectType, `${where}ORDER BY SystemModstamp, Id`)) {
    const contacts = page.filter((contact) => !alreadyReturned(start, contact));
    for (const contact of contacts) mark = advance(mark, contact);
    yield { contacts, mark };
  }
}

/** True when the previous poll returned the record as it is now. */
function alreadyReturned(mark: Mark, contact: Contact): boolean {
  if (mark.since === null) return false;
  const [modified, since] = [Date.parse(contact.modifiedAt), Date.parse(mark.since)];
  return modified < since || (modified === since && mark.seen.includes(contact.id));
}

/** Moves the mark to a contact returned in ascending SystemModstamp order. */
function advance(mark: Mark, contact: Contact): Mark {
  const modified = Date.parse(contact.modifiedAt);
  const since = mark.since === null ? null : Date.parse(mark.since);
  if (since === null || modified > since) return { since: contact.modifiedAt, seen: [contact.id] };
  if (modified === since && !mark.seen.includes(contact.id))
    return { since: mark.since, seen: [...mark.seen, contact.id] };
  return mark;
}
