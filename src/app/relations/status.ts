/**
 * The status of one relation: both records read fresh, each mapped field side by side, which
 * side changed it last (compared with the shadow), pending jobs, the last failure and the last
 * conflicts.
 */
import { filteredSide } from '../../core/filter';
import { inStep } from '../../core/transform';
import { mappingsFor } from '../../config/schema';
import type { Account, Contact, FieldValue } from '../../core/model';
import type { ShadowEntry } from '../ports/store';
import { findAccount, findContact, type RelationContext } from './context';
import { NotFoundProblem } from '../ports/problems';
import type { FieldStatus, RelationStatus } from '../ports/relations';

/** Which side changed a field since the last sync: the one that differs from its shadow; both: the later. */
export function newerSide(input: {
  contactValue: FieldValue;
  accountValue: FieldValue;
  contactShadow: ShadowEntry | undefined;
  accountShadow: ShadowEntry | undefined;
  contactTime: string | null;
  accountTime: string | null;
}): 'contact' | 'account' | null {
  const contactChanged = input.contactShadow !== undefined && input.contactShadow.value !== input.contactValue;
  const accountChanged = input.accountShadow !== undefined && input.accountShadow.value !== input.accountValue;
  if (contactChanged && !accountChanged) return 'contact';
  if (accountChanged && !contactChanged) return 'account';
  if (!contactChanged && !accountChanged) return null;
  const contactAt = input.contactTime ? Date.parse(input.contactTime) : Number.NaN;
  const accountAt = input.accountTime ? Date.parse(input.accountTime) : Number.NaN;
  if (Number.isNaN(contactAt) || Number.isNaN(accountAt) || contactAt === accountAt) return null;
  return contactAt > accountAt ? 'contact' : 'account';
}

/** Everything about one relation. */
export async function relationStatus(context: RelationContext, relationId: string): Promise<RelationStatus> {
  const { engine } = context;
  const relation = await engine.store.getRelation(relationId);
  if (relation === null) throw new NotFoundProblem(`relation ${relationId} does not exist`);
  const [contact, account, shadow] = await Promise.all([
    findContact(engine, relation.contactId),
    findAccount(engine, relation.accountKind, relation.accountId),
    engine.store.getShadow(relation.id),
  ]);
  const shadowOf = new Map(shadow.map((entry) => [`${entry.side}.${entry.field}`, entry]));
  const fields: FieldStatus[] = mappingsFor(engine.config, relation.accountKind).map((mapping) => {
    const contactValue = contact?.fields[mapping.contact as keyof Contact['fields']] ?? null;
    const accountValue = account?.fields[mapping.account as keyof Account['fields']] ?? null;
    return {
      contactField: mapping.contact,
      accountField: mapping.account,
      direction: mapping.direction,
      contactValue,
      accountValue,
      inSync: contact !== null && account !== null && inStep(mapping, contactValue, accountValue) === true,
      newer: newerSide({
        contactValue,
        accountValue,
        contactShadow: contact ? shadowOf.get(`contact.${mapping.contact}`) : undefined,
        accountShadow: account ? shadowOf.get(`account.${mapping.account}`) : undefined,
        contactTime: contact
          ? (contact.fieldModifiedAt?.[mapping.contact as keyof Contact['fields']] ?? contact.modifiedAt)
          : null,
        accountTime: account
          ? (account.fieldModifiedAt?.[mapping.account as keyof Account['fields']] ?? account.modifiedAt)
          : null,
      }),
    };
  });
  const targets = [
    { entity: 'contact' as const, id: relation.contactId },
    { entity: relation.accountKind, id: relation.accountId },
  ];
  const [pendingJobs, lastError] = context.jobs
    ? await Promise.all([context.jobs.pendingFor(targets), context.jobs.lastFailureFor(targets)])
    : [[], null];
  // The audit log reads oldest first; the relation's conflicts are few, so read them and keep the newest.
  const conflicts = await engine.store.queryAudit({ relationId: relation.id, kind: 'conflict', limit: 10_000 });
  return {
    relation,
    contact,
    account,
    fields,
    inSync: fields.every((field) => field.inSync),
    filtered: contact && account ? filteredSide(engine.config.filters[relation.accountKind], contact, account) : null,
    pendingJobs,
    lastError,
    lastConflicts: conflicts.slice(-5).reverse(),
  };
}
