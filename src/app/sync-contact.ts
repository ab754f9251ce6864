/**
 * The use case behind every change: bring one contact and all its linked accounts in step.
 * Reads both sides fresh, plans with the pure core and applies the plan (applyPlan). Callers
 * serialize runs per contact.
 */
import { isAccount, isContact } from '../../connectors/kit/types';
import { mappingsFor } from '../config/schema';
import type { WriteFailure } from '../core/confirm';
import type { Account, AccountKind, BusinessRelation } from '../core/model';
import { filteredSide } from '../core/filter';
import { planSync, type LinkedAccount, type ShadowValue } from '../core/plan';
import type { ShadowEntry } from './ports/store';
import type { Engine } from './ports/index';
import { applyPlan, settleStagedAudit, type AuditAs } from './apply-plan';

/** How one run ended. */
export type SyncOutcome =
  | { status: 'synced'; writes: number; conflicts: number }
  | { status: 'unchanged' }
  | { status: 'noRelations' }
  /** Every relation of the contact is left out by a sync filter: nothing was written. */
  | { status: 'filtered' }
  | { status: 'contactDeleted'; relationsRemoved: number }
  /** The CRM merged the contact into `into`: its relations moved there (or were removed where `into` had one of the kind). */
  | { status: 'contactMerged'; into: string; moved: number; removed: number };

/** A write failed; the shadow of the relations it concerned was held back, so a retry redoes it. */
export class WritesFailedError extends Error {
  readonly code = 'WRITES_FAILED';
  constructor(readonly failures: WriteFailure[]) {
    super(`writes failed: ${failures.map((failure) => `${failure.target}: ${failure.error}`).join('; ')}`);
    this.name = 'WritesFailedError';
  }

  /** True when some target changed under the plan (HTTP 412): reading again can fix it. */
  get stale(): boolean {
    return this.failures.some((failure) => failure.code === 'PRECONDITION_FAILED');
  }

  /**
   * True when every failure will repeat on a retry as it is (refused credentials, a payload the
   * provider rejects): retrying the change would only send the same write again.
   */
  get permanent(): boolean {
    return this.failures.every((failure) => failure.code !== undefined && PERMANENT_CODES.has(failure.code));
  }
}

const PERMANENT_CODES = new Set(['AUTH_FAILED', 'INVALID_REQUEST', 'INVALID_RESPONSE']);

/** Re-plans at most this often when a target changed under us (HTTP 412). */
const MAX_REPLANS = 3;

/** Brings a contact and its linked accounts in step. */
export async function syncContact(
  engine: Engine,
  contactId: string,
  planId: string,
  audit?: AuditAs,
): Promise<SyncOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await syncOnce(engine, contactId, `${planId}-${attempt}`, audit);
    } catch (error) {
      // Someone changed a record between our read and our write: read again and plan again.
      if (error instanceof WritesFailedError && error.stale && attempt < MAX_REPLANS) {
        engine.logger.info({ contactId, attempt }, 'a record changed while writing; re-reading and planning again');
        continue;
      }
      throw error;
    }
  }
}

async function syncOnce(engine: Engine, contactId: string, planId: string, audit?: AuditAs): Promise<SyncOutcome> {
  const { store, config } = engine;
  const relations = (await store.findRelationsByContact(contactId)).filter(
    (relation) => config.relationCodes[relation.accountKind] !== null,
  );
  if (relations.length === 0) return { status: 'noRelations' };
  // What an earlier plan of this contact wrote but never recorded is recorded first.
  await settleStagedAudit(engine, contactId);

  const read = await engine.crm.get('contact', contactId);
  if (read === null)
    return { status: 'contactDeleted', relationsRemoved: await removeContactRelations(engine, contactId) };
  if (isContact(read) && read.mergedInto) return moveMergedContact(engine, contactId, read.mergedInto);
  if (!isContact(read)) throw new Error(`CRM returned a ${read.entity} for contact ${contactId}`);
  // Each field is planned with the time tandem saw it change, not the record's latest (core/observe.ts).
  const [contactRecord = read] = await store.observeRecords('crm', [read]);

  const accounts = await readAccounts(engine, relations);
  const merged = relations.filter(
    (relation) => accounts.get(`${relation.accountKind}-${relation.accountId}`)?.mergedInto,
  );
  if (merged.length > 0) {
    if ((planId.match(/-m/g) ?? []).length >= 5)
      throw new Error(`contact ${contactId}: accounts merged into each other in a loop`);
    for (const relation of merged)
      await moveMergedRelation(
        engine,
        relation,
        accounts.get(`${relation.accountKind}-${relation.accountId}`)?.mergedInto as string,
      );
    // Plan again with the relations as they now stand.
    return syncOnce(engine, contactId, `${planId}-m`, audit);
  }
  const shadows = await store.getShadows(relations.map((relation) => relation.id));
  const linked: LinkedAccount[] = [];
  let filtered = 0;
  for (const relation of relations) {
    const account = accounts.get(`${relation.accountKind}-${relation.accountId}`) ?? null;
    if (account === null) {
      await removeAccountRelation(engine, relation);
      continue;
    }
    // A relation a sync filter leaves out stays as it is: nothing is planned, its shadow keeps.
    if (filteredSide(config.filters[relation.accountKind], contactRecord, account) !== null) {
      filtered++;
      continue;
    }
    const mappings = mappingsFor(config, relation.accountKind);
    linked.push({
      relation,
      account,
      // An archived account stays linked, but nothing is written to it: its changes may still reach the contact.
      mappings: account.archived
        ? mappings
            .filter((mapping) => mapping.direction !== 'toAccounting')
            .map((mapping) => ({ ...mapping, direction: 'toCrm' as const }))
        : mappings,
      shadow: toShadowMap(shadows.get(relation.id) ?? []),
    });
  }
  if (linked.length === 0) return { status: filtered > 0 ? 'filtered' : 'noRelations' };

  const plan = planSync({ contact: contactRecord, linked, tieBreak: config.conflicts.tieBreak });
  if (plan.nothingChanged) engine.observer?.echoSuppressed?.('any');

  const applied = await applyPlan(engine, {
    plan,
    basis: { contact: contactRecord, linked },
    planId,
    ...(audit ? { audit } : {}),
  });
  for (const { write } of applied.written)
    for (const change of write.changes) engine.observer?.fieldWritten?.(write.system, change.sourceModifiedAt);
  for (const conflict of applied.conflicts) engine.observer?.conflict?.(conflict.contactField);

  if (applied.failures.length > 0) throw new WritesFailedError(applied.failures);
  if (plan.writes.length === 0 && plan.conflicts.length === 0) return { status: 'unchanged' };
  return { status: 'synced', writes: plan.writes.length, conflicts: plan.conflicts.length };
}

async function readAccounts(engine: Engine, relations: BusinessRelation[]): Promise<Map<string, Account>> {
  const byKind = new Map<AccountKind, string[]>();
  for (const relation of relations)
    byKind.set(relation.accountKind, [...(byKind.get(relation.accountKind) ?? []), relation.accountId]);
  const found = new Map<string, Account>();
  for (const [kind, ids] of byKind) {
    const records =
      engine.accounting.batchGet && ids.length > 1
        ? await engine.accounting.batchGet(kind, ids)
        : (await Promise.all(ids.map((id) => engine.accounting.get(kind, id)))).filter((record) => record !== null);
    const accounts = await engine.store.observeRecords('accounting', records.filter(isAccount));
    for (const account of accounts) found.set(`${account.entity}-${account.id}`, account);
  }
  return found;
}

/** A relation's shadow rows keyed as the planners read them: `contact.<field>`, `account.<field>`. */
export function toShadowMap(entries: ShadowEntry[]): Map<string, ShadowValue> {
  return new Map(
    entries.map((entry) => [
      `${entry.side}.${entry.field}`,
      { value: entry.value, sourceModifiedAt: entry.sourceModifiedAt },
    ]),
  );
}

/** The seed: deleting a contact removes only the contact and its relations; accounts stay. */
async function removeContactRelations(engine: Engine, contactId: string): Promise<number> {
  const relations = await engine.store.findRelationsByContact(contactId);
  for (const relation of relations) {
    await engine.store.deleteRelation(relation.id);
    await engine.store.appendAudit([
      {
        kind: 'delete',
        relationId: relation.id,
        contactId,
        accountKind: relation.accountKind,
        accountId: relation.accountId,
        sourceSystem: 'crm',
        details: {
          deleted: 'contact',
          kept: `${relation.accountKind} ${relation.accountId}`,
          relationCode: relation.relationCode,
        },
      },
    ]);
    await recordRemoval(
      engine,
      relation,
      `the contact was deleted in the CRM; ${relation.accountKind} ${relation.accountId} stays`,
    );
  }
  engine.logger.info(
    { contactId, relations: relations.length },
    'contact deleted in the CRM: its relations were removed, the accounts remain',
  );
  return relations.length;
}

/** The seed: deleting an account removes only its relation; the contact stays. */
export async function removeAccountRelation(engine: Engine, relation: BusinessRelation): Promise<void> {
  const removed = await engine.store.deleteRelation(relation.id);
  if (!removed) return;
  await engine.store.appendAudit([
    {
      kind: 'delete',
      relationId: relation.id,
      contactId: relation.contactId,
      accountKind: relation.accountKind,
      accountId: relation.accountId,
      sourceSystem: 'accounting',
      details: {
        deleted: relation.accountKind,
        kept: `contact ${relation.contactId}`,
        relationCode: relation.relationCode,
      },
    },
  ]);
  await recordRemoval(
    engine,
    relation,
    `${relation.accountKind} ${relation.accountId} was deleted in the accounting system; the contact stays`,
  );
  engine.logger.info(
    { relationId: relation.id, accountKind: relation.accountKind, accountId: relation.accountId },
    'account deleted: its relation was removed, the contact remains',
  );
}

/** Both deletions end a relation; the contact's interaction log says so. */
async function recordRemoval(engine: Engine, relation: BusinessRelation, description: string): Promise<void> {
  await engine.store.appendInteraction({
    contactId: relation.contactId,
    type: 'relationRemoved',
    description,
    occurredAt: new Date().toISOString(),
    who: 'tandem',
    source: 'tandem',
    relationId: relation.id,
    details: { accountKind: relation.accountKind, accountId: relation.accountId },
  });
}

/**
 * The CRM merged the contact into another (a merge is not a deletion): each relation moves to the
 * surviving contact, or, where that one already has a relation of the kind, is removed. Each in
 * one transaction with its audit entry.
 */
export async function moveMergedContact(
  engine: Engine,
  contactId: string,
  survivorId: string,
): Promise<SyncOutcome & { status: 'contactMerged' }> {
  const { store } = engine;
  if (survivorId === contactId) throw new Error(`contact ${contactId} is reported as merged into itself`);
  const survivorKinds = new Map(
    (await store.findRelationsByContact(survivorId)).map((relation) => [relation.accountKind, relation]),
  );
  let moved = 0;
  let removed = 0;
  for (const relation of await store.findRelationsByContact(contactId)) {
    const base = {
      accountKind: relation.accountKind,
      accountId: relation.accountId,
      sourceSystem: 'crm' as const,
    };
    const taken = survivorKinds.get(relation.accountKind);
    if (taken) {
      await store.replaceRelation(relation.id, null, {
        ...base,
        kind: 'unlink',
        relationId: relation.id,
        contactId,
        details: { reason: 'merged', into: survivorId, survivorLinkedTo: taken.accountId },
      });
      removed++;
      continue;
    }
    await store.replaceRelation(
      relation.id,
      {
        contactId: survivorId,
        accountKind: relation.accountKind,
        accountId: relation.accountId,
        relationCode: relation.relationCode,
        origin: relation.origin,
      },
      {
        ...base,
        kind: 'link',
        relationId: relation.id,
        contactId: survivorId,
        details: { reason: 'merged', movedFromContact: contactId, previousRelationId: relation.id },
      },
    );
    moved++;
  }
  engine.logger.info(
    { contactId, survivorId, moved, removed },
    'contact merged: relations moved to the surviving contact',
  );
  return { status: 'contactMerged', into: survivorId, moved, removed };
}

/**
 * The accounting system merged the linked account into another (a merge is not a deletion): the
 * relation moves to the surviving account, or, when that one is already linked, is removed.
 */
export async function moveMergedRelation(
  engine: Engine,
  relation: BusinessRelation,
  survivorId: string,
): Promise<void> {
  const { store } = engine;
  const survivorRelation = await store.findRelationByAccount(relation.accountKind, survivorId);
  const base = {
    contactId: relation.contactId,
    accountKind: relation.accountKind,
    sourceSystem: 'accounting' as const,
  };
  // One transaction each: a crash between removing the relation and making its replacement would lose both.
  if (survivorRelation) {
    await store.replaceRelation(relation.id, null, {
      ...base,
      kind: 'unlink',
      relationId: relation.id,
      accountId: relation.accountId,
      details: { reason: 'merged', into: survivorId, survivorLinkedTo: survivorRelation.contactId },
    });
    engine.logger.info(
      { relationId: relation.id, survivorId },
      'account merged into an account already linked: relation removed',
    );
    return;
  }
  await store.replaceRelation(
    relation.id,
    {
      contactId: relation.contactId,
      accountKind: relation.accountKind,
      accountId: survivorId,
      relationCode: relation.relationCode,
      origin: relation.origin,
    },
    {
      ...base,
      kind: 'link',
      relationId: relation.id,
      accountId: survivorId,
      details: { reason: 'merged', movedFrom: relation.accountId, previousRelationId: relation.id },
    },
  );
  engine.logger.info(
    { from: relation.accountId, to: survivorId, contactId: relation.contactId },
    'account merged: relation moved to the surviving account',
  );
}
