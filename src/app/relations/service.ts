/** The relation service: the seed's business-relation operations over one engine. */
import { InvalidAuditQueryError } from '../ports/store';
import type { Engine } from '../ports/index';
import { underContactLock, type RelationContext } from './context';
import { NotFoundProblem, InvalidInputProblem } from '../ports/problems';
import type { JobInspector, RelationService } from '../ports/relations';
import { link } from './link';
import { unlink } from './unlink';
import { createAccountFromContact } from './create-account';
import { createContactFromAccount } from './create-contact';
import { applyMatches, proposeMatches } from './match';
import { listInteractions, recordInteraction } from './interactions';
import { createDocument } from './documents';
import { relationStatus } from './status';
import { searchRecords } from './search';

/** Options of the service. */
export interface RelationServiceOptions {
  /** Looks into the queues for a relation's status (without it, status shows no jobs). */
  jobs?: JobInspector;
  /** How long a second call with the same idempotency key waits for the first (default 5 s). */
  waitMs?: number;
  /** How long a started create is trusted to be running before a retry takes it over (default 2 min). */
  leaseMs?: number;
}

/** Creates the relation service. */
export function createRelationService(engine: Engine, options: RelationServiceOptions = {}): RelationService {
  const context: RelationContext = {
    engine,
    jobs: options.jobs,
    waitMs: options.waitMs ?? 5_000,
    leaseMs: options.leaseMs ?? 120_000,
  };
  const { store } = engine;
  const guarded = <T>(contactId: string, work: () => Promise<T>): Promise<T> =>
    underContactLock(engine, contactId, work);
  return {
    async listRelations(filter) {
      if (filter.contactId !== undefined) {
        const relations = (await store.findRelationsByContact(filter.contactId)).filter(
          (relation) => !filter.kind || relation.accountKind === filter.kind,
        );
        const offset = filter.offset ?? 0;
        return relations.slice(offset, filter.limit === undefined ? undefined : offset + filter.limit);
      }
      return store.listRelations({ kind: filter.kind, limit: filter.limit, offset: filter.offset });
    },
    async getRelation(id) {
      const relation = await store.getRelation(id);
      if (relation === null) throw new NotFoundProblem(`relation ${id} does not exist`);
      return relation;
    },
    link: (input, actor) => guarded(input.contactId, () => link(context, input, actor)),
    async unlink(relationId, actor) {
      const relation = await store.getRelation(relationId);
      if (relation === null) return unlink(context, relationId, actor);
      return guarded(relation.contactId, () => unlink(context, relationId, actor));
    },
    createAccountFromContact: (input, actor) =>
      guarded(input.contactId, () => createAccountFromContact(context, input, actor)),
    createContactFromAccount: (input, actor) => createContactFromAccount(context, input, actor),
    proposeMatches: (input) => proposeMatches(context, input),
    applyMatches: (input, actor, onProgress) => applyMatches(context, input, actor, onProgress),
    listInteractions: (contactId) => listInteractions(context, contactId),
    recordInteraction: (contactId, input, actor) => recordInteraction(context, contactId, input, actor),
    // Under the contact's lock: a retry sent while the first call is still running (a double
    // click, a client timeout) must find that call's document, not start a second one.
    createDocument: (contactId, input, actor) =>
      guarded(contactId, () => createDocument(context, contactId, input, actor)),
    relationStatus: (relationId) => relationStatus(context, relationId),
    searchRecords: (input) => searchRecords(context, input),
    async audit(filter) {
      try {
        return await store.queryAudit(filter);
      } catch (error) {
        if (error instanceof InvalidAuditQueryError) throw new InvalidInputProblem('limit', error.message);
        throw error;
      }
    },
  };
}
