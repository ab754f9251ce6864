/**
 * Cursors that are a modification time (Xero's UpdatedDateUTC, Business Central's
 * lastModifiedDateTime), over pages the provider returns oldest change first.
 */
import { InvalidRequestError } from './errors';

/** A saved time cursor as ISO 8601, or null for "from the beginning" (null, or the '' of a first run over nothing). */
export function parseTimeCursor(cursor: string | null, what: string): string | null {
  if (cursor === null || cursor === '') return null;
  const time = Date.parse(cursor);
  if (Number.isNaN(time))
    throw new InvalidRequestError(`${what}: unexpected cursor (not a date: ${cursor.slice(0, 80)})`);
  return new Date(time).toISOString();
}

/** True when `time` is later than the cursor; a poll that may return the cursor's own instant drops it. */
export function isAfterCursor(time: string | null | undefined, cursor: string | null): boolean {
  return cursor === null || (typeof time === 'string' && Date.parse(time) > Date.parse(cursor));
}

/**
 * The cursor after a page, oldest change first: the latest modification time seen, never earlier
 * than `current`. On a page that is not the last it stays 1 ms below the page's latest time, so a
 * record sharing that time on the next page is not skipped when a poll resumes from the cursor.
 */
export function cursorAfterPage(
  times: readonly (string | null | undefined)[],
  current: string | null,
  lastPage: boolean,
): string | null {
  const parsed = times.map((time) => (time ? Date.parse(time) : Number.NaN)).filter((time) => !Number.isNaN(time));
  if (parsed.length === 0) return current;
  const latest = Math.max(...parsed) - (lastPage ? 0 : 1);
  return current === null || latest > Date.parse(current) ? new Date(latest).toISOString() : current;
}
