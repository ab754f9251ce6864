/**
 * Writes one value of one contact field to the contact and to every linked account whose mapping
 * lets it flow there, under the contact's lock. Used by "apply the losing value" and by "undo".
 * The core plans the writes and the shadow (planFieldWrite: a relation whose write failed keeps
 * its old shadow); applyPlan writes them through the normal write pipeline and stores the shadow
 * and the audit entries together.
 */
import { mappingsFor } from '../../config/schema';
import { planFieldWrite, type FieldWriteTarget } from '../../core/field-write';
import type { FieldValue } from '../../core/model';
import type { Engine } from '../ports/index';
import { applyPlan } from '../apply-plan';
import { findAccount, readContact, underContactLock } from '../relations/context';
import { ConflictProblem, UpstreamProblem } from '../ports/problems';

/** What to write and how to audit it. */
export interface FieldWriteRequest {
  contactId: string;
  /** The field's name on the contact. */
  contactField: string;
  value: FieldValue;
  /** The relation the contact's own write is audited under (default: the first that maps the field). */
  relationId?: string | null;
  planId: string;
  /** Added to every audit entry's details. */
  details: Record<string, unknown>;
}

/** Writes the value where it is missing; returns how many records were written. */
export function writeFieldEverywhere(engine: Engine, request: FieldWriteRequest): Promise<{ writes: number }> {
  return underContactLock(engine, request.contactId, () => writeUnderLock(engine, request));
}

async function writeUnderLock(engine: Engine, request: FieldWriteRequest): Promise<{ writes: number }> {
  const { store, config } = engine;
  const relations = (await store.findRelationsByContact(request.contactId)).filter(
    (relation) => config.relationCodes[relation.accountKind] !== null,
  );
  const contact = await readContact(engine, request.contactId);
  const targets: FieldWriteTarget[] = [];
  for (const relation of relations) {
    const mapping = mappingsFor(config, relation.accountKind).find(
      (candidate) => candidate.contact === request.contactField,
    );
    if (!mapping) continue;
    const account = await findAccount(engine, relation.accountKind, relation.accountId);
    if (account !== null) targets.push({ relation, account, mapping });
  }
  if (targets.length === 0) {
    throw new ConflictProblem(
      'NO_RELATION',
      `contact ${request.contactId} has no synchronized relation that maps '${request.contactField}'`,
    );
  }
  const plan = planFieldWrite({
    contact,
    contactField: request.contactField,
    value: request.value,
    targets,
    auditRelationId: request.relationId,
    decidedAt: new Date().toISOString(),
  });
  const applied = await applyPlan(engine, {
    plan,
    basis: { contact, linked: targets },
    planId: request.planId,
    audit: { sourceSystem: 'tandem', details: request.details },
  });
  if (applied.failures.length > 0) {
    const failures = applied.failures.map((failure) => `${failure.target}: ${failure.error}`);
    throw new UpstreamProblem(`some writes failed (${failures.join('; ')}); the next sync carries the value on`);
  }
  return { writes: applied.written.reduce((count, { write }) => count + write.changes.length, 0) };
}
