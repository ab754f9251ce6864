/** The interaction log per contact: tandem's own actions and ones reported through the API. */
import { z } from 'zod';
import { findContact, toInteraction, type RelationContext } from './context';
import { InvalidInputProblem, NotFoundProblem } from '../ports/problems';
import type { Actor, Interaction } from '../ports/relations';

const interactionInput = z.object({
  type: z
    .string()
    .min(1)
    .max(40)
    .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'a word of letters, digits, - or _, starting with a letter'),
  description: z.string().trim().min(1).max(500),
  occurredAt: z.iso.datetime({ offset: true }).optional(),
  who: z.string().trim().min(1).max(200).optional(),
  relationId: z.string().min(1).optional(),
});

/** A contact's interactions, newest first. */
export async function listInteractions(context: RelationContext, contactId: string): Promise<Interaction[]> {
  return (await context.engine.store.listInteractions(contactId)).map(toInteraction);
}

/** Records an external interaction (an e-mail sent, a document printed) for a contact. */
export async function recordInteraction(
  context: RelationContext,
  contactId: string,
  input: { type: string; description: string; occurredAt?: string; who?: string; relationId?: string },
  actor: Actor,
): Promise<Interaction> {
  const parsed = interactionInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputProblem(issue?.path.join('.') || 'input', issue?.message ?? 'invalid');
  }
  const { engine } = context;
  if (parsed.data.relationId !== undefined) {
    const relation = await engine.store.getRelation(parsed.data.relationId);
    if (relation === null || relation.contactId !== contactId)
      throw new NotFoundProblem(`relation ${parsed.data.relationId} of contact ${contactId} does not exist`);
  }
  if ((await findContact(engine, contactId)) === null)
    throw new NotFoundProblem(`contact ${contactId} does not exist in the CRM`);
  const stored = await engine.store.appendInteraction({
    contactId,
    type: parsed.data.type,
    description: parsed.data.description,
    occurredAt: new Date(parsed.data.occurredAt ?? Date.now()).toISOString(),
    who: parsed.data.who ?? actor.name,
    source: 'external',
    relationId: parsed.data.relationId ?? null,
    details: null,
  });
  return toInteraction(stored);
}
