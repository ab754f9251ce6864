/**
 * Reading a record's field by the canonical name a mapping gives it. Mappings name fields as
 * plain strings (they come from the config), so each lookup goes through here rather than
 * through a cast at every call site.
 */
import type { FieldValue, FieldWindow, SyncRecord } from './model';

/** A record's value of a field; unset counts as empty. */
export function fieldValue(record: SyncRecord, field: string): FieldValue {
  const fields: Readonly<Partial<Record<string, FieldValue>>> = record.fields;
  return fields[field] ?? null;
}

/** When a field of a record last changed: its own time where the system keeps one, else the record's. */
export function fieldModifiedAt(record: SyncRecord, field: string): string {
  const times: Readonly<Partial<Record<string, string>>> = record.fieldModifiedAt ?? {};
  return times[field] ?? record.modifiedAt;
}

/** The window a field's change is known to lie in, where tandem observed one (see core/observe.ts). */
export function fieldWindow(record: SyncRecord, field: string): FieldWindow | undefined {
  const windows: Readonly<Partial<Record<string, FieldWindow>>> = record.fieldWindow ?? {};
  return windows[field];
}
