/**
 * Linking an existing contact with an existing customer, vendor or bank account, and reconciling
 * the two once: the winner's differing values are written through the normal write pipeline, so
 * they are audited like any other field change, and the shadow is stored so the next change
 * diffs against the reconciled values.
 */
import { mappingsFor } from '../../config/schema';
import { writeKey, type WriteOutcome } from '../../core/confirm';
import type { Account, AccountKind, BusinessRelation, Contact } from '../../core/model';
import { planReconcile, type ReconcileWinner } from '../../core/reconcile';
import type { NewAuditEntry, ShadowEntry } from '../ports/store';
import { fieldChangeEntry } from '../audit';
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
import { UpstreamProblem, type Actor, type LinkResult } from './types';

/** Links a contact with an account and reconciles them once. */
export async function link(
  context: RelationContext,
  input: { contactId: string; accountKind: AccountKind; accountId: string; winner?: ReconcileWinner },
  actor: Actor,
): Promise<LinkResult> {
  const { engine } = context;
  const winner = input.winner ?? 'contact';
  const relationCode = requireCode(engine, input.accountKind);
  const contact = await readContact(engine, input.contactId);
  requireCompany(contact);
  const account = await readAccount(engine, input.accountKind, input.accountId);
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
  const outcomes =
    plan.writes.length > 0
      ? await engine.writes.dispatch(plan.writes, { planId: `link-${relation.id}` })
      : new Map<string, WriteOutcome>();
  const outcomeOf = (side: 'contact' | 'account'): WriteOutcome | undefined =>
    outcomes.get(
      side === 'contact'
        ? writeKey({ system: 'crm', entity: 'contact', id: contact.id })
        : writeKey({ system: 'accounting', entity: account.entity, id: account.id }),
    );

  const now = new Date().toISOString();
  const modifiedAt = (side: 'contact' | 'account') => {
    const outcome = outcomeOf(side);
    return outcome?.ok ? outcome.record.modifiedAt : side === 'contact' ? contact.modifiedAt : account.modifiedAt;
  };
  const shadow: ShadowEntry[] = [];
  const changes: LinkResult['changes'] = [];
  for (const field of plan.fields) {
    const written = field.written === null || outcomeOf(field.written)?.ok === true;
    // A failed write leaves both sides' shadow at the losing value: the winner then counts as
    // changed, so the next sync writes it again instead of deciding afresh.
    const loserValue = field.written === 'account' ? field.accountValue : field.contactValue;
    const value = written ? field.final : loserValue;
    shadow.push({
      relationId: relation.id,
      side: 'contact',
      field: field.mapping.contact,
      value,
      sourceModifiedAt: modifiedAt('contact'),
      syncedAt: now,
    });
    shadow.push({
      relationId: relation.id,
      side: 'account',
      field: field.mapping.account,
      value,
      sourceModifiedAt: modifiedAt('account'),
      syncedAt: now,
    });
    if (field.written !== null && written) {
      const from = field.written === 'account' ? field.accountValue : field.contactValue;
      changes.push({
        side: field.written,
        field: field.written === 'account' ? field.mapping.account : field.mapping.contact,
        from,
        to: field.final,
      });
    }
  }
  const audit: NewAuditEntry[] = [];
  for (const write of plan.writes) {
    const outcome = outcomes.get(writeKey(write));
    if (!outcome?.ok) continue;
    for (const change of write.changes) {
      audit.push(fieldChangeEntry(relation, change, outcome.jobId, { details: { reason: 'link', winner } }));
    }
  }
  await engine.store.recordSync(shadow, audit);

  const failures = [...outcomes.entries()].filter(([, outcome]) => !outcome.ok);
  if (failures.length > 0) {
    const reasons = failures.map(([target, outcome]) => `${target}: ${outcome.ok ? '' : outcome.error}`).join('; ');
    throw new UpstreamProblem(
      `relation ${relation.id} was created, but reconciling failed (${reasons}); the next sync retries it`,
    );
  }
  return { relation, changes };
}
