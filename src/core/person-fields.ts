/**
 * Person contacts: a person's own fields reach the accounts of its company only when the config
 * lists them (persons.fieldsToAccount). Pure: no I/O.
 *
 * Only the account side of the shadow follows such a write. The company contact keeps its own
 * value and its shadow, so the next sync of the company does not take the person's value for a
 * change of the account and carry it to the company contact.
 */
import { fieldValue } from './fields';
import type { Account, BusinessRelation, Contact, FieldMapping } from './model';
import { fieldsOf, type FieldChange, type PlannedShadow, type RecordWrite, type SyncPlan } from './plan';

/** One relation of the person's company, with its account as read and its kind's mappings. */
export interface CompanyAccount {
  relation: BusinessRelation;
  account: Account;
  mappings: readonly FieldMapping[];
}

/** Plans the writes of a person's listed fields to its company's accounts. */
export function planPersonFields(input: {
  person: Contact;
  /** The contact fields a person may write to its company's accounts. */
  listed: readonly string[];
  accounts: readonly CompanyAccount[];
}): SyncPlan {
  const listed = new Set(input.listed);
  const writes: RecordWrite[] = [];
  const shadow: PlannedShadow[] = [];
  for (const { relation, account, mappings } of input.accounts) {
    const changes = mappings.flatMap((mapping): FieldChange[] => {
      if (!listed.has(mapping.contact) || mapping.direction === 'toCrm') return [];
      const value = fieldValue(input.person, mapping.contact);
      const current = fieldValue(account, mapping.account);
      // A person without the field leaves the account's value alone.
      if (value === null || value === current) return [];
      return [
        {
          relationId: relation.id,
          field: mapping.account,
          from: current,
          to: value,
          direction: 'toAccounting',
          sourceSystem: 'crm',
          sourceModifiedAt: input.person.modifiedAt,
        },
      ];
    });
    if (changes.length === 0) continue;
    writes.push({
      system: 'accounting',
      entity: relation.accountKind,
      id: account.id,
      ifMatch: account.version,
      fields: fieldsOf(changes),
      changes,
      relationIds: [relation.id],
    });
    // Rows follow the relation's write: a failed write leaves the previous shadow in place.
    shadow.push(
      ...changes.map((change): PlannedShadow => ({
        relationId: relation.id,
        side: 'account',
        field: change.field,
        value: change.to,
      })),
    );
  }
  return { writes, conflicts: [], shadow, nothingChanged: writes.length === 0 };
}
