/**
 * The first sync of a company: matching and linking every unlinked contact and account, as one
 * resumable background run. It reads both systems page by page and keeps only each record's
 * match keys (core/match.ts), plans the pairs with the key index, stores the plan, then works
 * through it in batches: both sides' records of a batch are read with one batch call per side,
 * and each pair is linked and reconciled through the ordinary link path under the contact's lock.
 * Each item is settled in the store as its batch ends, so a stopped or crashed run resumes at its
 * first unsettled item; a pair found linked already (by the run that stopped) counts as done.
 */
import { randomUUID } from 'node:crypto';
import { isAccount, isContact, type Connector } from '../../connectors/kit/types';
import {
  hasMatchKey,
  matchKeys,
  planKeyedMatches,
  type KeyedAccount,
  type KeyedContact,
  type MatchKeys,
  type ScoredPair,
} from '../core/match';
import {
  ACCOUNT_KINDS,
  type Account,
  type AccountKind,
  type ConnectorSlot,
  type Contact,
  type Entity,
  type SyncRecord,
} from '../core/model';
import { readMany } from './drift';
import { KIND_WORDS, underContactLock, type RelationContext } from './relations/context';
import { createContactFromAccount } from './relations/create-contact';
import { link } from './relations/link';
import type {
  FirstSyncCounts,
  FirstSyncOptions,
  FirstSyncOutcome,
  FirstSyncProgress,
  FirstSyncReport,
  FirstSyncReview,
} from './ports/first-sync';
import type { Engine } from './ports/index';
import { ConflictProblem, InvalidInputProblem } from './ports/problems';
import type { Actor } from './ports/relations';
import type { FirstSyncItem, FirstSyncItemOutcome } from './ports/store';

/** What a run works with besides the engine. */
export interface FirstSyncDeps {
  /** Waits for the side's budget before each read call (a list page or a batch read). */
  pace: Record<ConnectorSlot, () => Promise<void>>;
  /** Who the links and creations are recorded as. */
  actor: Actor;
  /** Called as pages are read and batches are settled. */
  progress?(progress: FirstSyncProgress): void;
  /** Ends the run after the page or batch in progress; the next start resumes it. */
  signal?: AbortSignal;
  /** Items per batch (default: the smaller of the two connectors' read batch sizes, at most 100). */
  batchSize?: number;
  /** Pairs of a batch linked at once, each under its own contact's lock (default LINKS_AT_ONCE). */
  concurrency?: number;
  /** How creations wait for and take over each other (see RelationContext; defaults 5 s and 2 min). */
  waitMs?: number;
  leaseMs?: number;
}

/**
 * Pairs of a batch linked at once by default. Each holds its own contact's lock; their store calls
 * made meanwhile share statements (store/coalesce.ts), so more at once costs fewer statements.
 */
const LINKS_AT_ONCE = 25;
/** Entries kept in the report's review and failure lists. */
const REPORT_ENTRIES = 100;
/** Relations read per store call when collecting what is linked already. */
const RELATION_PAGE = 1000;

/**
 * The account kinds a run matches: those asked for (all by default) that have a relation code
 * and that the accounting system serves. Asking for a kind that cannot be matched is an error.
 */
export function firstSyncKinds(engine: Engine, asked: readonly AccountKind[] | undefined): AccountKind[] {
  const usable = (kind: AccountKind) =>
    engine.config.relationCodes[kind] !== null && engine.accounting.entities.includes(kind);
  if (asked === undefined) return ACCOUNT_KINDS.filter(usable);
  for (const kind of asked) {
    if (!(ACCOUNT_KINDS as readonly string[]).includes(kind))
      throw new InvalidInputProblem('kinds', `'${kind}' is not an account kind (${ACCOUNT_KINDS.join(', ')})`);
    if (engine.config.relationCodes[kind] === null)
      throw new InvalidInputProblem('kinds', `${kind} has no relation code, so it is not synchronized`);
    if (!engine.accounting.entities.includes(kind))
      throw new InvalidInputProblem('kinds', `the accounting connector '${engine.accounting.name}' has no ${kind}s`);
  }
  return [...new Set(asked)];
}

/** Checks a run's options before it starts, so a bad one is refused at once rather than in the background. */
export function checkFirstSyncOptions(engine: Engine, options: FirstSyncOptions): void {
  firstSyncKinds(engine, options.kinds);
  const { minScore } = options;
  if (minScore !== undefined && (!Number.isInteger(minScore) || minScore < 1 || minScore > 100))
    throw new InvalidInputProblem('minScore', `must be a whole number from 1 to 100, not ${minScore}`);
  for (const slot of ['crm', 'accounting'] as const)
    if (!engine[slot].listChanged)
      throw new ConflictProblem(
        'NOT_SUPPORTED',
        `the ${slot} connector '${engine[slot].name}' cannot list its records`,
      );
}

/** The plan as stored with a run, so a resumed run reports what the first part found. */
interface StoredPlan {
  kinds: AccountKind[];
  counts: FirstSyncCounts;
  createReason: string | null;
  review: FirstSyncReview[];
  requests: Record<ConnectorSlot, number>;
}

/** A plan: its counts and report parts, and the items to work through. */
interface Plan extends StoredPlan {
  items: Array<Omit<FirstSyncItem, 'outcome' | 'reason'>>;
}

/** Runs a first sync (or a dry run), or resumes the unfinished one. */
export async function runFirstSync(
  engine: Engine,
  deps: FirstSyncDeps,
  options: FirstSyncOptions,
): Promise<FirstSyncReport> {
  const startedAt = new Date().toISOString();
  const requests: Record<ConnectorSlot, number> = { crm: 0, accounting: 0 };
  const open = options.dryRun ? null : await engine.store.openFirstSyncRun();
  let runId: string;
  let plan: StoredPlan;
  if (open) {
    runId = open.id;
    plan = storedPlan(open.plan, open.id);
    engine.logger.info({ runId }, 'first sync resumed');
  } else {
    checkFirstSyncOptions(engine, options);
    const fresh = await planFirstSync(engine, deps, options, startedAt, requests);
    if (options.dryRun || deps.signal?.aborted)
      return {
        ...reportBase(fresh, startedAt, requests),
        runId: null,
        dryRun: options.dryRun,
        resumed: false,
        outcome: { linked: 0, created: 0, alreadyLinked: 0, failed: 0 },
        failures: [],
        stopped: !options.dryRun,
      };
    runId = randomUUID();
    const { items, ...stored } = fresh;
    plan = { ...stored, requests: { ...requests } };
    await engine.store.startFirstSyncRun({ id: runId, startedAt, plan: { ...plan } }, items);
    engine.logger.info({ runId, items: items.length, ...plan.counts }, 'first sync planned');
  }
  const stopped = await workThrough(engine, deps, runId, startedAt, requests);
  const tally = await engine.store.tallyFirstSyncRun(runId, REPORT_ENTRIES);
  const outcome: FirstSyncOutcome = {
    linked: tally.counts.linked,
    created: tally.counts.created,
    alreadyLinked: tally.counts.alreadyLinked,
    failed: tally.counts.failed,
  };
  const report: FirstSyncReport = {
    // A fresh run counted its reading in `requests`; a resumed one adds the reading it stored.
    ...reportBase(
      plan,
      startedAt,
      open
        ? { crm: plan.requests.crm + requests.crm, accounting: plan.requests.accounting + requests.accounting }
        : requests,
    ),
    runId,
    dryRun: false,
    resumed: open !== null,
    outcome,
    failures: tally.failed.map((item) => ({
      contactId: item.contactId,
      accountKind: item.accountKind,
      accountId: item.accountId,
      reason: item.reason ?? 'failed',
    })),
    stopped,
  };
  if (!stopped) await engine.store.finishFirstSyncRun(runId, { ...report });
  engine.logger.info({ ...report, review: undefined, failures: undefined }, 'first sync done');
  return report;
}

function reportBase(
  plan: StoredPlan,
  startedAt: string,
  requests: Record<ConnectorSlot, number>,
): Pick<FirstSyncReport, 'startedAt' | 'finishedAt' | 'kinds' | 'counts' | 'createReason' | 'review' | 'requests'> {
  return {
    startedAt,
    finishedAt: new Date().toISOString(),
    kinds: plan.kinds,
    counts: plan.counts,
    createReason: plan.createReason,
    review: plan.review,
    requests: { ...requests },
  };
}

/** Reads back a stored plan; one this version cannot read is reported, not guessed at. */
function storedPlan(value: Record<string, unknown>, runId: string): StoredPlan {
  const plan = value as Partial<StoredPlan>;
  if (
    !Array.isArray(plan.kinds) ||
    typeof plan.counts !== 'object' ||
    !Array.isArray(plan.review) ||
    typeof plan.requests !== 'object'
  )
    throw new Error(`the stored plan of first-sync run ${runId} is not one this version of tandem can resume`);
  return plan as StoredPlan;
}

// ----- planning ---------------------------------------------------------------------------------

/** What a record read for matching leaves in memory: its keys, or why it cannot be matched. */
type Read = MatchKeys | 'person' | 'noKeys';

/** Reads both systems and plans the run's items. */
async function planFirstSync(
  engine: Engine,
  deps: FirstSyncDeps,
  options: FirstSyncOptions,
  startedAt: string,
  requests: Record<ConnectorSlot, number>,
): Promise<Plan> {
  const kinds = firstSyncKinds(engine, options.kinds);
  const minScore = options.minScore ?? engine.config.matching.minScore;
  const rules = engine.config.matching.rules;
  const counts: FirstSyncCounts = {
    link: 0,
    create: 0,
    ambiguous: 0,
    unmatched: { contacts: 0, accounts: 0 },
    skipped: { alreadyLinked: 0, rejected: 0, missingFields: 0, persons: 0 },
  };
  const { linkedKinds, linkedAccounts } = await linkedAlready(engine, kinds);
  const rejected = new Set(
    (await engine.store.listMatchRejections()).map((r) => `${r.contactId}|${r.accountKind}|${r.accountId}`),
  );
  const isRejected = (pair: ScoredPair) => rejected.has(`${pair.contactId}|${pair.accountKind}|${pair.accountId}`);
  const read: Record<ConnectorSlot, number> = { crm: 0, accounting: 0 };
  const progress = () =>
    deps.progress?.({ startedAt, dryRun: options.dryRun, phase: 'reading', read: { ...read }, done: 0, total: 0 });

  const contactKeys = await readKeys(engine.crm, 'contact', deps, requests, (record, count) => {
    if (count) {
      read.crm += count;
      progress();
    }
    if (!record || !isContact(record)) return 'ignore';
    return record.type === 'company' ? 'match' : 'person';
  });
  const contacts: KeyedContact[] = [];
  for (const [id, keys] of contactKeys) {
    if (keys === 'person') counts.skipped.persons++;
    else if (keys === 'noKeys') counts.skipped.missingFields++;
    else contacts.push({ id, keys });
  }

  const items: Plan['items'] = [];
  const creates: Plan['items'] = [];
  const review: FirstSyncReview[] = [];
  const involvedContacts = new Set<string>();
  const createOff: string[] = [];
  for (const kind of kinds) {
    if (deps.signal?.aborted) break;
    const accountKeys = await readKeys(engine.accounting, kind, deps, requests, (record, count) => {
      if (count) {
        read.accounting += count;
        progress();
      }
      return record && isAccount(record) ? 'match' : 'ignore';
    });
    const accounts: KeyedAccount[] = [];
    for (const [id, keys] of accountKeys) {
      if (linkedAccounts.has(`${kind}|${id}`)) counts.skipped.alreadyLinked++;
      else if (keys === 'noKeys' || keys === 'person') counts.skipped.missingFields++;
      else accounts.push({ kind, id, keys });
    }
    const plan = planKeyedMatches({
      contacts: contacts.filter((contact) => !linkedKinds.get(contact.id)?.has(kind)),
      accounts,
      rules,
      minScore,
    });
    const settledAccounts = new Set<string>();
    for (const pair of plan.pairs) {
      involvedContacts.add(pair.contactId);
      settledAccounts.add(pair.accountId);
      if (isRejected(pair)) {
        counts.skipped.rejected++;
        continue;
      }
      counts.link++;
      items.push({ seq: 0, action: 'link', ...pairItem(pair) });
    }
    for (const entry of plan.review) {
      const candidates = entry.candidates.filter((pair) => !isRejected(pair));
      for (const pair of entry.candidates) {
        involvedContacts.add(pair.contactId);
        settledAccounts.add(pair.accountId);
      }
      if (candidates.length === 0) continue;
      counts.ambiguous++;
      if (review.length < REPORT_ENTRIES) review.push({ reason: entry.reason, candidates });
    }
    const created = createsFor(engine, kind, accounts, plan.candidates.accounts);
    if (created === null) createOff.push(kind);
    for (const account of created ?? []) {
      settledAccounts.add(account.id);
      creates.push({
        seq: 0,
        action: 'create',
        contactId: null,
        accountKind: kind,
        accountId: account.id,
        score: null,
        rule: null,
      });
    }
    counts.create += created?.length ?? 0;
    counts.unmatched.accounts += accounts.filter((account) => !settledAccounts.has(account.id)).length;
  }
  counts.unmatched.contacts = contacts.filter(
    (contact) => !involvedContacts.has(contact.id) && kinds.some((kind) => !linkedKinds.get(contact.id)?.has(kind)),
  ).length;
  // Links first: a contact created for an account must not take a pair's place.
  const all = [...items, ...creates].map((item, seq) => ({ ...item, seq }));
  return { kinds, counts, createReason: createReason(engine, createOff), review, requests, items: all };
}

function pairItem(pair: ScoredPair): Omit<FirstSyncItem, 'seq' | 'action' | 'outcome' | 'reason'> {
  return {
    contactId: pair.contactId,
    accountKind: pair.accountKind,
    accountId: pair.accountId,
    score: pair.score,
    rule: pair.rule,
  };
}

/**
 * The accounts of a kind a contact is created for: those with no candidate contact at all,
 * when the kind creates contacts automatically and the CRM can create records; null when not.
 * An account with a candidate, even a weaker one taken by another account, gets none: a person
 * decides whether it is the same company.
 */
function createsFor(
  engine: Engine,
  kind: AccountKind,
  accounts: readonly KeyedAccount[],
  withCandidates: ReadonlySet<string>,
): KeyedAccount[] | null {
  if (!engine.config.automaticContacts[kind] || !engine.crm.create) return null;
  return accounts.filter((account) => !withCandidates.has(account.id));
}

function createReason(engine: Engine, off: readonly string[]): string | null {
  if (off.length === 0) return null;
  const kinds = off.join(', ');
  if (!engine.crm.create)
    return `the CRM connector '${engine.crm.name}' cannot create records, so no contacts are created`;
  return `automaticContacts is off for ${kinds}: no contacts are created for its accounts without a match`;
}

/**
 * Reads every record of an entity page by page and keeps each one's match keys only (the last
 * version when a record comes twice). `classify` says whether a record is matched at all, and is
 * told the size of each page as it arrives (called without a record).
 */
async function readKeys(
  connector: Connector,
  entity: Entity,
  deps: FirstSyncDeps,
  requests: Record<ConnectorSlot, number>,
  classify: (record: SyncRecord | null, pageSize?: number) => 'match' | 'person' | 'ignore',
): Promise<Map<string, Read>> {
  if (!connector.listChanged)
    throw new ConflictProblem('NOT_SUPPORTED', `the connector '${connector.name}' cannot list its records`);
  const slot: ConnectorSlot = connector.system === 'crm' ? 'crm' : 'accounting';
  const keys = new Map<string, Read>();
  await deps.pace[slot]();
  for await (const page of connector.listChanged(entity, null)) {
    requests[slot]++;
    for (const record of page.records) {
      const what = classify(record);
      if (what === 'ignore') continue;
      if (what === 'person') keys.set(record.id, 'person');
      else {
        const found = matchKeys(record.fields);
        keys.set(record.id, hasMatchKey(found) ? found : 'noKeys');
      }
    }
    classify(null, page.records.length);
    if (deps.signal?.aborted) break;
    await deps.pace[slot]();
  }
  return keys;
}

/** Which contacts hold a relation of each kind, and which accounts are linked. */
async function linkedAlready(engine: Engine, kinds: readonly AccountKind[]) {
  const linkedKinds = new Map<string, Set<AccountKind>>();
  const linkedAccounts = new Set<string>();
  for (let offset = 0; ; offset += RELATION_PAGE) {
    const page = await engine.store.listRelations({ limit: RELATION_PAGE, offset });
    for (const relation of page) {
      if (!kinds.includes(relation.accountKind)) continue;
      linkedKinds.set(relation.contactId, (linkedKinds.get(relation.contactId) ?? new Set()).add(relation.accountKind));
      linkedAccounts.add(`${relation.accountKind}|${relation.accountId}`);
    }
    if (page.length < RELATION_PAGE) return { linkedKinds, linkedAccounts };
  }
}

// ----- linking ----------------------------------------------------------------------------------

/** Works through a stored run's unsettled items batch by batch; true when stopped before the end. */
async function workThrough(
  engine: Engine,
  deps: FirstSyncDeps,
  runId: string,
  startedAt: string,
  requests: Record<ConnectorSlot, number>,
): Promise<boolean> {
  const size = deps.batchSize ?? batchSizeOf(engine);
  const context: RelationContext = { engine, waitMs: deps.waitMs ?? 5_000, leaseMs: deps.leaseMs ?? 120_000 };
  const { counts } = await engine.store.tallyFirstSyncRun(runId, 0);
  const total = counts.linked + counts.created + counts.alreadyLinked + counts.failed + counts.pending;
  let done = total - counts.pending;
  const progress = () =>
    deps.progress?.({ startedAt, dryRun: false, phase: 'linking', read: { crm: 0, accounting: 0 }, done, total });
  progress();
  for (;;) {
    if (deps.signal?.aborted) return true;
    const items = await engine.store.pendingFirstSyncItems(runId, size);
    if (items.length === 0) return false;
    const outcomes = await settleBatch(context, deps, runId, items, requests);
    await engine.store.settleFirstSyncItems(runId, outcomes);
    done += items.length;
    progress();
  }
}

/**
 * The pairs one batch links: as many as the larger of the two batch reads takes (at most 100).
 * The side with the smaller batch read reads them in several calls (readMany), so each side
 * spends the fewest calls its own batch size allows.
 */
function batchSizeOf(engine: Engine): number {
  const sizes = [engine.crm, engine.accounting].map((connector) => connector.limits?.batchSize?.read ?? 100);
  return Math.max(1, Math.min(100, Math.max(...sizes)));
}

type Settled = { seq: number; outcome: FirstSyncItemOutcome; reason: string | null };

/** Reads a batch's records (one batch call per side and kind) and settles each of its items. */
async function settleBatch(
  context: RelationContext,
  deps: FirstSyncDeps,
  runId: string,
  items: FirstSyncItem[],
  requests: Record<ConnectorSlot, number>,
): Promise<Settled[]> {
  const { engine } = context;
  const links = items.filter((item) => item.action === 'link');
  const { contacts, accounts } = await readBatch(engine, deps, links, requests);
  return mapWithConcurrency(items, deps.concurrency ?? LINKS_AT_ONCE, async (item) => {
    if (item.action === 'create') return createOne(context, deps.actor, runId, item);
    const contact = contacts.get(item.contactId as string);
    const account = accounts.get(`${item.accountKind}|${item.accountId}`);
    return linkOne(context, deps.actor, item, contact, account);
  });
}

/** Both sides' records of a batch's pairs, read in batches and observed like every read. */
async function readBatch(
  engine: Engine,
  deps: FirstSyncDeps,
  links: FirstSyncItem[],
  requests: Record<ConnectorSlot, number>,
): Promise<{ contacts: Map<string, Contact>; accounts: Map<string, Account> }> {
  const read = async (slot: ConnectorSlot, entity: Entity, ids: string[]) => {
    if (ids.length === 0) return [];
    const records = await readMany(engine[slot], entity, ids, async () => {
      await deps.pace[slot]();
      requests[slot]++;
    });
    return engine.store.observeRecords(slot, records);
  };
  const contacts = new Map<string, Contact>();
  const contactIds = links.map((item) => item.contactId as string);
  for (const record of await read('crm', 'contact', contactIds)) if (isContact(record)) contacts.set(record.id, record);
  const accounts = new Map<string, Account>();
  for (const kind of new Set(links.map((item) => item.accountKind))) {
    const ids = links.filter((item) => item.accountKind === kind).map((item) => item.accountId);
    for (const record of await read('accounting', kind, ids))
      if (isAccount(record)) accounts.set(`${kind}|${record.id}`, record);
  }
  return { contacts, accounts };
}

/**
 * Links one pair with the records read for its batch, under the contact's lock. A pair that is
 * linked already (the run stopped after linking it, before its batch was settled) counts as done.
 */
async function linkOne(
  context: RelationContext,
  actor: Actor,
  item: FirstSyncItem,
  contact: Contact | undefined,
  account: Account | undefined,
): Promise<Settled> {
  const { engine } = context;
  const contactId = item.contactId as string;
  const kind = item.accountKind;
  const settled = (outcome: FirstSyncItemOutcome, reason: string | null): Settled => ({
    seq: item.seq,
    outcome,
    reason,
  });
  const linkedHere = async () => {
    const owner = await engine.store.findRelationByAccount(kind, item.accountId);
    return owner && owner.contactId === contactId ? owner : null;
  };
  try {
    return await underContactLock(engine, contactId, async () => {
      const existing = await linkedHere();
      if (existing) return settled('alreadyLinked', `relation ${existing.id}`);
      if (!contact) return settled('failed', `contact ${contactId} no longer exists in the CRM`);
      if (!account)
        return settled('failed', `${KIND_WORDS[kind]} ${item.accountId} no longer exists in the accounting system`);
      await link(context, { contactId, accountKind: kind, accountId: item.accountId, winner: 'contact' }, actor, {
        contact,
        account,
      });
      return settled('linked', null);
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // Linked, but reconciling failed: the relation stands and the next sync of the contact retries.
    if (await linkedHere().catch(() => null)) return settled('linked', reason);
    return settled('failed', reason);
  }
}

/** Creates a contact for an account, once per run and account however often the run is resumed. */
async function createOne(context: RelationContext, actor: Actor, runId: string, item: FirstSyncItem): Promise<Settled> {
  try {
    const result = await createContactFromAccount(
      context,
      {
        accountKind: item.accountKind,
        accountId: item.accountId,
        idempotencyKey: `first-sync-${runId}-${item.accountKind}-${item.accountId}`,
        origin: 'automatic',
      },
      actor,
    );
    return { seq: item.seq, outcome: 'created', reason: `contact ${result.contact.id}` };
  } catch (error) {
    if (error instanceof ConflictProblem && error.code === 'ACCOUNT_LINKED')
      return { seq: item.seq, outcome: 'alreadyLinked', reason: error.message };
    return { seq: item.seq, outcome: 'failed', reason: error instanceof Error ? error.message : String(error) };
  }
}

/** Maps items with at most `limit` calls in flight; results in the items' order. */
async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
