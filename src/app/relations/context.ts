/**
 * What every relation operation shares: reading records as Problems when they are missing,
 * the relation code check, idempotent runs over the store's operations table, and the audit and
 * interaction entries tandem writes for its own actions.
 */
import { createHash } from 'node:crypto';
import { InvalidIdError } from '../../../connectors/kit/errors';
import { isAccount, isContact } from '../../../connectors/kit/types';
import type { FieldMapping } from '../../core/model';
import type { Account, AccountKind, BusinessRelation, Contact } from '../../core/model';
import type { NewAuditEntry, ShadowEntry, StoredInteraction } from '../ports/store';
import { RelationConflictError } from '../ports/store';
import type { Engine } from '../ports/index';
import {
  ConflictProblem,
  IdempotencyKeyReusedProblem,
  InvalidInputProblem,
  NotFoundProblem,
  Problem,
  UpstreamProblem,
} from '../ports/problems';
import type { Actor, Interaction, JobInspector } from '../ports/relations';

/** What the operations run with. */
export interface RelationContext {
  engine: Engine;
  jobs?: JobInspector;
  /** How long a second caller waits for the first to finish the same operation. */
  waitMs: number;
  /** How long a started operation is trusted to be running before a retry takes it over. */
  leaseMs: number;
}

/** Words for a kind in messages. */
export const KIND_WORDS: Record<AccountKind, string> = {
  customer: 'customer',
  vendor: 'vendor',
  bankAccount: 'bank account',
};

const EXAMPLE_CODES: Record<AccountKind, string> = { customer: 'CUST', vendor: 'VEND', bankAccount: 'BANK' };

/** The kind's relation code; refuses the operation when it is not set. */
export function requireCode(engine: Engine, kind: AccountKind): string {
  const code = engine.config.relationCodes[kind];
  if (code === null) {
    throw new ConflictProblem(
      'RELATION_CODE_MISSING',
      `no business relation code is set for ${KIND_WORDS[kind]}s: set relationCodes.${kind} in the config (for example ${EXAMPLE_CODES[kind]})`,
    );
  }
  return code;
}

/** Runs a call to another system; its failures become UpstreamProblem. */
export async function upstream<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof Problem) throw error;
    // An id the other system cannot have is the caller's mistake, found before any call.
    if (error instanceof InvalidIdError)
      throw new InvalidInputProblem(
        error.entity === 'contact' ? 'contactId' : 'accountId',
        `'${error.id}' is not ${error.means}`,
      );
    throw new UpstreamProblem(`${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** Reads a contact fresh from the CRM, or null. */
export async function findContact(engine: Engine, id: string): Promise<Contact | null> {
  const record = await upstream(`reading contact ${id}`, () => engine.crm.get('contact', id));
  if (record === null || !isContact(record)) return null;
  // Observed like every read, so the first sync after a link knows which fields changed when.
  const [observed = record] = await engine.store.observeRecords('crm', [record]);
  return observed;
}

/** Reads a contact; NotFoundProblem when the CRM does not have it. */
export async function readContact(engine: Engine, id: string): Promise<Contact> {
  const contact = await findContact(engine, id);
  if (contact === null) throw new NotFoundProblem(`contact ${id} does not exist in the CRM`);
  return contact;
}

/** Reads an account fresh from the accounting system, or null. */
export async function findAccount(engine: Engine, kind: AccountKind, id: string): Promise<Account | null> {
  const record = await upstream(`reading ${KIND_WORDS[kind]} ${id}`, () => engine.accounting.get(kind, id));
  if (record === null || !isAccount(record)) return null;
  const [observed = record] = await engine.store.observeRecords('accounting', [record]);
  return observed;
}

/** Reads an account; NotFoundProblem when the accounting system does not have it. */
export async function readAccount(engine: Engine, kind: AccountKind, id: string): Promise<Account> {
  const account = await findAccount(engine, kind, id);
  if (account === null) throw new NotFoundProblem(`${KIND_WORDS[kind]} ${id} does not exist in the accounting system`);
  return account;
}

/** Refuses a person contact: accounts are linked to the company a person belongs to. */
export function requireCompany(contact: Contact): void {
  if (contact.type === 'person') {
    const company = contact.companyId ? `its company contact ${contact.companyId}` : 'a company contact';
    throw new ConflictProblem('PERSON_CONTACT', `contact ${contact.id} is a person: link ${company} instead`);
  }
}

/** Creates a relation; the store's uniqueness rules become the matching Problem. */
export async function createRelation(
  engine: Engine,
  relation: Omit<BusinessRelation, 'id' | 'createdAt'>,
): Promise<BusinessRelation> {
  await refuseTaken(engine, relation.contactId, relation.accountKind, relation.accountId);
  try {
    return await engine.store.createRelation(relation);
  } catch (error) {
    // Someone linked in between: describe what is in the way now.
    if (error instanceof RelationConflictError) {
      await refuseTaken(engine, relation.contactId, relation.accountKind, relation.accountId);
      throw new ConflictProblem('RELATION_EXISTS', error.message);
    }
    throw error;
  }
}

/** RELATION_EXISTS or ACCOUNT_LINKED when the contact's kind or the account is taken. */
export async function refuseTaken(
  engine: Engine,
  contactId: string,
  kind: AccountKind,
  accountId: string,
): Promise<void> {
  const existing = (await engine.store.findRelationsByContact(contactId)).find(
    (relation) => relation.accountKind === kind,
  );
  if (existing) {
    throw new ConflictProblem(
      'RELATION_EXISTS',
      `contact ${contactId} already has a ${KIND_WORDS[kind]} relation, with ${KIND_WORDS[kind]} ${existing.accountId} (relation ${existing.id}); a contact holds one per kind`,
    );
  }
  const owner = await engine.store.findRelationByAccount(kind, accountId);
  if (owner) {
    throw new ConflictProblem(
      'ACCOUNT_LINKED',
      `${KIND_WORDS[kind]} ${accountId} is already linked to contact ${owner.contactId} (relation ${owner.id})`,
    );
  }
}

/** The shadow of a relation whose two records agree field by field as given. */
export function shadowOf(
  relation: BusinessRelation,
  mappings: readonly FieldMapping[],
  contact: Contact,
  account: Account,
): ShadowEntry[] {
  const now = new Date().toISOString();
  return mappings.flatMap((mapping) => [
    {
      relationId: relation.id,
      side: 'contact' as const,
      field: mapping.contact,
      value: contact.fields[mapping.contact as keyof Contact['fields']] ?? null,
      sourceModifiedAt: contact.modifiedAt,
      syncedAt: now,
    },
    {
      relationId: relation.id,
      side: 'account' as const,
      field: mapping.account,
      value: account.fields[mapping.account as keyof Account['fields']] ?? null,
      sourceModifiedAt: account.modifiedAt,
      syncedAt: now,
    },
  ]);
}

/** An audit entry about a relation, made by tandem on behalf of an actor. */
export function relationAudit(
  kind: NewAuditEntry['kind'],
  relation: BusinessRelation,
  actor: Actor,
  details: Record<string, unknown> = {},
): NewAuditEntry {
  return {
    kind,
    relationId: relation.id,
    contactId: relation.contactId,
    accountKind: relation.accountKind,
    accountId: relation.accountId,
    sourceSystem: 'tandem',
    details: { actor: actor.name, relationCode: relation.relationCode, ...details },
  };
}

/** Appends one of tandem's own interactions to a contact's log. */
export async function tandemInteraction(
  engine: Engine,
  entry: {
    contactId: string;
    type: string;
    description: string;
    relationId?: string | null;
    details?: Record<string, unknown>;
  },
  actor: Actor,
): Promise<Interaction> {
  return toInteraction(
    await engine.store.appendInteraction({
      ...entry,
      occurredAt: new Date().toISOString(),
      who: actor.name,
      source: 'tandem',
      relationId: entry.relationId ?? null,
      details: entry.details ?? null,
    }),
  );
}

/** A stored interaction as the API shows it. */
export function toInteraction(stored: StoredInteraction): Interaction {
  return {
    id: stored.id,
    contactId: stored.contactId,
    type: stored.type,
    description: stored.description,
    occurredAt: stored.occurredAt,
    who: stored.who,
    source: stored.source,
    relationId: stored.relationId,
    details: stored.details,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A digest of what a request asks for: the same for the same values, whatever their key order. */
export function requestDigest(request: Record<string, unknown>): string {
  const canonical = (value: unknown): unknown =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(
          Object.entries(value)
            .filter(([, entry]) => entry !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([name, entry]) => [name, canonical(entry)]),
        )
      : value;
  return createHash('sha256')
    .update(JSON.stringify(canonical(request)))
    .digest('hex');
}

/**
 * Runs an operation once per idempotency key. A second caller with the same key waits up to
 * `waitMs` for the first and gets its result (`fresh` false), or IN_PROGRESS when it takes
 * longer; a failed or abandoned (crashed) run is taken over and run again. A key the caller chose
 * is bound to `request` (what the operation is asked to do): the same key with another request
 * is refused with IDEMPOTENCY_KEY_REUSED, never answered with the first request's result. A key
 * tandem derives from the records (undefined `request`) names its request already.
 */
export async function runOnce(
  context: RelationContext,
  key: string,
  kind: string,
  request: Record<string, unknown> | undefined,
  run: () => Promise<Record<string, unknown>>,
): Promise<{ result: Record<string, unknown>; fresh: boolean }> {
  const { store } = context.engine;
  const deadline = Date.now() + context.waitMs;
  const digest = request && requestDigest({ operation: kind, ...request });
  for (;;) {
    const claim = await store.claimOperation(key, kind, context.leaseMs, digest);
    if (
      !claim.claimed &&
      digest !== undefined &&
      claim.operation.request !== null &&
      claim.operation.request !== digest
    )
      throw new IdempotencyKeyReusedProblem(key, kind);
    if (claim.claimed) {
      try {
        const result = await run();
        await store.completeOperation(key, result);
        return { result, fresh: true };
      } catch (error) {
        // Bad input or an unknown record is refused before anything is done: the call leaves no
        // trace, and a caller's key stays free for the corrected request (as payment APIs do).
        if (error instanceof InvalidInputProblem || error instanceof NotFoundProblem) await store.forgetOperation(key);
        else await store.failOperation(key, error instanceof Error ? error.message : String(error));
        throw error;
      }
    }
    if (claim.operation.state === 'done') return { result: claim.operation.result ?? {}, fresh: false };
    if (Date.now() >= deadline) {
      throw new ConflictProblem(
        'IN_PROGRESS',
        `operation ${key} is already running since ${claim.operation.startedAt}; try again shortly`,
      );
    }
    await sleep(50);
  }
}

/** A text field of a stored operation result. */
export function resultText(result: Record<string, unknown>, field: string): string {
  const value = result[field];
  if (typeof value !== 'string') throw new Error(`stored operation result has no ${field}`);
  return value;
}

/** Runs `work` under the contact's lock when the engine has one (see Engine.lockContact). */
export function underContactLock<T>(engine: Engine, contactId: string, work: () => Promise<T>): Promise<T> {
  return engine.lockContact ? engine.lockContact(contactId, work) : work();
}
