/** Audit entries the use cases write, built in one place so every field change reads alike. */
import type { BusinessRelation } from '../core/model';
import type { FieldChange } from '../core/plan';
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
