/**
 * Writes one value of one contact field to the contact and to every linked account whose mapping
 * lets it flow there, through the normal write pipeline (engine.writes), then stores the shadow
 * and the audit entries together. Used by "apply the losing value" and by "undo".
 *
 * Both sides are written here rather than one side with the sync carrying it on: the shadow then
 * holds the written value on every side, so the records' own reports of these writes come back as
 * echoes and nothing moves again. A relation whose write failed keeps its old shadow, so the next
 * sync sees the side that was written as changed and finishes the job.
 */
import { mappingsFor } from '../../config/schema';
import { writeKey, type WriteOutcome } from '../../core/confirm';
import type { Account, BusinessRelation, Contact, FieldValue } from '../../core/model';
import type { FieldChange, RecordWrite } from '../../core/plan';
import type { NewAuditEntry, ShadowEntry } from '../ports/store';
import type { Engine } from '../ports/index';
import { fieldChangeEntry } from '../audit';
import { findAccount, readContact, underContactLock } from '../relations/context';
import { ConflictProblem, UpstreamProblem } from '../relations/types';

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

interface Target {
  relation: BusinessRelation;
  accountField: string;
  toAccounting: boolean;
  account: Account;
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
  const targets: Target[] = [];
  for (const relation of relations) {
    const mapping = mappingsFor(config, relation.accountKind).find(
      (candidate) => candidate.contact === request.contactField,
    );
    if (!mapping) continue;
    const account = await findAccount(engine, relation.accountKind, relation.accountId);
    if (account === null) continue;
    targets.push({ relation, accountField: mapping.account, toAccounting: mapping.direction !== 'toCrm', account });
  }
  if (targets.length === 0) {
    throw new ConflictProblem(
      'NO_RELATION',
      `contact ${request.contactId} has no synchronized relation that maps '${request.contactField}'`,
    );
  }
  const primary = targets.find((target) => target.relation.id === request.relationId) ?? (targets[0] as Target);
  const now = new Date().toISOString();
  const contactValue = contact.fields[request.contactField as keyof Contact['fields']] ?? null;
  const change = (
    relationId: string,
    field: string,
    from: FieldValue,
    direction: FieldChange['direction'],
  ): FieldChange => ({
    relationId,
    field,
    from,
    to: request.value,
    direction,
    sourceSystem: direction === 'toCrm' ? 'accounting' : 'crm',
    sourceModifiedAt: now,
  });

  const writes: RecordWrite[] = [];
  if (contactValue !== request.value) {
    writes.push({
      system: 'crm',
      entity: 'contact',
      id: contact.id,
      ifMatch: contact.version,
      fields: { [request.contactField]: request.value },
      changes: [change(primary.relation.id, request.contactField, contactValue, 'toCrm')],
      relationIds: targets.map((target) => target.relation.id),
    });
  }
  for (const target of targets) {
    const accountValue = target.account.fields[target.accountField as keyof Account['fields']] ?? null;
    if (!target.toAccounting || accountValue === request.value) continue;
    writes.push({
      system: 'accounting',
      entity: target.relation.accountKind,
      id: target.account.id,
      ifMatch: target.account.version,
      fields: { [target.accountField]: request.value },
      changes: [change(target.relation.id, target.accountField, accountValue, 'toAccounting')],
      relationIds: [target.relation.id],
    });
  }
  const outcomes =
    writes.length > 0
      ? await engine.writes.dispatch(writes, { planId: request.planId })
      : new Map<string, WriteOutcome>();
  const outcomeOf = (write: Pick<RecordWrite, 'system' | 'entity' | 'id'>) => outcomes.get(writeKey(write));
  const contactKey = { system: 'crm' as const, entity: 'contact' as const, id: contact.id };
  const contactOutcome = outcomeOf(contactKey);
  const contactWritten = contactValue === request.value || contactOutcome?.ok === true;

  const shadow: ShadowEntry[] = [];
  for (const target of targets) {
    const accountKey = { system: 'accounting' as const, entity: target.relation.accountKind, id: target.account.id };
    const planned = writes.some((write) => writeKey(write) === writeKey(accountKey));
    const accountOutcome = outcomeOf(accountKey);
    if (!contactWritten || (planned && accountOutcome?.ok !== true)) continue;
    const accountValue = target.account.fields[target.accountField as keyof Account['fields']] ?? null;
    shadow.push(
      {
        relationId: target.relation.id,
        side: 'contact',
        field: request.contactField,
        value: request.value,
        sourceModifiedAt: contactOutcome?.ok ? contactOutcome.record.modifiedAt : contact.modifiedAt,
        syncedAt: now,
      },
      {
        relationId: target.relation.id,
        side: 'account',
        field: target.accountField,
        value: planned ? request.value : accountValue,
        sourceModifiedAt: accountOutcome?.ok ? accountOutcome.record.modifiedAt : target.account.modifiedAt,
        syncedAt: now,
      },
    );
  }
  const relationOf = new Map(targets.map((target) => [target.relation.id, target.relation]));
  const audit: NewAuditEntry[] = [];
  for (const write of writes) {
    const outcome = outcomeOf(write);
    if (!outcome?.ok) continue;
    for (const written of write.changes) {
      const relation = relationOf.get(written.relationId) ?? primary.relation;
      audit.push(
        fieldChangeEntry(relation, written, outcome.jobId, {
          sourceSystem: 'tandem',
          sourceModifiedAt: now,
          details: request.details,
        }),
      );
    }
  }
  if (shadow.length > 0 || audit.length > 0) await store.recordSync(shadow, audit);
  const failures = [...outcomes.entries()].flatMap(([target, outcome]) =>
    outcome.ok ? [] : [`${target}: ${outcome.error}`],
  );
  if (failures.length > 0)
    throw new UpstreamProblem(`some writes failed (${failures.join('; ')}); the next sync carries the value on`);
  return { writes: audit.length };
}
