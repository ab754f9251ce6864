/** Unlinking: the relation goes (with its shadow), both records stay. */
import { KIND_WORDS, relationAudit, tandemInteraction, type RelationContext } from './context';
import { NotFoundProblem } from '../ports/problems';
import type { Actor } from '../ports/relations';
import type { BusinessRelation } from '../../core/model';

/** Removes a relation; both records stay. */
export async function unlink(context: RelationContext, relationId: string, actor: Actor): Promise<BusinessRelation> {
  const { store } = context.engine;
  const relation = await store.getRelation(relationId);
  if (relation === null || !(await store.deleteRelation(relationId)))
    throw new NotFoundProblem(`relation ${relationId} does not exist`);
  await store.appendAudit([relationAudit('unlink', relation, actor)]);
  await tandemInteraction(
    context.engine,
    {
      contactId: relation.contactId,
      type: 'unlinked',
      description: `unlinked from ${KIND_WORDS[relation.accountKind]} ${relation.accountId}; both records stay`,
      relationId,
      details: { accountKind: relation.accountKind, accountId: relation.accountId },
    },
    actor,
  );
  return relation;
}
