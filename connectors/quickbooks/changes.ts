/**
 * The poll cursor of QBO records. QBO's LastUpdatedTime counts whole seconds, so a time alone
 * cannot tell a record polled at second S from one changed again in that same second: the cursor
 * keeps the latest second seen and the SyncToken of each record seen in it. A record is new after
 * the cursor when it changed in a later second, or in that second with another SyncToken.
 */
import { z } from 'zod';
import { parseJsonCursor } from '../kit/parse';

/** The saved cursor: the latest second seen (ISO 8601, UTC) and the SyncTokens of the records seen in it. */
const cursorSchema = z.object({ since: z.iso.datetime(), seen: z.record(z.string(), z.string()) });
export type ChangeCursor = z.infer<typeof cursorSchema>;

/** What the cursor needs of a record. */
export interface Versioned {
  Id: string;
  SyncToken: string;
  MetaData: { LastUpdatedTime: string };
}

/** The second of a record's LastUpdatedTime, epoch ms. */
const secondOf = (record: Versioned) => Math.floor(Date.parse(record.MetaData.LastUpdatedTime) / 1000) * 1000;

/** A time as QBO's query language and CDC take it, to the second (2026-12-01T18:15:30Z). */
export const qboInstant = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Reads a saved cursor; null (and '') is a first poll. */
export function readChangeCursor(cursor: string | null, what: string): ChangeCursor | null {
  return parseJsonCursor(cursorSchema, cursor, what);
}

/** Whether a record changed after the cursor. */
export function isNewAfter(cursor: ChangeCursor | null, record: Versioned): boolean {
  if (cursor === null) return true;
  const [second, since] = [secondOf(record), Date.parse(cursor.since)];
  return second > since || (second === since && cursor.seen[record.Id] !== record.SyncToken);
}

/** The cursor after records were seen (oldest first or not): their latest second, and who was seen in it. */
export function cursorAfter(cursor: ChangeCursor | null, records: readonly Versioned[]): ChangeCursor | null {
  let current = cursor;
  for (const record of records) {
    const second = secondOf(record);
    if (Number.isNaN(second)) continue;
    const since = current === null ? Number.NaN : Date.parse(current.since);
    if (current === null || second > since) current = { since: qboInstant(second), seen: {} };
    if (second >= Date.parse(current.since))
      current = { ...current, seen: { ...current.seen, [record.Id]: record.SyncToken } };
  }
  return current;
}

/** The cursor as saved ('' before anything was seen). */
export const writeChangeCursor = (cursor: ChangeCursor | null): string =>
  cursor === null ? '' : JSON.stringify(cursor);
