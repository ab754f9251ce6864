/**
 * Polling: the cursor is the latest version seen, and the versions of the records seen within an
 * overlap window before it. Records of one transaction share a timestamp and a long PostgreSQL
 * transaction can commit a change dated before the last poll, so each poll looks again from
 * `latest - overlap` and drops what it has seen (README.md, "Change detection and versions").
 */
import { z } from 'zod';
import type { Account } from '../../src/core/model';
import { parseJsonCursor } from '../kit/parse';
import type { ChangedPage } from '../kit/types';
import { isoMinus } from './schemas';

/** How far before its cursor each poll looks again for late commits. */
const OVERLAP_MS = 30_000;

/** `latest` is null before anything was seen; `seen` maps record id -> version within the overlap. */
const cursorSchema = z.object({ latest: z.string().nullable(), seen: z.record(z.string(), z.string()) });
type CursorState = z.infer<typeof cursorSchema>;

/** The cursor after `records` were handed out: latest moves forward, old `seen` entries expire. */
function advance(state: CursorState, records: Account[]): CursorState {
  let latest = state.latest;
  const seen = { ...state.seen };
  for (const record of records) {
    const version = record.version ?? record.modifiedAt;
    seen[record.id] = version;
    if (latest === null || version > latest) latest = version;
  }
  if (latest === null) return { latest, seen };
  const horizon = isoMinus(latest, OVERLAP_MS);
  return { latest, seen: Object.fromEntries(Object.entries(seen).filter(([, version]) => version > horizon)) };
}

/**
 * Pages of the records `changedSince` finds, less those the cursor saw in their current version,
 * oldest version first, so a cursor saved after any page covers exactly the records handed out.
 */
export async function* changedPages(
  cursor: string | null,
  pageSize: number,
  changedSince: (since: string | null) => Promise<Account[]>,
): AsyncIterable<ChangedPage> {
  let state = parseJsonCursor(cursorSchema, cursor, 'tryton') ?? { latest: null, seen: {} };
  const since = state.latest === null ? null : isoMinus(state.latest, OVERLAP_MS);
  const fresh = (await changedSince(since))
    .filter((record) => state.seen[record.id] !== record.version)
    .sort((a, b) => (a.modifiedAt < b.modifiedAt ? -1 : a.modifiedAt > b.modifiedAt ? 1 : Number(a.id) - Number(b.id)));
  // At least one page, so that even a poll that finds nothing lets old `seen` entries expire.
  let start = 0;
  do {
    const records = fresh.slice(start, start + pageSize);
    state = advance(state, records);
    yield { records, cursor: JSON.stringify(state) };
    start += pageSize;
  } while (start < fresh.length);
}
