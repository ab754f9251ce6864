/** Audit entries the use cases write, built in one place so every field change reads alike. */
import type { BusinessRelation } from '../core/model';
import type { ConflictDecision, FieldChange } from '../core/plan';
import type { NewAuditEntry } from './ports/store';

/** Where a field change landed: the relation it belongs to. */
export type AuditedRelation = Pick<BusinessRelation, 'id' | 'contactId' | 'accountKind' | 'accountId'>;

/** The audit entry of one confirmed field write; `overrides` for writes tandem itself decided. */
export function fieldChangeEntry(
  relation: AuditedRelation,
  change: FieldChange,
  jobId: string | undefined,
  overrides: Partial<Pick<NewAuditEntry, 'sourceSystem' | 'sourceModifiedAt' | 'direction' | 'details'>> = {},
): NewAuditEntry {
  return {
    kind: 'fieldChange',
    relationId: relation.id,
    contactId: relation.contactId,
    accountKind: relation.accountKind,
    accountId: relation.accountId,
    field: change.field,
    oldValue: change.from,
    newValue: change.to,
    direction: change.direction,
    sourceSystem: change.sourceSystem,
    sourceModifiedAt: change.sourceModifiedAt,
    jobId: jobId ?? null,
    ...overrides,
  };
}

/**
 * The audit entry of a conflict that took effect, under the winner's relation (the first
 * relation the conflict concerns when the contact won), with every candidate in its details.
 */
export function conflictEntry(
  conflict: ConflictDecision,
  relationOf: ReadonlyMap<string, AuditedRelation>,
): NewAuditEntry {
  const winnerRelation = conflict.winner.relationId ? relationOf.get(conflict.winner.relationId) : undefined;
  const firstId = conflict.relationIds[0];
  const first = firstId === undefined ? undefined : relationOf.get(firstId);
  return {
    kind: 'conflict',
    relationId: winnerRelation?.id ?? firstId ?? null,
    contactId: (winnerRelation ?? first)?.contactId ?? null,
    accountKind: winnerRelation?.accountKind ?? null,
    accountId: winnerRelation?.accountId ?? null,
    field: conflict.contactField,
    newValue: conflict.winner.value,
    sourceSystem: conflict.winner.system,
    sourceModifiedAt: conflict.winner.modifiedAt,
    details: {
      reason: conflict.reason,
      winner: conflict.winner,
      candidates: conflict.candidates,
    },
  };
}
