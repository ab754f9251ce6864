/**
 * The polling cursor: the latest version seen, and the versions of the records seen within an
 * overlap window before it.
 *
 * trytond has no change feed; records are found by `write_date`/`create_date`. Two things make a
 * plain "greater than the last timestamp" unsafe: records written in one transaction share one
 * timestamp (a page can end in the middle of them), and on PostgreSQL the timestamp is the
 * transaction's start, so a long transaction can commit a change dated before the last poll. So
 * each poll asks again for everything after `latest - overlap` and drops the records whose
 * version the cursor already saw.
 */
import { z } from 'zod';
import type { SyncRecord } from '../../src/core/model';
import { InvalidRequestError } from '../kit/errors';
import { isoMinus } from './values';

/** The decoded cursor. `latest` is null before anything was seen. */
export interface CursorState {
  latest: string | null;
  /** Record id -> version, for records whose version lies within the overlap window. */
  seen: Record<string, string>;
}

const cursorSchema = z.object({ latest: z.string().nullable(), seen: z.record(z.string(), z.string()) });

/** Decodes a saved cursor; null or '' is "from the beginning". */
export function parseCursor(cursor: string | null): CursorState {
  if (cursor === null || cursor === '') return { latest: null, seen: {} };
  try {
    return cursorSchema.parse(JSON.parse(cursor));
  } catch {
    throw new InvalidRequestError(`tryton: cursor '${cursor.slice(0, 80)}' is not a tryton cursor`);
  }
}

/** Encodes a cursor for the engine to save. */
export function formatCursor(state: CursorState): string {
  return JSON.stringify(state);
}

/** The time to search after: the latest version less the overlap, or null for everything. */
export function searchFrom(state: CursorState, overlapMs: number): string | null {
  return state.latest === null ? null : isoMinus(state.latest, overlapMs);
}

/** The records the cursor has not seen in their current version. */
export function unseen<T extends SyncRecord>(state: CursorState, records: T[]): T[] {
  return records.filter((record) => state.seen[record.id] !== record.version);
}

/** The cursor after `records` were handed out: latest moves forward, old `seen` entries expire. */
export function advance(state: CursorState, records: SyncRecord[], overlapMs: number): CursorState {
  let latest = state.latest;
  const seen: Record<string, string> = { ...state.seen };
  for (const record of records) {
    const version = record.version ?? record.modifiedAt;
    seen[record.id] = version;
    if (latest === null || version > latest) latest = version;
  }
  const horizon = latest === null ? null : isoMinus(latest, overlapMs);
  for (const [id, version] of Object.entries(seen)) {
    if (horizon !== null && version <= horizon) delete seen[id];
  }
  return { latest, seen };
}
