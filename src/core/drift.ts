/**
 * Drift: where a relation's two records and its shadow no longer tell one consistent story. It is
 * what a lost change leaves behind (a webhook never delivered, queued jobs dropped by a Redis
 * crash after the poll cursor moved on, an edit made while tandem was down), and the drift sweep
 * looks for it on every relation. Each finding names its cause, which decides the repair:
 *
 * - `missed`: the records differ and at least one of them differs from its shadow, so a change
 *   was never carried. The normal sync carries it.
 * - `inconsistent`: the records differ although each still holds its shadow: the shadow claims
 *   they agreed. The shadow of that field is forgotten, so the sync decides it afresh.
 * - `shadow`: the records agree but the shadow does not (or has no entry): nothing to write, the
 *   sync records the shadow again.
 *
 * A field that flows one way only may legitimately differ when the receiving side was edited;
 * that is not drift.
 */
import { fieldValue } from './fields';
import { inStep } from './transform';
import type { Account, Contact, FieldMapping, FieldValue } from './model';
import type { ShadowValue } from './plan';

/** Why a field drifted (see the file comment). */
export type DriftCause = 'missed' | 'inconsistent' | 'shadow';

/** One field of one relation that drifted. */
export interface DriftedField {
  /** The contact's field and the account's field of the mapping. */
  contactField: string;
  accountField: string;
  contactValue: FieldValue;
  accountValue: FieldValue;
  /** The shadow of each side; undefined where it has no entry. */
  shadowContact: FieldValue | undefined;
  shadowAccount: FieldValue | undefined;
  cause: DriftCause;
}

/** What one relation's records and shadow are compared with. */
export interface DriftInput {
  contact: Contact;
  account: Account;
  mappings: readonly FieldMapping[];
  /** Keyed by `contact.<field>` and `account.<field>`, as the planner reads it. */
  shadow: ReadonlyMap<string, ShadowValue>;
}

/** The drifted fields of one relation; empty when records and shadow agree. */
export function findDrift({ contact, account, mappings, shadow }: DriftInput): DriftedField[] {
  const drifted: DriftedField[] = [];
  for (const mapping of mappings) {
    // Nothing is written to an archived account, so only what flows to the CRM can drift.
    const direction = account.archived ? 'toCrm' : mapping.direction;
    if (account.archived && mapping.direction === 'toAccounting') continue;
    const contactValue = fieldValue(contact, mapping.contact);
    const accountValue = fieldValue(account, mapping.account);
    const shadowContact = shadow.get(`contact.${mapping.contact}`)?.value;
    const shadowAccount = shadow.get(`account.${mapping.account}`)?.value;
    const contactMoved = contactValue !== shadowContact;
    const accountMoved = accountValue !== shadowAccount;
    let cause: DriftCause | null = null;
    // Compared in the CRM's spelling; a value the mapping's value map holds for review is not drift.
    const agree = inStep(mapping, contactValue, accountValue);
    if (agree === 'held') continue;
    if (agree) {
      if (contactMoved || accountMoved) cause = 'shadow';
    } else if (direction === 'both') {
      cause = contactMoved || accountMoved ? 'missed' : 'inconsistent';
    } else {
      // One way only: the source side's unsynced change is drift; the receiving side's own edit is not.
      const sourceMoved = direction === 'toAccounting' ? contactMoved : accountMoved;
      const targetMoved = direction === 'toAccounting' ? accountMoved : contactMoved;
      if (sourceMoved) cause = 'missed';
      else if (!targetMoved) cause = 'inconsistent';
    }
    if (cause !== null) {
      drifted.push({
        contactField: mapping.contact,
        accountField: mapping.account,
        contactValue,
        accountValue,
        shadowContact,
        shadowAccount,
        cause,
      });
    }
  }
  return drifted;
}
