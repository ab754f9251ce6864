/**
 * Person contacts: a person's own fields reach the accounts of its company only when
 * `persons.fieldsToAccount` lists them (default: none, so a person's phone or e-mail never
 * overwrites the company's account). The listed fields are written, mapped through each kind's
 * mappings, and the account side of the shadow follows, so the next sync of the company does not
 * take the person's value for a change of the account and carry it to the company contact.
 */
import { mappingsFor } from '../../config/schema';
import { writeKey } from '../../core/confirm';
import type { Account, Contact, FieldValue } from '../../core/model';
import type { RecordWrite } from '../../core/plan';
import type { NewAuditEntry, ShadowEntry } from '../ports/store';
import type { Engine } from '../ports/index';
import { fieldChangeEntry } from '../audit';
import { findAccount, findContact } from './context';

/** Writes a person's listed fields to its company's accounts; returns how many fields were written. */
export async function syncPersonFields(engine: Engine, personId: string, planId: string): Promise<number> {
  const listed = new Set(engine.config.persons.fieldsToAccount);
  if (listed.size === 0) return 0;
  const person = await findContact(engine, personId);
  if (person === null || person.type !== 'person' || person.companyId === null) return 0;
  const relations = (await engine.store.findRelationsByContact(person.companyId)).filter(
    (relation) => engine.config.relationCodes[relation.accountKind] !== null,
  );
  const writes: RecordWrite[] = [];
  const accounts = new Map<string, Account>();
  for (const relation of relations) {
    const account = await findAccount(engine, relation.accountKind, relation.accountId);
    if (account === null) continue;
    accounts.set(relation.id, account);
    const fields: Record<string, FieldValue> = {};
    const changes: RecordWrite['changes'] = [];
    for (const mapping of mappingsFor(engine.config, relation.accountKind)) {
      if (!listed.has(mapping.contact) || mapping.direction === 'toCrm') continue;
      const value = person.fields[mapping.contact as keyof Contact['fields']] ?? null;
      const current = account.fields[mapping.account as keyof Account['fields']] ?? null;
      if (value === null || value === current) continue;
      fields[mapping.account] = value;
      changes.push({
        relationId: relation.id,
        field: mapping.account,
        from: current,
        to: value,
        direction: 'toAccounting',
        sourceSystem: 'crm',
        sourceModifiedAt: person.modifiedAt,
      });
    }
    if (changes.length > 0)
      writes.push({
        system: 'accounting',
        entity: relation.accountKind,
        id: account.id,
        ifMatch: account.version,
        fields,
        changes,
        relationIds: [relation.id],
      });
  }
  if (writes.length === 0) return 0;
  const outcomes = await engine.writes.dispatch(writes, { planId });
  const now = new Date().toISOString();
  const shadow: ShadowEntry[] = [];
  const audit: NewAuditEntry[] = [];
  let written = 0;
  for (const write of writes) {
    const outcome = outcomes.get(writeKey(write));
    if (!outcome?.ok) continue;
    const relation = relations.find((candidate) => candidate.id === write.relationIds[0]);
    for (const change of write.changes) {
      written++;
      shadow.push({
        relationId: change.relationId,
        side: 'account',
        field: change.field,
        value: change.to,
        sourceModifiedAt: outcome.record.modifiedAt,
        syncedAt: now,
      });
      if (relation) {
        audit.push(
          fieldChangeEntry(relation, change, outcome.jobId, {
            direction: 'toAccounting',
            sourceSystem: 'crm',
            details: { person: person.id, reason: 'persons.fieldsToAccount' },
          }),
        );
      }
    }
  }
  if (shadow.length > 0) await engine.store.recordSync(shadow, audit);
  const failed = [...outcomes.values()].filter((outcome) => !outcome.ok);
  if (failed.length > 0)
    throw new Error(
      `writing person ${person.id}'s fields failed: ${failed.map((outcome) => (outcome.ok ? '' : outcome.error)).join('; ')}`,
    );
  return written;
}
