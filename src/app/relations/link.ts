/**
 * Linking an existing contact with an existing customer, vendor or bank account, and reconciling
 * the two once: the core plans the reconciliation and applyPlan writes the winner's differing
 * values through the normal write pipeline, so they are audited like any other field change, and
 * stores the shadow so the next change diffs against the reconciled values.
 */
import { mappingsFor } from '../../config/schema';
import type { Account, AccountKind, BusinessRelation, Contact } from '../../core/model';
import { planReconcile, type ReconcileWinner } from '../../core/reconcile';
import { applyPlan } from '../apply-plan';
import {
  createRelation,
  KIND_WORDS,
  readAccount,
  readContact,
  refuseTaken,
  relationAudit,
  requireCode,
  requireCompany,
  tandemInteraction,
  type RelationContext,
} from './context';
import { UpstreamProblem } from '../ports/problems';
import type { Actor, LinkResult } from '../ports/relations';

/**
 * Links a contact with an account and reconciles them once. `prefetched` are both records as a
 * caller just read (and observed) them in a batch, as the first sync does for many pairs at
 * once; without them, each is read here.
 */
export async function link(
  context: RelationContext,
  input: { contactId: string; accountKind: AccountKind; accountId: string; winner?: ReconcileWinner },
  actor: Actor,
  prefetched?: { contact: Contact; account: Account },
): Promise<LinkResult> {
  const { engine } = context;
  const winner = input.winner ?? 'contact';
  const relationCode = requireCode(engine, input.accountKind);
  if (prefetched && (prefetched.contact.id !== input.contactId || prefetched.account.id !== input.accountId))
    throw new Error(
      `the records handed to link (${prefetched.contact.id}, ${prefetched.account.id}) are not the pair asked for (${input.contactId}, ${input.accountId})`,
    );
  const contact = prefetched?.contact ?? (await readContact(engine, input.contactId));
  requireCompany(contact);
  const account = prefetched?.account ?? (await readAccount(engine, input.accountKind, input.accountId));
  await refuseTaken(engine, contact.id, input.accountKind, account.id);

  const relation = await createRelation(engine, {
    contactId: contact.id,
    accountKind: input.accountKind,
    accountId: account.id,
    relationCode,
    origin: 'linked',
  });
  await engine.store.appendAudit([relationAudit('link', relation, actor, { winner, origin: 'linked' })]);
  await tandemInteraction(
    engine,
    {
      contactId: contact.id,
      type: 'linked',
      description: `linked with ${KIND_WORDS[relation.accountKind]} ${account.number ?? account.id}`,
      relationId: relation.id,
      details: { accountKind: relation.accountKind, accountId: account.id, winner },
    },
    actor,
  );
  return reconcile(context, relation, contact, account, winner);
}

/** Writes the winner's differing values to the other side and stores the shadow. */
async function reconcile(
  context: RelationContext,
  relation: BusinessRelation,
  contact: Contact,
  account: Account,
  winner: ReconcileWinner,
): Promise<LinkResult> {
  const { engine } = context;
  const mappings = mappingsFor(engine.config, relation.accountKind);
  const plan = planReconcile({ relationId: relation.id, contact, account, mappings, winner });
  const applied = await applyPlan(engine, {
    plan,
    basis: { contact, linked: [{ relation, account }] },
    planId: `link-${relation.id}`,
    audit: { details: { reason: 'link', winner } },
  });
  if (applied.failures.length > 0) {
    const reasons = applied.failures.map((failure) => `${failure.target}: ${failure.error}`).join('; ');
    throw new UpstreamProblem(
      `relation ${relation.id} was created, but reconciling failed (${reasons}); the next sync retries it`,
    );
  }
  const changes = applied.written.flatMap(({ write }) =>
    write.changes.map((change) => ({
      side: write.system === 'crm' ? ('contact' as const) : ('account' as const),
      field: change.field,
      from: change.from,
      to: change.to,
    })),
  );
  return { relation, changes };
}
