/**
 * Applying a plan, the one way every use case does it: dispatch its writes, let the core confirm
 * the shadow against their outcomes, and store the confirmed shadow together with the audit
 * entries of what was written (and of the conflicts that took effect) in one transaction. Each use
 * case then turns the failures into its own error.
 */
import { confirmPlan, writeKey, type ConfirmedPlan, type PlanBasis, type WriteOutcome } from '../core/confirm';
import type { SyncRecord } from '../core/model';
import type { SyncPlan } from '../core/plan';
import type { NewAuditEntry, ShadowEntry } from './ports/store';
import type { Engine } from './ports/index';
import { conflictEntry, fieldChangeEntry, type AuditedRelation } from './audit';

/** How a plan's field changes are audited beyond what each change says. */
export interface AuditAs {
  /** 'tandem' for writes tandem decided on an operator's behalf rather than carried from a side. */
  sourceSystem?: 'tandem';
  /** Added to every field change's details (who asked, and why). */
  details?: Record<string, unknown>;
}

/** One plan to apply. */
export interface PlanRun {
  plan: SyncPlan;
  /** What the plan was made from. */
  basis: PlanBasis;
  /** Names the plan's write jobs, so a retry of the same plan reuses them. */
  planId: string;
  audit?: AuditAs;
}

/** What applying a plan did. */
export type AppliedPlan = Omit<ConfirmedPlan, 'shadow'> & { outcomes: Map<string, WriteOutcome> };

/** Dispatches a plan's writes, then stores the confirmed shadow and the audit entries together. */
export async function applyPlan(engine: Pick<Engine, 'store' | 'writes'>, run: PlanRun): Promise<AppliedPlan> {
  const { plan, basis } = run;
  const outcomes =
    plan.writes.length > 0
      ? await engine.writes.dispatch(plan.writes, { planId: run.planId })
      : new Map<string, WriteOutcome>();
  const { shadow, ...confirmed } = confirmPlan(plan, outcomes, basis);
  await observeWritten(engine, confirmed.written, outcomes);

  const relationOf = new Map<string, AuditedRelation>(basis.linked.map((entry) => [entry.relation.id, entry.relation]));
  const overrides = auditOverrides(run.audit ?? {});
  const audit: NewAuditEntry[] = [];
  for (const { write, jobId } of confirmed.written) {
    for (const change of write.changes) {
      // Each change is audited under the relation it belongs to.
      const relation = relationOf.get(change.relationId);
      if (relation) audit.push(fieldChangeEntry(relation, change, jobId, overrides));
    }
  }
  for (const conflict of confirmed.conflicts) audit.push(conflictEntry(conflict, relationOf));

  const syncedAt = new Date().toISOString();
  const entries: ShadowEntry[] = shadow.map((entry) => ({ ...entry, syncedAt }));
  if (entries.length > 0 || audit.length > 0) await engine.store.recordSync(entries, audit);
  return { ...confirmed, outcomes };
}

/**
 * Observes what the writes returned, naming the fields tandem wrote (core/observe.ts): the write
 * moved each record's time, and without this a user's earlier edit of another field, seen with
 * the write on the next read, would be credited with the write's time.
 */
async function observeWritten(
  engine: Pick<Engine, 'store'>,
  written: ConfirmedPlan['written'],
  outcomes: ReadonlyMap<string, WriteOutcome>,
): Promise<void> {
  for (const system of ['crm', 'accounting'] as const) {
    const records: SyncRecord[] = [];
    const fields = new Map<string, string[]>();
    for (const { write } of written.filter((entry) => entry.write.system === system)) {
      const outcome = outcomes.get(writeKey(write));
      if (!outcome?.ok) continue;
      records.push(outcome.record);
      fields.set(write.id, Object.keys(write.fields));
    }
    if (records.length > 0) await engine.store.observeRecords(system, records, fields);
  }
}

function auditOverrides(as: AuditAs): Parameters<typeof fieldChangeEntry>[3] {
  return {
    ...(as.sourceSystem === undefined ? {} : { sourceSystem: as.sourceSystem }),
    ...(as.details === undefined ? {} : { details: as.details }),
  };
}
