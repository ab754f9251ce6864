/**
 * Person contacts: a person's own fields reach the accounts of its company only when
 * `persons.fieldsToAccount` lists them (default: none, so a person's phone or e-mail never
 * overwrites the company's account). The core plans the writes (planPersonFields) and only the
 * account side of the shadow follows them; applyPlan writes, audits and stores.
 */
import { mappingsFor } from '../../config/schema';
import { planPersonFields, type CompanyAccount } from '../../core/person-fields';
import type { Engine } from '../ports/index';
import { applyPlan } from '../apply-plan';
import { findAccount, findContact } from './context';

/** Writes a person's listed fields to its company's accounts; returns how many fields were written. */
export async function syncPersonFields(engine: Engine, personId: string, planId: string): Promise<number> {
  const listed = engine.config.persons.fieldsToAccount;
  if (listed.length === 0) return 0;
  const person = await findContact(engine, personId);
  if (person === null || person.type !== 'person' || person.companyId === null) return 0;
  const relations = (await engine.store.findRelationsByContact(person.companyId)).filter(
    (relation) => engine.config.relationCodes[relation.accountKind] !== null,
  );
  const accounts: CompanyAccount[] = [];
  for (const relation of relations) {
    const account = await findAccount(engine, relation.accountKind, relation.accountId);
    if (account !== null)
      accounts.push({ relation, account, mappings: mappingsFor(engine.config, relation.accountKind) });
  }
  const plan = planPersonFields({ person, listed, accounts });
  if (plan.writes.length === 0) return 0;
  const applied = await applyPlan(engine, {
    plan,
    // The company contact was not read: the plan keeps no contact-side shadow.
    basis: { contact: null, linked: accounts },
    planId,
    audit: { details: { person: person.id, reason: 'persons.fieldsToAccount' } },
  });
  if (applied.failures.length > 0)
    throw new Error(
      `writing person ${person.id}'s fields failed: ${applied.failures.map((failure) => failure.error).join('; ')}`,
    );
  return applied.written.reduce((count, { write }) => count + write.changes.length, 0);
}
