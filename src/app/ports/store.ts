/**
 * The mapping store: business relations, the shadow of last-synced values, connector cursors,
 * the secrets connectors rotate, processed webhook event ids, and the append-only audit log. One interface, two backends
 * (Postgres through `pg`, embedded PGlite) sharing one schema and one set of migrations.
 */
import type {
  AccountKind,
  BusinessRelation,
  ConnectorSlot,
  FieldValue,
  RelationOrigin,
  SyncRecord,
} from '../../core/model';

/** A relation to create; id and createdAt are assigned by the store. */
export interface NewRelation {
  contactId: string;
  accountKind: AccountKind;
  accountId: string;
  relationCode: string;
  origin: RelationOrigin;
}

/** Which side of a relation a shadow value belongs to. */
export type Side = 'contact' | 'account';

/** The last value tandem synced for one field of one side of a relation. */
export interface ShadowEntry {
  relationId: string;
  side: Side;
  /** The field's canonical name on that side. */
  field: string;
  value: FieldValue;
  /** The source system's modification time of the record when this value was seen (ISO 8601). */
  sourceModifiedAt: string;
  /** When tandem recorded it (ISO 8601). */
  syncedAt: string;
}

/** What an audit entry records. */
export type AuditKind = 'fieldChange' | 'conflict' | 'link' | 'unlink' | 'create' | 'delete' | 'drift';

/** An audit entry to append. */
/**
 * A plan's audit entries, staged before its writes: each field change under the write job that
 * carries it (`jobId`), the plan's conflicts under none. Settled by the plan itself, or, when its
 * planner died, by the contact's next plan: a field change is recorded when its job completed, a
 * conflict when any of the plan's jobs did.
 */
export interface StagedAudit {
  planId: string;
  contactId: string;
  jobIds: string[];
  entries: Array<{ jobId: string | null; entry: NewAuditEntry }>;
}

export interface NewAuditEntry {
  kind: AuditKind;
  relationId?: string | null;
  contactId?: string | null;
  accountKind?: AccountKind | null;
  accountId?: string | null;
  field?: string | null;
  oldValue?: FieldValue;
  newValue?: FieldValue;
  /** For field changes: `toAccounting` or `toCrm`. */
  direction?: 'toAccounting' | 'toCrm' | null;
  /** The system whose change caused this entry. */
  sourceSystem?: 'crm' | 'accounting' | 'tandem' | null;
  sourceModifiedAt?: string | null;
  jobId?: string | null;
  /** Anything else worth keeping (conflict sides, the winner and why). */
  details?: Record<string, unknown> | null;
}

/** A stored audit entry. */
export interface AuditEntry extends NewAuditEntry {
  id: string;
  appliedAt: string;
}

/** Filters for reading the audit log; all optional, combined with AND. */
export interface AuditQuery {
  contactId?: string;
  accountKind?: AccountKind;
  accountId?: string;
  relationId?: string;
  kind?: AuditKind;
  field?: string;
  /** Inclusive lower bound on appliedAt (ISO 8601). */
  from?: string;
  /** Exclusive upper bound on appliedAt (ISO 8601). */
  to?: string;
  limit?: number;
  /** Newest entries first (default oldest first); with `limit`, the newest ones are kept. */
  newestFirst?: boolean;
}

/** A match proposal an operator turned down. */
export interface MatchRejection {
  contactId: string;
  accountKind: AccountKind;
  accountId: string;
  rejectedBy: string;
  rejectedAt: string;
}

/** A saved version of the config's editable sections. */
export interface StoredConfigVersion {
  version: number;
  savedAt: string;
  savedBy: string;
  comment: string | null;
  yaml: string;
}

/** A second relation of one kind for a contact, or an account already linked elsewhere. */
export class RelationConflictError extends Error {
  readonly code = 'RELATION_CONFLICT';
  constructor(message: string) {
    super(message);
    this.name = 'RelationConflictError';
  }
}

/** An interaction to append to a contact's log. */
export interface NewInteraction {
  contactId: string;
  type: string;
  description: string;
  /** When it happened (ISO 8601). */
  occurredAt: string;
  who: string;
  /** `tandem` for tandem's own actions, `external` for ones reported through the API. */
  source: 'tandem' | 'external';
  relationId?: string | null;
  details?: Record<string, unknown> | null;
}

/** A stored interaction. */
export interface StoredInteraction extends NewInteraction {
  id: string;
  relationId: string | null;
  details: Record<string, unknown> | null;
  createdAt: string;
}

/** The state of an idempotent operation. */
export interface OperationState {
  key: string;
  kind: string;
  state: 'started' | 'done' | 'failed';
  result: Record<string, unknown> | null;
  error: string | null;
  startedAt: string;
  /** What the key was first used for (a digest of the request), or null for a key stored without one. */
  request: string | null;
}

/** What `claimOperation` found: `claimed` is true when this caller now runs the operation. */
export interface OperationClaim {
  claimed: boolean;
  operation: OperationState;
}

/** A secret a connector rotated (Xero's refresh token), kept so the next start uses the newest one. */
export interface RotatedSecret {
  slot: ConnectorSlot;
  name: string;
  value: string;
  rotatedAt: string;
}

/** What a first-sync item does: link a proposed pair, or create a contact for an account. */
export type FirstSyncAction = 'link' | 'create';

/** How a first-sync item ended; null while it waits for its batch. */
export type FirstSyncItemOutcome = 'linked' | 'created' | 'alreadyLinked' | 'failed';

/** One item of a stored first-sync run, numbered in the order it is worked through. */
export interface FirstSyncItem {
  seq: number;
  action: FirstSyncAction;
  /** The contact of a pair; null for a creation. */
  contactId: string | null;
  accountKind: AccountKind;
  accountId: string;
  score: number | null;
  rule: string | null;
  outcome: FirstSyncItemOutcome | null;
  reason: string | null;
}

/** A stored first-sync run. */
export interface FirstSyncRun {
  id: string;
  state: 'linking' | 'done';
  startedAt: string;
  finishedAt: string | null;
  /** The run's options and plan, as the first sync wrote them (opaque to the store). */
  plan: Record<string, unknown>;
  report: Record<string, unknown> | null;
}

/** The mapping store. */
export interface Store {
  /** Applies pending migrations; safe to call on every start and from several processes. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  /** Creates a relation; throws RelationConflictError when a uniqueness rule is broken. */
  createRelation(relation: NewRelation): Promise<BusinessRelation>;
  getRelation(id: string): Promise<BusinessRelation | null>;
  findRelationsByContact(contactId: string): Promise<BusinessRelation[]>;
  findRelationByAccount(kind: AccountKind, accountId: string): Promise<BusinessRelation | null>;
  listRelations(options?: { kind?: AccountKind; limit?: number; offset?: number }): Promise<BusinessRelation[]>;
  /** Deletes a relation and its shadow; returns false when it did not exist. */
  deleteRelation(id: string): Promise<boolean>;
  /**
   * In one transaction: deletes a relation and its shadow, creates `replacement` (unless null),
   * and appends `audit`, whose `relationId` becomes the replacement's id when there is one. A
   * crash leaves the old relation or the new one, never neither. Returns the replacement.
   */
  replaceRelation(id: string, replacement: NewRelation | null, audit: NewAuditEntry): Promise<BusinessRelation | null>;

  /** The shadow of one relation (both sides, every field). */
  getShadow(relationId: string): Promise<ShadowEntry[]>;
  /** The shadows of several relations at once, keyed by relation id. */
  getShadows(relationIds: string[]): Promise<Map<string, ShadowEntry[]>>;

  /**
   * Upserts shadow entries and appends audit entries in one transaction, so the shadow never
   * claims a write the audit log does not show.
   */
  recordSync(shadow: ShadowEntry[], audit: NewAuditEntry[], settles?: string): Promise<void>;
  /**
   * Stages a plan's audit entries before its writes go out (see StagedAudit). `recordSync` with
   * `settles: planId` removes them again, appending the audit it is given only if they were still
   * staged, so that a plan and the recovery of it never both record it.
   */
  stageAudit(staged: StagedAudit): Promise<void>;
  /** The audit entries still staged for a contact's plans, oldest first. */
  stagedAudit(contactId: string): Promise<StagedAudit[]>;
  /** Appends `audit` and removes the plan's staged entries, if they were still staged; true when they were. */
  settleStagedAudit(planId: string, audit: NewAuditEntry[]): Promise<boolean>;
  /**
   * Forgets shadow entries (the drift sweep's repair of a shadow that claims two differing
   * records agreed) and appends audit entries, in one transaction.
   */
  forgetShadow(
    entries: Array<Pick<ShadowEntry, 'relationId' | 'side' | 'field'>>,
    audit: NewAuditEntry[],
  ): Promise<void>;
  appendAudit(entries: NewAuditEntry[]): Promise<void>;
  queryAudit(query: AuditQuery): Promise<AuditEntry[]>;

  /**
   * Keeps what tandem just read of these records (see core/observe.ts) and returns them with each
   * field's observed change time and window, in one transaction with the rows locked, so two
   * readers of one record (a poll and a sync) never lose each other's observation.
   */
  observeRecords<R extends SyncRecord>(
    slot: ConnectorSlot,
    records: readonly R[],
    /** For records a write of tandem's returned: the fields it wrote, by record id (see observeRecord). */
    written?: ReadonlyMap<string, readonly string[]>,
  ): Promise<R[]>;

  /**
   * Notes, before tandem writes `values` to a record it has observed, that each was carried from
   * a side where it was edited at `sources[field]` (core/observe.ts carryValues); `replaced`, where
   * the target has no etag, holds the values the plan read there. A record not observed yet is
   * left alone.
   */
  recordCarried(
    slot: ConnectorSlot,
    record: { entity: string; id: string },
    values: Readonly<Record<string, FieldValue>>,
    sources: Readonly<Record<string, string>>,
    replaced?: Readonly<Record<string, FieldValue>>,
  ): Promise<void>;

  getCursor(connector: string, entity: string): Promise<string | null>;
  setCursor(connector: string, entity: string, cursor: string): Promise<void>;

  /** Every rotated secret kept, by slot and name. */
  listRotatedSecrets(): Promise<RotatedSecret[]>;
  /** Keeps the newest value of a connector's rotated secret, in place of the one before. */
  saveRotatedSecret(slot: ConnectorSlot, name: string, value: string): Promise<void>;

  /** Refuses a signed-out console session from now until it would have expired (and forgets expired ones). */
  revokeSession(id: string, expiresAt: Date): Promise<void>;
  /** True when the console session was signed out. */
  isSessionRevoked(id: string): Promise<boolean>;

  /** Records a webhook event id; true when it is new, false when it was seen before. */
  markEventProcessed(source: string, eventId: string): Promise<boolean>;
  /** Forgets one event id again (its changes could not be enqueued, so a redelivery must count). */
  forgetProcessedEvent(source: string, eventId: string): Promise<void>;
  /** Forgets event ids older than `before` (ISO 8601); returns how many. */
  pruneProcessedEvents(before: string): Promise<number>;

  /** Appends one interaction to a contact's log. */
  appendInteraction(interaction: NewInteraction): Promise<StoredInteraction>;
  /** A contact's interactions, newest first. */
  listInteractions(contactId: string, options?: { limit?: number }): Promise<StoredInteraction[]>;

  /**
   * Claims an idempotency key. The caller runs the operation when the key is new, failed before,
   * or was started more than `leaseMs` ago by a process that never finished (a crash); otherwise
   * it gets the operation as it stands (started by someone else, or done with its result).
   * `request` (a digest) binds a new key to what it is used for; a key bound to another request is
   * never taken over, and the caller sees the stored `request` to refuse it.
   */
  claimOperation(key: string, kind: string, leaseMs: number, request?: string): Promise<OperationClaim>;
  /** Marks a claimed operation done with its result. */
  completeOperation(key: string, result: Record<string, unknown>): Promise<void>;
  /** Marks a claimed operation failed, so the next call with the key runs it again. */
  failOperation(key: string, error: string): Promise<void>;
  /** Drops a claimed operation that was refused before it did anything, leaving no trace of the call. */
  forgetOperation(key: string): Promise<void>;
  getOperation(key: string): Promise<OperationState | null>;

  /** One audit entry by id, or null. */
  getAuditEntry(id: string): Promise<AuditEntry | null>;
  /** Entries whose `details[key]` names one of `auditIds` (the console's overrides and undos), oldest first. */
  auditReferencing(key: 'overrides' | 'undoes', auditIds: string[]): Promise<AuditEntry[]>;
  /** The newest audit time per relation, for the given relations (all when omitted). */
  latestAuditAt(relationIds?: string[]): Promise<Map<string, string>>;

  /** Remembers a rejected match pair; rejecting it again keeps the first rejection. */
  rejectMatch(rejection: Omit<MatchRejection, 'rejectedAt'>): Promise<void>;
  listMatchRejections(): Promise<MatchRejection[]>;

  /**
   * Stores a new first-sync run with its items, in one transaction: a run is resumable only once
   * its whole plan is stored. Throws FirstSyncOpenError while another run is unfinished.
   */
  startFirstSyncRun(
    run: { id: string; startedAt: string; plan: Record<string, unknown> },
    items: ReadonlyArray<Omit<FirstSyncItem, 'outcome' | 'reason'>>,
  ): Promise<void>;
  /** The unfinished run, if any: the one a start resumes. */
  openFirstSyncRun(): Promise<FirstSyncRun | null>;
  /** The next unsettled items of a run, in order. */
  pendingFirstSyncItems(runId: string, limit: number): Promise<FirstSyncItem[]>;
  /** Settles items of a run, each with its outcome and, when it failed or was found linked, why. */
  settleFirstSyncItems(
    runId: string,
    outcomes: ReadonlyArray<{ seq: number; outcome: FirstSyncItemOutcome; reason: string | null }>,
  ): Promise<void>;
  /** How many items of a run have each outcome (`pending`: not settled yet), and the first failed ones. */
  tallyFirstSyncRun(
    runId: string,
    failures: number,
  ): Promise<{ counts: Record<FirstSyncItemOutcome | 'pending', number>; failed: FirstSyncItem[] }>;
  /** Marks a run done with its report. */
  finishFirstSyncRun(runId: string, report: Record<string, unknown>): Promise<void>;

  /** Saves a new version of the editable config; versions count up from 1. */
  saveConfigVersion(input: { savedBy: string; comment: string | null; yaml: string }): Promise<StoredConfigVersion>;
  getConfigVersion(version: number): Promise<StoredConfigVersion | null>;
  /** The newest version, or null before the first save. */
  latestConfigVersion(): Promise<StoredConfigVersion | null>;
  /** Every version, newest first. */
  listConfigVersions(): Promise<StoredConfigVersion[]>;

  /**
   * Checks once, without retrying, that the store answers; for /readyz. Throws a
   * StoreUnavailableError whose message says since when and why it does not.
   */
  checkReachable(): Promise<void>;
}

/** How long a caller turned away by an unavailable store is asked to wait (HTTP Retry-After). */
export const STORE_RETRY_AFTER_SECONDS = 30;

/**
 * The store's server could not be reached, or the connection broke, and retrying within the
 * store's bound did not help. `outcomeUnknown` is true when the connection was lost after a change
 * had been sent (while committing it): it may or may not be stored, so the caller must redo the
 * work, which every store call is written to make harmless. The message names the server as
 * host:port and the cause, never credentials.
 */
export class StoreUnavailableError extends Error {
  readonly code = 'STORE_UNAVAILABLE';
  readonly retryAfterSeconds = STORE_RETRY_AFTER_SECONDS;
  constructor(
    message: string,
    readonly details: {
      /** host:port of the server. */
      endpoint: string;
      /** When the store was first found unreachable in this outage (ISO 8601). */
      since: string;
      /** The cause in a few words: an errno code (`ECONNREFUSED`) or a SQLSTATE and its message. */
      reason: string;
      outcomeUnknown: boolean;
    },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** The StoreUnavailableError that caused `error`, looking through wrapping errors' causes. */
export function storeUnavailableIn(error: unknown): StoreUnavailableError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 10; depth += 1) {
    if (current instanceof StoreUnavailableError) return current;
    current = current.cause;
  }
  return undefined;
}

/** Rows returned by `queryAudit` when the query sets no limit. */
export const DEFAULT_AUDIT_LIMIT = 1000;
/** The most rows one `queryAudit` call returns, whatever limit it asks for. */
export const MAX_AUDIT_LIMIT = 10000;

/** An audit query asked for something the store will not do (for example a limit below 1). */
export class InvalidAuditQueryError extends Error {
  readonly code = 'STORE_INVALID_AUDIT_QUERY';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidAuditQueryError';
  }
}

/** Raised when a first-sync run is started while another one is unfinished. */
export class FirstSyncOpenError extends Error {
  constructor(readonly runId: string) {
    super(`first-sync run ${runId} is unfinished: resume it instead of starting another`);
    this.name = 'FirstSyncOpenError';
  }
}
