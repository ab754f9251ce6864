/**
 * Sync filters: which records of an account kind take part. Each kind may name conditions on the
 * contact and on the account (canonical or custom fields); a relation syncs only while both sides
 * meet all of theirs. A relation that stops matching is left alone: it stays, nothing is written
 * either way, and its shadow keeps the values last synced, so once it matches again the changes
 * made meanwhile are decided field by field as any others. Pure: no I/O.
 */
import { fieldValue } from './fields';
import { normalizeValue, type SyncRecord } from './model';

/** One condition on one field: its value is one of `in`, none of `notIn`, or (`empty`) blank or not. */
export type Condition =
  | { field: string; in: readonly string[] }
  | { field: string; notIn: readonly string[] }
  | { field: string; empty: boolean };

/** The conditions of one account kind, per side; absent or empty: every record takes part. */
export interface KindFilter {
  contact?: readonly Condition[];
  account?: readonly Condition[];
}

/** Whether a record meets every condition. Values are compared as tandem reads them: trimmed, blank as empty. */
export function meets(record: SyncRecord, conditions: readonly Condition[] = []): boolean {
  return conditions.every((condition) => {
    const value = fieldValue(record, condition.field);
    if ('empty' in condition) return (value === null) === condition.empty;
    const listed = ('in' in condition ? condition.in : condition.notIn).some(
      (candidate) => normalizeValue(candidate) === value,
    );
    return 'in' in condition ? listed : !listed;
  });
}

/** Which side of a relation a filter leaves out, or null when both take part. */
export function filteredSide(
  filter: KindFilter | undefined,
  contact: SyncRecord,
  account: SyncRecord,
): 'contact' | 'account' | null {
  if (!filter) return null;
  if (!meets(contact, filter.contact)) return 'contact';
  if (!meets(account, filter.account)) return 'account';
  return null;
}

/** The fields a filter reads, per side. */
export function filterFields(filter: KindFilter | undefined, side: 'contact' | 'account'): string[] {
  return (filter?.[side] ?? []).map((condition) => condition.field);
}
