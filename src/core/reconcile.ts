/**
 * Reconciling a contact and an account once, when they are linked: where a mapped field differs,
 * the winner's value is written to the other side. A one-way mapping is never written against
 * its direction: its master side wins whoever the request named. Pure: no I/O.
 */
import type { Account, Contact, FieldMapping, FieldValue } from './model';
import type { FieldChange, RecordWrite } from './plan';

/** Which side's values win. */
export type ReconcileWinner = 'contact' | 'account';

/** One mapped field, its values and where the reconciliation writes it. */
export interface ReconciledField {
  mapping: FieldMapping;
  contactValue: FieldValue;
  accountValue: FieldValue;
  /** The value both sides hold once the write succeeded. */
  final: FieldValue;
  /** The side written, or null when the values already agree. */
  written: 'contact' | 'account' | null;
}

/** The writes and the per-field decisions. */
export interface ReconcilePlan {
  fields: ReconciledField[];
  writes: RecordWrite[];
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
  const fields: ReconciledField[] = [];
  const toAccount: Record<string, FieldValue> = {};
  const toContact: Record<string, FieldValue> = {};
  const accountChanges: FieldChange[] = [];
  const contactChanges: FieldChange[] = [];
  for (const mapping of input.mappings) {
    const contactValue = contact.fields[mapping.contact as keyof Contact['fields']] ?? null;
    const accountValue = account.fields[mapping.account as keyof Account['fields']] ?? null;
    if (contactValue === accountValue) {
      fields.push({ mapping, contactValue, accountValue, final: contactValue, written: null });
      continue;
    }
    const source: ReconcileWinner =
      mapping.direction === 'toAccounting' ? 'contact' : mapping.direction === 'toCrm' ? 'account' : input.winner;
    if (source === 'contact') {
      toAccount[mapping.account] = contactValue;
      accountChanges.push({
        relationId,
        field: mapping.account,
        from: accountValue,
        to: contactValue,
        direction: 'toAccounting',
        sourceSystem: 'crm',
        sourceModifiedAt: contact.fieldModifiedAt?.[mapping.contact as keyof Contact['fields']] ?? contact.modifiedAt,
      });
      fields.push({ mapping, contactValue, accountValue, final: contactValue, written: 'account' });
    } else {
      toContact[mapping.contact] = accountValue;
      contactChanges.push({
        relationId,
        field: mapping.contact,
        from: contactValue,
        to: accountValue,
        direction: 'toCrm',
        sourceSystem: 'accounting',
        sourceModifiedAt: account.fieldModifiedAt?.[mapping.account as keyof Account['fields']] ?? account.modifiedAt,
      });
      fields.push({ mapping, contactValue, accountValue, final: accountValue, written: 'contact' });
    }
  }
  const writes: RecordWrite[] = [];
  if (contactChanges.length > 0) {
    writes.push({
      system: 'crm',
      entity: 'contact',
      id: contact.id,
      ifMatch: contact.version,
      fields: toContact,
      changes: contactChanges,
      relationIds: [relationId],
    });
  }
  if (accountChanges.length > 0) {
    writes.push({
      system: 'accounting',
      entity: account.entity,
      id: account.id,
      ifMatch: account.version,
      fields: toAccount,
      changes: accountChanges,
      relationIds: [relationId],
    });
  }
  return { fields, writes };
}
