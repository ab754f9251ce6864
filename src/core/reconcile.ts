/**
 * Reconciling a contact and an account once, when they are linked: where a mapped field differs,
 * the winner's value is written to the other side. A one-way mapping is never written against
 * its direction: its master side wins whoever the request named. Pure: no I/O.
 */
import { writeKey } from './confirm';
import { fieldModifiedAt, fieldValue } from './fields';
import { inStep, translationOf } from './transform';
import type { Account, Contact, FieldMapping, FieldValue } from './model';
import { fieldsOf, type FieldChange, type PlannedShadow, type RecordWrite, type SyncPlan } from './plan';

/** Which side's values win. */
export type ReconcileWinner = 'contact' | 'account';

/** One mapped field, its values and where the reconciliation writes it. */
export interface ReconciledField {
  mapping: FieldMapping;
  contactValue: FieldValue;
  accountValue: FieldValue;
  /** The value both sides hold once the write succeeded, in the contact's spelling (see core/transform.ts). */
  final: FieldValue;
  /** The same value in the account's spelling. */
  accountFinal: FieldValue;
  /** The side written, or null when the values already agree. */
  written: 'contact' | 'account' | null;
}

/** The writes and shadow of a reconciliation, with the decision taken for each mapped field. */
export interface ReconcilePlan extends SyncPlan {
  fields: ReconciledField[];
}

/** Plans the writes that make a newly linked contact and account agree. */
export function planReconcile(input: {
  relationId: string;
  contact: Contact;
  account: Account;
  mappings: readonly FieldMapping[];
  winner: ReconcileWinner;
}): ReconcilePlan {
  const { contact, account, relationId } = input;
  const fields = input.mappings.map((mapping) => reconcileField(contact, account, mapping, input.winner));
  const contactChanges: FieldChange[] = fields.flatMap((field) =>
    field.written === 'contact'
      ? [
          {
            relationId,
            field: field.mapping.contact,
            from: field.contactValue,
            to: field.final,
            direction: 'toCrm',
            sourceSystem: 'accounting',
            sourceModifiedAt: fieldModifiedAt(account, field.mapping.account),
          },
        ]
      : [],
  );
  const accountChanges: FieldChange[] = fields.flatMap((field) =>
    field.written === 'account'
      ? [
          {
            relationId,
            field: field.mapping.account,
            from: field.accountValue,
            to: field.accountFinal,
            direction: 'toAccounting',
            sourceSystem: 'crm',
            sourceModifiedAt: fieldModifiedAt(contact, field.mapping.contact),
          },
        ]
      : [],
  );
  const contactWrite: RecordWrite = {
    system: 'crm',
    entity: 'contact',
    id: contact.id,
    ifMatch: contact.version,
    fields: fieldsOf(contactChanges),
    changes: contactChanges,
    relationIds: [relationId],
  };
  const accountWrite: RecordWrite = {
    system: 'accounting',
    entity: account.entity,
    id: account.id,
    ifMatch: account.version,
    fields: fieldsOf(accountChanges),
    changes: accountChanges,
    relationIds: [relationId],
  };
  const writes = [contactWrite, accountWrite].filter((write) => write.changes.length > 0);
  const writeOf = { contact: writeKey(contactWrite), account: writeKey(accountWrite) };
  return {
    fields,
    writes,
    conflicts: [],
    shadow: fields.flatMap((field) => reconciledShadow(relationId, field, writeOf)),
    nothingChanged: writes.length === 0,
  };
}

/**
 * Decides one mapped field: a one-way mapping's master side wins, else the requested winner. Values
 * are compared and written through the mapping's value map; one it holds for review is not written.
 */
function reconcileField(
  contact: Contact,
  account: Account,
  mapping: FieldMapping,
  winner: ReconcileWinner,
): ReconciledField {
  const contactValue = fieldValue(contact, mapping.contact);
  const accountValue = fieldValue(account, mapping.account);
  const asIs = { mapping, contactValue, accountValue, final: contactValue, accountFinal: accountValue, written: null };
  if (inStep(mapping, contactValue, accountValue) === true) return asIs;
  const source: ReconcileWinner =
    mapping.direction === 'toAccounting' ? 'contact' : mapping.direction === 'toCrm' ? 'account' : winner;
  const { toAccounting, toCrm } = translationOf(mapping);
  if (source === 'contact') {
    const spelled = toAccounting(contactValue);
    if ('held' in spelled || spelled.value === accountValue) return asIs;
    return {
      mapping,
      contactValue,
      accountValue,
      final: contactValue,
      accountFinal: spelled.value,
      written: 'account',
    };
  }
  const spelled = toCrm(accountValue);
  if ('held' in spelled || spelled.value === contactValue) return asIs;
  return { mapping, contactValue, accountValue, final: spelled.value, accountFinal: accountValue, written: 'contact' };
}

/**
 * Both sides of a field hold the final value once the write of that field succeeded. A failed
 * write leaves both sides' shadow at the losing value: the winner then counts as changed, so the
 * next sync writes it again instead of deciding afresh.
 */
function reconciledShadow(
  relationId: string,
  field: ReconciledField,
  writeOf: Record<'contact' | 'account', string>,
): PlannedShadow[] {
  // A field whose sides already agree follows no write: it holds whatever happens.
  const onFailure =
    field.written === null
      ? { follows: [] }
      : {
          follows: [writeOf[field.written]],
          ifFailed: { value: field.written === 'account' ? field.accountValue : field.contactValue },
        };
  return [
    { relationId, side: 'contact', field: field.mapping.contact, value: field.final, ...onFailure },
    { relationId, side: 'account', field: field.mapping.account, value: field.accountFinal, ...onFailure },
  ];
}
