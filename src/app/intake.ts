/**
 * The intake use case: what a reported change means. A change to an account without a business
 * relation creates an automatic contact or does nothing; an account's deletion removes its
 * relation; anything else syncs the contact concerned, one sync per contact at a time, and a
 * person's listed fields go to its company's accounts.
 */
import type { AccountKind } from '../core/model';
import { ChangeRefusedError, type ChangeContext, type ChangeJob } from './ports/changes';
import type { Engine } from './ports/index';
import { ConflictProblem, NotFoundProblem } from './ports/problems';
import type { RelationService } from './ports/relations';
import type { Store } from './ports/store';
import { syncPersonFields } from './relations';
import {
  moveMergedRelation,
  removeAccountRelation,
  syncContact,
  WritesFailedError,
  type SyncOutcome,
} from './sync-contact';

/** What handling a change did, kept as its intake job's return value for ops. */
export type IntakeResult =
  | SyncOutcome
  | { status: 'unlinked' }
  | { status: 'relationRemoved' }
  | { status: 'contactCreated'; relationId: string; created: boolean }
  | { status: 'personFieldsWritten'; fields: number }
  /** The report was of tandem's own write: nothing to read or plan. */
  | { status: 'echo' }
  /** A plan that began after the report already read what it reports. */
  | { status: 'coalesced' };

/** What handleChange runs with: the worker's context and the relation operations. */
export interface HandleChangeDeps extends ChangeContext {
  relations: RelationService;
}

/**
 * Handles one change. Failures are thrown as they are (the worker decides what they mean for the
 * job), except writes the target refused for good, which become ChangeRefusedError.
 */
export async function handleChange(engine: Engine, change: ChangeJob, deps: HandleChangeDeps): Promise<IntakeResult> {
  const log = deps.logger;
  const scoped: Engine = { ...engine, logger: log };
  if (!change.deleted && (await deps.marks?.isOwnWrite(change))) {
    log.debug('the echo of a write of tandem’s: nothing to read');
    engine.observer?.echoSuppressed?.(change.connector);
    return { status: 'echo' };
  }
  let contactId = change.id;
  if (change.entity !== 'contact') {
    const relation = await engine.store.findRelationByAccount(change.entity, change.id);
    if (!relation) {
      const kind = change.entity;
      if (
        !change.deleted &&
        !change.initial &&
        engine.config.automaticContacts[kind] &&
        engine.config.relationCodes[kind] !== null
      ) {
        return automaticContact(deps.relations, kind, change.id, log);
      }
      log.debug('change to an account without a business relation: nothing to sync');
      return { status: 'unlinked' };
    }
    const survivor = change.mergedInto;
    if (survivor !== undefined && survivor !== change.id) {
      // The relation moves to the surviving account (read again under the lock: a report of the
      // same merge may have moved it meanwhile); the contact is then synced with it.
      const owner = relation.contactId;
      const kind = change.entity;
      return deps.lock.runOrRetryLater(owner, async () => {
        const current = await engine.store.findRelationByAccount(kind, change.id);
        if (current) await moveMergedRelation(scoped, current, survivor);
        return syncLocked(scoped, change, owner, deps);
      });
    }
    if (change.deleted) {
      await removeAccountRelation(scoped, relation);
      return { status: 'relationRemoved' };
    }
    contactId = relation.contactId;
  }
  const outcome = await deps.lock.runOrRetryLater(contactId, () => syncLocked(scoped, change, contactId, deps));
  if (outcome.status !== 'contactMerged') return outcome;
  // The relations are the survivor's now: sync it, under its own lock. When that lock is taken, a
  // sync of the survivor is running (the merge changed it); the drift sweep covers the rest.
  const survivor = outcome.into;
  try {
    await deps.lock.runOrRetryLater(survivor, () => syncLocked(scoped, { ...change, id: survivor }, survivor, deps));
  } catch (error) {
    log.warn({ err: error, survivor }, 'the surviving contact of a merge could not be synced now');
  }
  return outcome;
}

/** Syncs the contact, holding its lock; a contact without relations may be a person with fields to pass on. */
async function syncLocked(
  engine: Engine,
  change: ChangeJob,
  contactId: string,
  deps: HandleChangeDeps,
): Promise<IntakeResult> {
  const log = engine.logger;
  try {
    const { marks, reportedAt } = deps;
    // A drift repair is planned and audited as such whatever ran meanwhile.
    if (marks && reportedAt !== undefined && change.source !== 'drift' && (await marks.covers(contactId, reportedAt))) {
      log.debug({ contactId }, 'already read by a later plan');
      return { status: 'coalesced' };
    }
    log.debug({ contactId }, 'planning');
    const readFrom = Date.now();
    // A repair of what the drift sweep found is audited as such.
    const audit = change.source === 'drift' ? { details: { repair: 'drift sweep' } } : undefined;
    const outcome = await syncContact(engine, contactId, `${deps.jobId}-a${deps.attempt}`, audit);
    if (outcome.status === 'synced' || outcome.status === 'unchanged') await marks?.planned(contactId, readFrom);
    if (
      outcome.status === 'noRelations' &&
      change.entity === 'contact' &&
      !change.deleted &&
      engine.config.persons.fieldsToAccount.length > 0
    ) {
      // Perhaps a person: its listed fields go to its company's accounts.
      const fields = await syncPersonFields(engine, contactId, `${deps.jobId}-p${deps.attempt}`);
      if (fields > 0) return { status: 'personFieldsWritten', fields };
    }
    log.info({ contactId, ...outcome }, 'change processed');
    return outcome;
  } catch (error) {
    // Retrying would send the same writes again: the job is kept as failed with its reason.
    if (error instanceof WritesFailedError && error.permanent)
      throw new ChangeRefusedError(error.message, { cause: error });
    throw error;
  }
}

/**
 * A new account of a kind with automatic contacts gets a company contact, exactly once: the key
 * is the account's, so a webhook and a poll reporting it (even at the same moment) run it once.
 */
async function automaticContact(
  relations: RelationService,
  kind: AccountKind,
  accountId: string,
  log: Engine['logger'],
): Promise<IntakeResult> {
  try {
    const result = await relations.createContactFromAccount(
      { accountKind: kind, accountId, origin: 'automatic' },
      { name: 'tandem' },
    );
    log.info({ contactId: result.contact.id, created: result.created }, 'automatic contact for a new account');
    return { status: 'contactCreated', relationId: result.relation.id, created: result.created };
  } catch (error) {
    // Linked meanwhile (by hand, or by another report of the same account): nothing left to do.
    // Linked meanwhile, or left out by a sync filter: nothing to do.
    if (
      error instanceof ConflictProblem &&
      (error.code === 'ACCOUNT_LINKED' || error.code === 'IN_PROGRESS' || error.code === 'FILTERED')
    )
      return { status: 'unlinked' };
    // Reported, but not there (deleted since, or never there): a final answer, not worth a retry.
    if (error instanceof NotFoundProblem) {
      log.info(
        { accountKind: kind, accountId, reason: error.message },
        'no automatic contact: the account does not exist',
      );
      return { status: 'unlinked' };
    }
    throw error;
  }
}

/**
 * Marks the changes to accounts without a business relation (`ChangeJob.unlinked`), so that their
 * jobs wait behind the others. The lookups are asked at once, and the store answers them in one
 * statement (see store/coalesce.ts).
 */
export async function markUnlinked(
  store: Pick<Store, 'findRelationByAccount'>,
  changes: ChangeJob[],
): Promise<ChangeJob[]> {
  return await Promise.all(
    changes.map(async (change) => {
      // A first poll's reports are linked already (the poller looked), and make no automatic contact.
      if (change.entity === 'contact' || change.deleted === true || change.initial === true) return change;
      const relation = await store.findRelationByAccount(change.entity, change.id);
      return relation === null ? { ...change, unlinked: true } : change;
    }),
  );
}
