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
  const relationOf = new Map<string, AuditedRelation>(basis.linked.map((entry) => [entry.relation.id, entry.relation]));
  const overrides = auditOverrides(run.audit ?? {});
  let staged: string | undefined;
  // Staged before the writes go out: a planner killed after them still leaves their audit behind.
  const beforeWrites = async (jobIds: ReadonlyMap<string, string>) => {
    const first = jobIds.values().next().value;
    if (first === undefined) return;
    staged = `${run.planId}|${first}`;
    await engine.store.stageAudit({
      planId: staged,
      contactId: basis.contact?.id ?? basis.linked[0]?.relation.contactId ?? '',
      jobIds: [...jobIds.values()],
      entries: [
        ...plan.writes.flatMap((write) => {
          const jobId = jobIds.get(writeKey(write)) ?? null;
          return write.changes.flatMap((change) => {
            const relation = relationOf.get(change.relationId);
            return relation
              ? [{ jobId, entry: fieldChangeEntry(relation, change, jobId ?? undefined, overrides) }]
              : [];
          });
        }),
        ...plan.conflicts.map((conflict) => ({ jobId: null, entry: conflictEntry(conflict, relationOf) })),
      ],
    });
  };
  const outcomes =
    plan.writes.length > 0
      ? await engine.writes.dispatch(plan.writes, { planId: run.planId, beforeWrites })
      : new Map<string, WriteOutcome>();
  const { shadow, ...confirmed } = confirmPlan(plan, outcomes, basis);
  await observeWritten(engine, confirmed.written, outcomes);

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
  if (entries.length > 0 || audit.length > 0 || staged !== undefined)
    await engine.store.recordSync(entries, audit, staged);
  return { ...confirmed, outcomes };
}

/**
 * Settles the audit entries a contact's earlier plans staged and never recorded (their planner
 * died, or gave up waiting): each field change whose write job completed is recorded, and the
 * plan's conflicts when any of its jobs did; what never went out is dropped. Run under the
 * contact's lock, before the next plan.
 */
export async function settleStagedAudit(engine: Pick<Engine, 'store' | 'writes'>, contactId: string): Promise<void> {
  if (!engine.writes.completed) return;
  for (const staged of await engine.store.stagedAudit(contactId)) {
    const done = await engine.writes.completed(staged.jobIds);
    const recovered = staged.entries
      .filter(({ jobId }) => (jobId === null ? done.size > 0 : done.has(jobId)))
      .map(({ entry }) => ({
        ...entry,
        details: { ...entry.details, recovered: 'the planner stopped before recording it' },
      }));
    await engine.store.settleStagedAudit(staged.planId, recovered);
  }
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
