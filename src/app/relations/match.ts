/**
 * Bulk matching: reads every record of both systems (listChanged from the beginning), proposes
 * pairs of unlinked company contacts and unlinked accounts with the pure core, and links the
 * unambiguous ones one by one, collecting failures per pair.
 */
import { meets } from '../../core/filter';
import { isAccount, isContact } from '../../../connectors/kit/types';
import { ACCOUNT_KINDS, type AccountKind, type Entity, type SyncRecord } from '../../core/model';
import { planMatches, type MatchAccount, type MatchContact, type ScoredPair } from '../../core/match';
import type { RelationContext } from './context';
import { upstream } from './context';
import { underContactLock } from './context';
import { link } from './link';
import { ConflictProblem } from '../ports/problems';
import type { Actor, LinkResult, MatchPair, MatchProposal } from '../ports/relations';

async function readAll(context: RelationContext, slot: 'crm' | 'accounting', entity: Entity): Promise<SyncRecord[]> {
  const connector = context.engine[slot];
  if (!connector.listChanged)
    throw new ConflictProblem('NOT_SUPPORTED', `the ${slot} connector '${connector.name}' cannot list its records`);
  const listChanged = connector.listChanged.bind(connector);
  return upstream(`listing ${entity} records`, async () => {
    const records: SyncRecord[] = [];
    for await (const page of listChanged(entity, null)) records.push(...page.records);
    return records;
  });
}

/** Proposes pairs of unlinked contacts and accounts by the configured rules. */
export async function proposeMatches(
  context: RelationContext,
  input: { kinds?: AccountKind[]; minScore?: number },
): Promise<MatchProposal> {
  const { engine } = context;
  const kinds = (input.kinds ?? [...ACCOUNT_KINDS]).filter(
    (kind) => engine.config.relationCodes[kind] !== null && engine.accounting.entities.includes(kind),
  );
  if (kinds.length === 0) return { pairs: [], review: [] };
  const relations = await engine.store.listRelations();
  const linkedKinds = new Map<string, Set<AccountKind>>();
  for (const relation of relations)
    linkedKinds.set(relation.contactId, (linkedKinds.get(relation.contactId) ?? new Set()).add(relation.accountKind));
  const linkedAccounts = new Set(relations.map((relation) => `${relation.accountKind}|${relation.accountId}`));

  // A pair someone rejected in the review is never proposed, nor linked, again.
  const rejected = new Set(
    (await engine.store.listMatchRejections()).map((r) => `${r.contactId}|${r.accountKind}|${r.accountId}`),
  );
  const notRejected = (pair: ScoredPair) => !rejected.has(`${pair.contactId}|${pair.accountKind}|${pair.accountId}`);
  const contacts = (await readAll(context, 'crm', 'contact'))
    .filter(isContact)
    .filter((contact) => contact.type === 'company');
  const names = new Map<string, string | null>(contacts.map((contact) => [contact.id, contact.fields.name ?? null]));
  const proposals: MatchProposal = { pairs: [], review: [] };
  for (const kind of kinds) {
    // Records a sync filter leaves out are not proposed: linked, they would not sync.
    const filter = engine.config.filters[kind];
    const accounts = (await readAll(context, 'accounting', kind))
      .filter(isAccount)
      .filter((account) => !linkedAccounts.has(`${kind}|${account.id}`) && meets(account, filter?.account));
    for (const account of accounts) names.set(`${kind}|${account.id}`, account.fields.name ?? null);
    const candidates: MatchContact[] = contacts
      .filter((contact) => !linkedKinds.get(contact.id)?.has(kind) && meets(contact, filter?.contact))
      .map((contact) => ({ id: contact.id, fields: contact.fields }));
    const plan = planMatches({
      contacts: candidates,
      accounts: accounts.map((account): MatchAccount => ({ kind, id: account.id, fields: account.fields })),
      rules: engine.config.matching.rules,
      minScore: input.minScore ?? engine.config.matching.minScore,
    });
    const named = (pair: ScoredPair): MatchPair => ({
      ...pair,
      contactName: names.get(pair.contactId) ?? null,
      accountName: names.get(`${pair.accountKind}|${pair.accountId}`) ?? null,
    });
    proposals.pairs.push(...plan.pairs.filter(notRejected).map(named));
    for (const entry of plan.review) {
      const candidates = entry.candidates.filter(notRejected);
      if (candidates.length > 0) proposals.review.push({ reason: entry.reason, candidates: candidates.map(named) });
    }
  }
  return proposals;
}

/** Links the unambiguous pairs of a fresh proposal, the contact winning as in NAV. */
export async function applyMatches(
  context: RelationContext,
  input: { kinds?: AccountKind[]; minScore?: number },
  actor: Actor,
  onProgress?: (done: number, total: number) => void,
): Promise<{
  linked: LinkResult[];
  failed: Array<{ pair: MatchPair; reason: string }>;
  review: MatchProposal['review'];
}> {
  const proposal = await proposeMatches(context, input);
  const linked: LinkResult[] = [];
  const failed: Array<{ pair: MatchPair; reason: string }> = [];
  let done = 0;
  for (const pair of proposal.pairs) {
    try {
      linked.push(
        await underContactLock(context.engine, pair.contactId, () =>
          link(
            context,
            { contactId: pair.contactId, accountKind: pair.accountKind, accountId: pair.accountId, winner: 'contact' },
            actor,
          ),
        ),
      );
    } catch (error) {
      failed.push({ pair, reason: error instanceof Error ? error.message : String(error) });
    }
    onProgress?.(++done, proposal.pairs.length);
  }
  return { linked, failed, review: proposal.review };
}
