/**
 * Conflicts as the console lists them, applying a conflict's losing value, and undoing a field
 * change. Both writes go through writeFieldEverywhere under the contact's lock.
 */
import { mappingsFor } from '../../config/schema';
import type { FieldValue } from '../../core/model';
import type { AuditEntry, AuditKind } from '../ports/store';
import type { Engine } from '../ports/index';
import { ConflictProblem, InvalidInputProblem, NotFoundProblem } from '../ports/problems';
import type { Actor } from '../ports/relations';
import { writeFieldEverywhere } from './field-writes';
import type { ConflictRow } from '../ports/console';

interface CandidateDetails {
  system: string;
  value: FieldValue;
  modifiedAt: string;
  relationId?: string;
}

function candidateOf(value: unknown): CandidateDetails | null {
  if (value === null || typeof value !== 'object') return null;
  const candidate = value as Record<string, unknown>;
  if (typeof candidate['system'] !== 'string') return null;
  const raw = candidate['value'];
  return {
    system: candidate['system'],
    value: typeof raw === 'string' ? raw : null,
    modifiedAt: typeof candidate['modifiedAt'] === 'string' ? candidate['modifiedAt'] : '',
    ...(typeof candidate['relationId'] === 'string' ? { relationId: candidate['relationId'] } : {}),
  };
}

const sameCandidate = (a: CandidateDetails, b: CandidateDetails) =>
  a.system === b.system && (a.relationId ?? null) === (b.relationId ?? null);

/** A conflict audit entry as a console row. */
export function toConflictRow(entry: AuditEntry, overriddenBy: string | null): ConflictRow {
  const details = entry.details ?? {};
  const winner = candidateOf(details['winner']) ?? {
    system: entry.sourceSystem ?? 'unknown',
    value: entry.newValue ?? null,
    modifiedAt: entry.sourceModifiedAt ?? '',
  };
  const candidates = (Array.isArray(details['candidates']) ? details['candidates'] : [])
    .map(candidateOf)
    .filter((candidate): candidate is CandidateDetails => candidate !== null);
  return {
    auditId: entry.id,
    relationId: entry.relationId ?? null,
    contactId: entry.contactId ?? null,
    field: entry.field ?? '',
    winner: { system: winner.system, value: winner.value, modifiedAt: winner.modifiedAt },
    losers: candidates.filter((candidate) => !sameCandidate(candidate, winner)),
    reason: typeof details['reason'] === 'string' ? details['reason'] : 'unknown',
    at: entry.appliedAt,
    overriddenBy,
  };
}

/** Conflicts, newest first, each with the entry that overrode it when any. */
export async function listConflicts(
  engine: Engine,
  filter: { relationId?: string; limit?: number },
): Promise<ConflictRow[]> {
  const entries = await engine.store.queryAudit({
    kind: 'conflict',
    relationId: filter.relationId,
    limit: filter.limit ?? 100,
    newestFirst: true,
  });
  const overrides = await engine.store.auditReferencing(
    'overrides',
    entries.map((entry) => entry.id),
  );
  const overriddenBy = new Map<string, string>();
  for (const override of overrides) {
    const id = override.details?.['overrides'];
    if (typeof id === 'string' && !overriddenBy.has(id)) overriddenBy.set(id, override.id);
  }
  return entries.map((entry) => toConflictRow(entry, overriddenBy.get(entry.id) ?? null));
}

async function requireEntry(engine: Engine, auditId: string): Promise<AuditEntry> {
  const entry = await engine.store.getAuditEntry(auditId);
  if (entry === null) throw new NotFoundProblem(`audit entry ${auditId} does not exist`);
  return entry;
}

/** Writes a conflict's losing value to every side that does not hold it. */
export async function applyLosingValue(
  engine: Engine,
  auditId: string,
  input: { loserIndex?: number },
  actor: Actor,
): Promise<{ writes: number }> {
  const entry = await requireEntry(engine, auditId);
  if (entry.kind !== 'conflict')
    throw new InvalidInputProblem('auditId', `audit entry ${auditId} is a ${entry.kind} entry, not a conflict`);
  const conflict = toConflictRow(entry, null);
  if (!conflict.contactId || !conflict.field)
    throw new InvalidInputProblem('auditId', `conflict ${auditId} names no contact or field`);
  const index = input.loserIndex ?? 0;
  if (!Number.isInteger(index) || index < 0 || index >= conflict.losers.length) {
    throw new InvalidInputProblem(
      'loserIndex',
      conflict.losers.length === 0
        ? `conflict ${auditId} records no losing value`
        : `must be an integer from 0 to ${conflict.losers.length - 1}`,
    );
  }
  const loser = conflict.losers[index] as ConflictRow['losers'][number];
  return writeFieldEverywhere(engine, {
    contactId: conflict.contactId,
    contactField: conflict.field,
    value: loser.value,
    relationId: conflict.relationId,
    planId: `override-${auditId}-${Date.now()}`,
    details: {
      overrides: auditId,
      actor: actor.name,
      loser: { system: loser.system, relationId: loser.relationId ?? null },
    },
  });
}

const NOT_UNDOABLE: Record<Exclude<AuditKind, 'fieldChange'>, string> = {
  link: 'a link is undone by unlinking the relation',
  unlink: 'an unlink is undone by linking the contact and the account again',
  create:
    'tandem does not delete records it created: unlink the relation, and delete the record in its own system if it is not wanted',
  delete: 'a record deleted in its own system cannot be brought back by tandem: restore it there, then link it again',
  conflict: 'a conflict is not undone: apply its losing value instead',
  drift: 'a drift finding is not undone: undo the field changes that repaired it',
};

/** Writes an audited field change's old value back, to the contact and its linked accounts. */
export async function undo(engine: Engine, auditId: string, actor: Actor): Promise<{ writes: number }> {
  const entry = await requireEntry(engine, auditId);
  if (entry.kind !== 'fieldChange')
    throw new ConflictProblem(
      'NOT_SUPPORTED',
      `audit entry ${auditId} is a ${entry.kind} entry: ${NOT_UNDOABLE[entry.kind]}`,
    );
  if (!entry.contactId || !entry.field || !entry.direction)
    throw new InvalidInputProblem('auditId', `field change ${auditId} names no contact, field or direction`);
  let contactField = entry.field;
  if (entry.direction === 'toAccounting') {
    // The entry names the account's field; the value travels under the contact field mapped to it.
    const kind = entry.accountKind;
    const mapping = kind
      ? mappingsFor(engine.config, kind).find((candidate) => candidate.account === entry.field)
      : undefined;
    if (!mapping)
      throw new ConflictProblem(
        'NOT_SUPPORTED',
        `the ${kind ?? 'account'} field '${entry.field}' is no longer mapped, so there is nothing to write it through`,
      );
    contactField = mapping.contact;
  }
  return writeFieldEverywhere(engine, {
    contactId: entry.contactId,
    contactField,
    value: entry.oldValue ?? null,
    relationId: entry.relationId,
    planId: `undo-${auditId}-${Date.now()}`,
    details: { undoes: auditId, actor: actor.name },
  });
}
