/**
 * Writing one value of one contact field to the contact and to every linked account whose
 * mapping lets it flow there: what "apply the losing value" and "undo" do. Pure: no I/O.
 *
 * Both sides are written here rather than one side with the sync carrying it on: the shadow then
 * holds the written value on every side, so the records' own reports of these writes come back
 * as echoes and nothing moves again. A relation whose write failed keeps its old shadow, so the
 * next sync sees the side that was written as changed and finishes the job.
 */
import { fieldValue } from './fields';
import { accountSpelling } from './transform';
import type { Account, BusinessRelation, Contact, FieldMapping, FieldValue } from './model';
import type { FieldChange, PlannedShadow, RecordWrite, SyncPlan } from './plan';

/** A relation that maps the field, with its account as read and the mapping that maps it. */
export interface FieldWriteTarget {
  relation: BusinessRelation;
  account: Account;
  mapping: FieldMapping;
}

/** Plans writing `value` wherever it is missing; a plan without targets writes nothing. */
export function planFieldWrite(input: {
  contact: Contact;
  /** The field's name on the contact. */
  contactField: string;
  value: FieldValue;
  targets: readonly FieldWriteTarget[];
  /** The relation the contact's own write is audited under (default: the first target). */
  auditRelationId?: string | null;
  /** When tandem decided the write (ISO 8601): the source time of every change. */
  decidedAt: string;
}): SyncPlan {
  const { contact, contactField, value, targets } = input;
  const primary = targets.find((target) => target.relation.id === input.auditRelationId) ?? targets[0];
  if (primary === undefined) return { writes: [], conflicts: [], shadow: [], nothingChanged: true };
  const change = (relationId: string, field: string, from: FieldValue, direction: FieldChange['direction']) => ({
    relationId,
    field,
    from,
    to: value,
    direction,
    sourceSystem: direction === 'toCrm' ? ('accounting' as const) : ('crm' as const),
    sourceModifiedAt: input.decidedAt,
  });

  const writes: RecordWrite[] = [];
  const contactValue = fieldValue(contact, contactField);
  if (contactValue !== value) {
    writes.push({
      system: 'crm',
      entity: 'contact',
      id: contact.id,
      ifMatch: contact.version,
      fields: { [contactField]: value },
      changes: [change(primary.relation.id, contactField, contactValue, 'toCrm')],
      // Every relation's contact side depends on the contact's write.
      relationIds: targets.map((target) => target.relation.id),
    });
  }
  const shadow: PlannedShadow[] = [];
  for (const { relation, account, mapping } of targets) {
    const accountValue = fieldValue(account, mapping.account);
    // In the account's spelling; a value the map would hold is written as it is, as the admin chose it.
    const target = accountSpelling(mapping, value);
    const writesAccount = mapping.direction !== 'toCrm' && accountValue !== target;
    if (writesAccount) {
      writes.push({
        system: 'accounting',
        entity: relation.accountKind,
        id: account.id,
        ifMatch: account.version,
        fields: { [mapping.account]: target },
        changes: [{ ...change(relation.id, mapping.account, accountValue, 'toAccounting'), to: target }],
        relationIds: [relation.id],
      });
    }
    // Both rows follow every write naming the relation: one failure keeps the relation's old shadow.
    shadow.push(
      { relationId: relation.id, side: 'contact', field: contactField, value },
      {
        relationId: relation.id,
        side: 'account',
        field: mapping.account,
        value: writesAccount ? target : accountValue,
      },
    );
  }
  return { writes, conflicts: [], shadow, nothingChanged: writes.length === 0 };
}
