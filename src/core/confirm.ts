/**
 * After the writes of a plan have run, decide what is now true: which shadow rows to store,
 * which writes to audit and which conflicts took effect. One confirmation serves every planner:
 * each shadow row of a plan says which writes it follows and what a failed write leaves behind
 * (see PlannedShadow), so a failed write is never forgotten and never mistaken for done.
 */
import { fieldModifiedAt } from './fields';
import type { Account, BusinessRelation, Contact, FieldValue, SyncRecord } from './model';
import type { ConflictDecision, PlannedShadow, RecordWrite, ShadowValue, SyncPlan } from './plan';

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

/** What a plan was made from: the contact and each relation's account, as read before planning. */
export interface PlanBasis {
  /** The contact the relations belong to; null for a plan that keeps no contact-side shadow. */
  contact: Contact | null;
  /**
   * Every relation the plan concerns, with its account (null when it no longer exists), and the
   * shadow the plan read when it planned from one.
   */
  linked: ReadonlyArray<{
    relation: BusinessRelation;
    account: Account | null;
    shadow?: ReadonlyMap<string, ShadowValue>;
  }>;
}

/** A write that did not go through, named by its writeKey. */
export interface WriteFailure {
  target: string;
  error: string;
  code?: string;
}

/** What the outcomes of a plan's writes make true. */
export interface ConfirmedPlan {
  shadow: ConfirmedShadow[];
  /** The writes that succeeded, in plan order, with the job that ran each. */
  written: Array<{ write: RecordWrite; jobId?: string }>;
  /** The writes that failed, in plan order. */
  failures: WriteFailure[];
  /** The conflicts whose decision took effect: some relation they concern moved forward. */
  conflicts: ConflictDecision[];
  /** Relations whose every planned shadow row was stored at its planned value. */
  committed: Set<string>;
  /** Relations a failed write concerned. */
  failed: Set<string>;
}

/** A stable key for one planned write. */
export function writeKey(write: Pick<RecordWrite, 'system' | 'entity' | 'id'>): string {
  return `${write.system}-${write.entity}-${write.id}`;
}

/** The key a write to this record would have. */
export function recordKey(record: SyncRecord): string {
  return writeKey({ system: record.entity === 'contact' ? 'crm' : 'accounting', entity: record.entity, id: record.id });
}

/** Confirms a plan against its writes' outcomes (keyed by writeKey); a write without an outcome failed. */
export function confirmPlan(
  plan: SyncPlan,
  outcomes: ReadonlyMap<string, WriteOutcome>,
  basis: PlanBasis,
): ConfirmedPlan {
  const succeeded = (key: string) => outcomes.get(key)?.ok === true;
  const written: ConfirmedPlan['written'] = [];
  const failures: WriteFailure[] = [];
  const failed = new Set<string>();
  const writesNaming = new Map<string, string[]>();
  for (const write of plan.writes) {
    const key = writeKey(write);
    for (const relationId of write.relationIds)
      writesNaming.set(relationId, [...(writesNaming.get(relationId) ?? []), key]);
    const outcome = outcomes.get(key);
    if (outcome?.ok) {
      written.push({ write, jobId: outcome.jobId });
      continue;
    }
    failures.push({ target: key, error: outcome?.error ?? 'no outcome was reported', code: outcome?.code });
    write.relationIds.forEach((id) => failed.add(id));
  }

  const sourceModifiedAt = sourceTimes(plan, outcomes, basis);
  const read = new Map(basis.linked.map((entry) => [entry.relation.id, entry.shadow]));
  const shadow: ConfirmedShadow[] = [];
  const heldBack = new Set<string>();
  for (const row of plan.shadow) {
    const follows = row.follows ?? writesNaming.get(row.relationId) ?? [];
    const held = follows.every(succeeded);
    if (!held) heldBack.add(row.relationId);
    const value = held ? row.value : row.ifFailed?.value;
    if (value === undefined) continue;
    const confirmed = {
      relationId: row.relationId,
      side: row.side,
      field: row.field,
      value,
      sourceModifiedAt: sourceModifiedAt(row),
    };
    // A row that says what the shadow the plan read says already is not stored again.
    const before = read.get(row.relationId)?.get(`${row.side}.${row.field}`);
    if (before?.value === value && before.sourceModifiedAt === confirmed.sourceModifiedAt) continue;
    shadow.push(confirmed);
  }
  const committed = new Set(plan.shadow.map((row) => row.relationId).filter((id) => !heldBack.has(id)));
  // A conflict took effect once a relation it concerns moved forward, or once a write of its winner
  // landed anywhere: the losing value may be gone from that record even where another write of the
  // plan failed and holds its relations back.
  const conflicts = plan.conflicts.filter(
    (conflict) =>
      conflict.relationIds.some((id) => committed.has(id)) ||
      conflict.writes.some((target) => succeeded(writeKey(target))),
  );
  return { shadow, written, failures, conflicts, committed, failed };
}

/**
 * The source time a shadow row is stored with: the time the write returned for a field it wrote,
 * else the field's own time as read before the plan (its observed change time, see
 * core/observe.ts). A record's later time is not credited to its fields that did not change, so
 * the shadow of a field moves only when the field does.
 */
function sourceTimes(
  plan: SyncPlan,
  outcomes: ReadonlyMap<string, WriteOutcome>,
  basis: PlanBasis,
): (row: PlannedShadow) => string {
  const accounts = new Map(basis.linked.map((entry) => [entry.relation.id, entry.account]));
  const writtenFields = new Map(plan.writes.map((write) => [writeKey(write), write.fields]));
  return (row) => {
    const record = row.side === 'contact' ? basis.contact : accounts.get(row.relationId);
    if (!record) {
      throw new Error(`the plan keeps a ${row.side} shadow of relation ${row.relationId}, but has no such record`);
    }
    const key = recordKey(record);
    const outcome = outcomes.get(key);
    if (outcome?.ok && Object.hasOwn(writtenFields.get(key) ?? {}, row.field)) return outcome.record.modifiedAt;
    return fieldModifiedAt(record, row.field);
  };
}
