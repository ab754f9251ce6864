/**
 * After the writes of a plan have run, decide which shadow values are now true. A relation's
 * shadow moves forward only when every write it depends on succeeded; otherwise the next run sees
 * the same differences again and retries them, so a failed write is never forgotten.
 */
import type { FieldValue, SyncRecord } from './model';
import type { RecordWrite, SyncPlan } from './plan';

/** What happened to one write of the plan. */
export type WriteOutcome =
  | { ok: true; record: SyncRecord; jobId?: string }
  /** `code` is the connector error's stable code when the failure had one (e.g. PRECONDITION_FAILED). */
  | { ok: false; error: string; code?: string };

/** A shadow value to store. */
export interface ConfirmedShadow {
  relationId: string;
  side: 'contact' | 'account';
  field: string;
  value: FieldValue;
  sourceModifiedAt: string;
}

/** A stable key for one planned write. */
export function writeKey(write: Pick<RecordWrite, 'system' | 'entity' | 'id'>): string {
  return `${write.system}-${write.entity}-${write.id}`;
}

/**
 * The shadow entries to store and the relations they cover. `readModifiedAt` gives each record's
 * modification time as read before the plan (keyed like writeKey).
 */
export function confirmShadow(
  plan: SyncPlan,
  outcomes: ReadonlyMap<string, WriteOutcome>,
  readModifiedAt: ReadonlyMap<string, string>,
  contactKey: string,
  accountKeyOf: (relationId: string) => string,
): { shadow: ConfirmedShadow[]; committed: Set<string>; failed: Set<string> } {
  const failed = new Set<string>();
  for (const write of plan.writes) {
    const outcome = outcomes.get(writeKey(write));
    if (!outcome || !outcome.ok) write.relationIds.forEach((id) => failed.add(id));
  }
  const modifiedAt = (key: string): string => {
    const outcome = outcomes.get(key);
    if (outcome?.ok) return outcome.record.modifiedAt;
    return readModifiedAt.get(key) ?? new Date(0).toISOString();
  };
  const shadow: ConfirmedShadow[] = [];
  const committed = new Set<string>();
  for (const entry of plan.shadow) {
    if (failed.has(entry.relationId)) continue;
    committed.add(entry.relationId);
    const key = entry.side === 'contact' ? contactKey : accountKeyOf(entry.relationId);
    shadow.push({ ...entry, sourceModifiedAt: modifiedAt(key) });
  }
  return { shadow, committed, failed };
}
