/**
 * Per-field change times where a system keeps only a record's time. Most accounting systems tell
 * when a record last changed, not which field changed when: crediting every field that differs
 * from the shadow with the record's latest time lets an older edit of one field win because
 * another field of that record was edited later. So tandem keeps what it observed of each
 * record: every field's value, and the window in which it changed to that value, from the
 * record's time at the last observation that still had the old value (`since`) to its time at
 * the first observation that had the new one (`at`). A field observed holding the same value
 * keeps its window however often the record changes afterwards.
 *
 * Where one field changed between two observations, the record's time is its time, as good as
 * a record-level system can tell. Where several did, only the last of them changed at the
 * record's time: the others changed somewhere in the window, and last-writer-wins says so when
 * that window overlaps the other side's time (see lastWriterWins).
 *
 * A provider's own per-field time (SyncRecord.fieldModifiedAt, as HubSpot's property history) is
 * exact: its window is that one instant. A field first seen without an earlier observation has
 * no lower bound (`since: null`).
 */
import type { FieldEarlier, FieldValue, FieldWindow, SyncRecord } from './model';

/** What tandem saw of one field: its value, and the window in which it changed to it. */
export interface FieldObservation {
  value: FieldValue;
  /** The latest the change can have happened: the record's time when the value was first seen. */
  at: string;
  /** The earliest: the record's time when the old value was last seen; null when unknown. */
  since: string | null;
  /** Other fields of the record changed in the same window, so `at` may be theirs. */
  shared: boolean;
  /** For a shared window: the fields that changed in it, or 0 when `at` is tandem's write (see FieldWindow). */
  among?: number;
  /**
   * tandem wrote this value here, carried from the side where it was edited at `at`: while the
   * field holds it, it keeps that time (an echo of tandem's write is not a newer edit, even where
   * the shadow of that write was never stored because the process died).
   */
  carried?: boolean;
  /**
   * For a carried value written where the system has no etag: the value the plan read there and
   * meant to replace. Someone else's edit that landed between that read and the write is then
   * told apart, in the field's history, from the value the write was meant to replace.
   */
  replaced?: FieldValue;
  /** A newer edit the carried value replaced (see observeRecord); it takes part in last-writer-wins again. */
  overwritten?: FieldEarlier;
  /**
   * For a carried value: what was observed of the field before, so that a write noted but never
   * made (refused by its compare or its fence) leaves the field as it was observed.
   */
  before?: FieldObservation;
}

/** What tandem saw of one record. */
export interface RecordObservation {
  /** The record's own time at the newest observation. */
  modifiedAt: string;
  fields: Record<string, FieldObservation>;
}

const later = (a: string, b: string) => (Date.parse(a) >= Date.parse(b) ? a : b);

/**
 * The observation after reading `record`, given the one before (null for a record not seen yet).
 * `written` names the fields tandem itself just wrote, when `record` is what its write returned:
 * the write made the record's time, so those fields changed exactly then. Observed with the
 * write, they no longer count as changes on the next read, where a user's edit of one field
 * then stands alone and gets the record's time; a field someone else changed before the write
 * shares the write's time, and says so.
 */
export function observeRecord(
  previous: RecordObservation | null,
  record: SyncRecord,
  written: readonly string[] = [],
): RecordObservation {
  // A read older than what was already seen (a slow poll page, a lagging replica) teaches nothing.
  if (previous && Date.parse(record.modifiedAt) < Date.parse(previous.modifiedAt)) return previous;
  const own: Readonly<Partial<Record<string, string>>> = record.fieldModifiedAt ?? {};
  const earlier: Readonly<Partial<Record<string, FieldEarlier>>> = record.fieldPrevious ?? {};
  const fields: Record<string, FieldObservation> = {};
  const changed: string[] = [];
  for (const [field, raw] of Object.entries(record.fields)) {
    const value: FieldValue = raw ?? null;
    const exact = own[field];
    const noted = previous?.fields[field];
    // A carried value the record does not hold was never written: the field is as observed before.
    const seen = noted?.carried && noted.value !== value && noted.before ? noted.before : noted;
    if (seen?.carried && seen.value === value) fields[field] = withOverwritten(seen, earlier[field]);
    else if (exact !== undefined) fields[field] = { value, at: exact, since: exact, shared: false };
    else if (written.includes(field))
      fields[field] = { value, at: record.modifiedAt, since: record.modifiedAt, shared: false };
    else if (seen && seen.value === value) fields[field] = seen;
    else changed.push(field);
  }
  // A first observation has nothing to compare with: each field gets the record's time, as
  // record-level systems are read without observations.
  // After a write the record's time is tandem's: a field someone else changed meanwhile shares it.
  const shared = previous !== null && (changed.length > 1 || (written.length > 0 && changed.length > 0));
  // Of the fields changed in a shared window one changed at its end, unless the end is the write's.
  const among = written.length > 0 ? 0 : changed.length;
  for (const field of changed) {
    const value: FieldValue = record.fields[field as keyof typeof record.fields] ?? null;
    const since = previous ? previous.modifiedAt : null;
    fields[field] = { value, at: record.modifiedAt, since, shared, ...(shared && { among }) };
  }
  return { modifiedAt: previous ? later(record.modifiedAt, previous.modifiedAt) : record.modifiedAt, fields };
}

/**
 * A carried value, with the edit it overwrote when the system's history shows one. A system
 * without an etag can only be compared with before a write; an edit that lands between that
 * compare and the write is replaced by it. Its history then shows, just before tandem's value,
 * a value that is neither the one the plan meant to replace nor tandem's own, set after the edit
 * tandem carried: that edit is newer and was lost, unless last-writer-wins puts it back.
 */
function withOverwritten(seen: FieldObservation, before: FieldEarlier | undefined): FieldObservation {
  // Seen holding it, the write landed: what was observed before it no longer applies.
  const { overwritten: _, before: _landed, ...carried } = seen;
  const lost =
    before !== undefined &&
    seen.replaced !== undefined &&
    before.value !== seen.value &&
    before.value !== seen.replaced &&
    Date.parse(before.at) > Date.parse(seen.at);
  return lost ? { ...carried, overwritten: before } : carried;
}

/**
 * The record with each field's change time and window from the observation: `fieldModifiedAt` is
 * the window's end (what last-writer-wins compares), `fieldWindow` its start and whether other
 * fields share it. A field whose value the observation does not hold (the read was older) keeps
 * the record's time.
 */
export function withObservedTimes<R extends SyncRecord>(record: R, observation: RecordObservation): R {
  const fieldModifiedAt: Record<string, string> = {};
  const fieldWindow: Record<string, FieldWindow> = {};
  const fieldOverwritten: Record<string, FieldEarlier> = {};
  for (const [field, raw] of Object.entries(record.fields)) {
    const seen = observation.fields[field];
    if (seen === undefined || seen.value !== (raw ?? null)) continue;
    fieldModifiedAt[field] = seen.at;
    fieldWindow[field] = {
      since: seen.since,
      shared: seen.shared,
      ...(seen.among !== undefined && { among: seen.among }),
    };
    if (seen.overwritten) fieldOverwritten[field] = seen.overwritten;
  }
  return {
    ...record,
    fieldModifiedAt,
    fieldWindow,
    ...(Object.keys(fieldOverwritten).length > 0 && { fieldOverwritten }),
  };
}

/**
 * The observation once tandem is about to write `values` to the record, each carried from a side
 * where it was edited at `sources[field]`: those fields keep their origin's time while they hold
 * the value (see FieldObservation.carried). Recorded before the write, so a process killed right
 * after it still knows its own write when it reads it back.
 */
export function carryValues(
  previous: RecordObservation,
  values: Readonly<Record<string, FieldValue>>,
  sources: Readonly<Record<string, string>>,
  /** Where the target has no etag: the values the plan read and meant to replace (see FieldObservation.replaced). */
  replaced: Readonly<Record<string, FieldValue>> = {},
): RecordObservation {
  const fields = { ...previous.fields };
  for (const [field, value] of Object.entries(values)) {
    const at = sources[field];
    const meant = replaced[field];
    // Kept one deep: the observation before the first of several carries.
    const earlier = previous.fields[field];
    const before = earlier?.carried ? earlier.before : earlier;
    if (at !== undefined)
      fields[field] = {
        value,
        at,
        since: at,
        shared: false,
        carried: true,
        ...(meant !== undefined && { replaced: meant }),
        ...(before !== undefined && { before }),
      };
  }
  return { ...previous, fields };
}
