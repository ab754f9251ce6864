/**
 * How each relation stands, computed for all relations at once from one read of the relations,
 * their shadows, the last day's conflict and field-change entries, and one scan of the queues.
 *
 * - conflict: a conflict audited in the last 24 hours that nobody acted on: no field change
 *   overrides it (an applied losing value) and the field has not changed again since;
 * - failing: a failed job for its contact or account newer than its last successful sync (the
 *   newest shadow time, or its creation);
 * - pending: a waiting, running or delayed job for its contact or account;
 * - inSync otherwise. A relation in several states shows the first of this list.
 */
import type { BusinessRelation } from '../../core/model';
import { MAX_AUDIT_LIMIT, type AuditEntry } from '../ports/store';
import type { Engine } from '../ports/index';
import type { RelationRow, RelationState } from '../ports/console';
import { jobTargetKey, type QueueScan } from './queues';

/** How long a conflict nobody acted on marks its relation. */
export const CONFLICT_WINDOW_MS = 24 * 3600_000;

/** Conflict entries of the window that no later field change resolved. */
export function unresolvedConflicts(conflicts: readonly AuditEntry[], changes: readonly AuditEntry[]): AuditEntry[] {
  const overridden = new Set(
    changes.map((change) => change.details?.['overrides']).filter((id): id is string => typeof id === 'string'),
  );
  return conflicts.filter(
    (conflict) =>
      !overridden.has(conflict.id) &&
      // Entries of the sync that decided the conflict share its time; only later changes count.
      !changes.some(
        (change) =>
          change.contactId === conflict.contactId &&
          change.field === conflict.field &&
          change.appliedAt > conflict.appliedAt,
      ),
  );
}

/** The relations a conflict entry concerns: its own and every losing account's. */
function conflictRelations(entry: AuditEntry): string[] {
  const candidates = Array.isArray(entry.details?.['candidates'])
    ? (entry.details['candidates'] as Array<{ relationId?: unknown }>)
    : [];
  const ids = candidates.map((candidate) => candidate.relationId).filter((id): id is string => typeof id === 'string');
  return entry.relationId ? [entry.relationId, ...ids] : ids;
}

/** Every relation as a console row, in the store's order. */
export async function relationRows(engine: Engine, scan: QueueScan, now: Date): Promise<RelationRow[]> {
  const { store } = engine;
  const since = new Date(now.getTime() - CONFLICT_WINDOW_MS).toISOString();
  const relations = await store.listRelations();
  const ids = relations.map((relation) => relation.id);
  const [shadows, latest, conflicts, changes] = await Promise.all([
    store.getShadows(ids),
    store.latestAuditAt(ids),
    store.queryAudit({ kind: 'conflict', from: since, limit: MAX_AUDIT_LIMIT }),
    store.queryAudit({ kind: 'fieldChange', from: since, limit: MAX_AUDIT_LIMIT }),
  ]);
  const inConflict = new Set(unresolvedConflicts(conflicts, changes).flatMap(conflictRelations));
  const failedAt = new Map<string, number>();
  for (const { job, at } of scan.failed) {
    const key = jobTargetKey(job);
    if (key !== null && at > (failedAt.get(key) ?? 0)) failedAt.set(key, at);
  }
  return relations.map((relation): RelationRow => {
    const shadow = shadows.get(relation.id) ?? [];
    const lastSync = Math.max(Date.parse(relation.createdAt), ...shadow.map((entry) => Date.parse(entry.syncedAt)));
    const targets = targetKeys(relation);
    const failing = targets.some((key) => (failedAt.get(key) ?? 0) > lastSync);
    const pending = targets.some((key) => (scan.pending.get(key)?.length ?? 0) > 0);
    const state: RelationState = inConflict.has(relation.id)
      ? 'conflict'
      : failing
        ? 'failing'
        : pending
          ? 'pending'
          : 'inSync';
    return {
      relation,
      contactName: shadow.find((entry) => entry.side === 'contact' && entry.field === 'name')?.value ?? null,
      accountName: shadow.find((entry) => entry.side === 'account' && entry.field === 'name')?.value ?? null,
      state,
      lastActivityAt: latest.get(relation.id) ?? null,
    };
  });
}

/** The queue targets of a relation's two records. */
export function targetKeys(relation: BusinessRelation): string[] {
  return [`contact|${relation.contactId}`, `${relation.accountKind}|${relation.accountId}`];
}

/** Keeps the rows a filter asks for. */
export function filterRows(
  rows: RelationRow[],
  filter: { kind?: string; state?: RelationState; text?: string },
): RelationRow[] {
  const text = filter.text?.trim().toLowerCase();
  return rows.filter(
    (row) =>
      (!filter.kind || row.relation.accountKind === filter.kind) &&
      (!filter.state || row.state === filter.state) &&
      (!text ||
        [row.contactName, row.accountName, row.relation.id, row.relation.contactId, row.relation.accountId].some(
          (value) => value?.toLowerCase().includes(text),
        )),
  );
}
