/**
 * The first sync of a company as the admin API, the CLI and the console reach it: start one (or
 * a dry run), and read how the running one is doing and what the last one did. The run's plan and
 * each pair's outcome are kept in the store, so a restarted daemon resumes it; its progress and
 * its last report are kept in Redis (src/main/first-sync.ts), so any process answers for it.
 */
import type { AccountKind, ConnectorSlot } from '../../core/model';

/** What to run. */
export interface FirstSyncOptions {
  /** Only count what would happen: nothing is linked, created or stored. */
  dryRun: boolean;
  /** The account kinds to match (default: every synchronized kind the accounting system serves). */
  kinds?: AccountKind[];
  /** Pairs scoring below this are not proposed (default: the config's matching.minScore). */
  minScore?: number;
}

/** Why records were left out of the matching. */
export interface FirstSyncSkipped {
  /** Accounts that already have a relation (and pairs found linked when their turn came). */
  alreadyLinked: number;
  /** Proposed pairs someone rejected in the matching review. */
  rejected: number;
  /** Company contacts and accounts with none of the fields a rule compares. */
  missingFields: number;
  /** Person contacts: accounts are linked to their company. */
  persons: number;
}

/** What the plan found: the dry run's answer, and the start of a real run. */
export interface FirstSyncCounts {
  /** Unambiguous pairs: linked by the run. */
  link: number;
  /** Accounts with no candidate at all whose kind creates contacts automatically. */
  create: number;
  /** Contacts or accounts with several equally good candidates: left for the matching review. */
  ambiguous: number;
  /** Records with match fields but no pair, and no contact to be created for them. */
  unmatched: { contacts: number; accounts: number };
  skipped: FirstSyncSkipped;
}

/** What a run did with its pairs and creations (all zero in a dry run). */
export interface FirstSyncOutcome {
  linked: number;
  created: number;
  /** Pairs that turned out to be linked already (by a run that stopped, or by someone else). */
  alreadyLinked: number;
  failed: number;
}

/** One pair or creation that failed. */
export interface FirstSyncFailure {
  contactId: string | null;
  accountKind: AccountKind;
  accountId: string;
  reason: string;
}

/** One ambiguous contact or account, for the report (the matching review has every one). */
export interface FirstSyncReview {
  reason: string;
  candidates: Array<{ contactId: string; accountKind: AccountKind; accountId: string; score: number; rule: string }>;
}

/** What one run (or dry run) found and did. */
export interface FirstSyncReport {
  /** The stored run; null for a dry run. */
  runId: string | null;
  dryRun: boolean;
  /** True when this run continued one a stopped or crashed process had begun. */
  resumed: boolean;
  startedAt: string;
  finishedAt: string;
  kinds: AccountKind[];
  counts: FirstSyncCounts;
  /** Why no contacts are (or only some are) created, when automatic creation is off or impossible. */
  createReason: string | null;
  outcome: FirstSyncOutcome;
  /** The first failures (the audit log and the run's items have every one). */
  failures: FirstSyncFailure[];
  /** The first ambiguous records. */
  review: FirstSyncReview[];
  /** Calls made per side: list pages and batch reads. */
  requests: Record<ConnectorSlot, number>;
  /** True when the run was stopped before it finished; the next start resumes it. */
  stopped: boolean;
}

/** How far a running first sync is. */
export interface FirstSyncProgress {
  startedAt: string;
  dryRun: boolean;
  /** Reading both systems page by page, then linking the pairs batch by batch. */
  phase: 'reading' | 'linking';
  /** Records read so far per side (reading). */
  read: Record<ConnectorSlot, number>;
  /** Pairs and creations settled so far, of the total (linking). */
  done: number;
  total: number;
}

/** The first sync's state. */
export interface FirstSyncStatus {
  running: FirstSyncProgress | null;
  last: FirstSyncReport | null;
}

/** Starts first syncs and tells their state. */
export interface FirstSyncControl {
  /** Starts a run unless one is running in any process; `started` says which. */
  start(options: FirstSyncOptions): Promise<{ started: boolean; status: FirstSyncStatus }>;
  status(): Promise<FirstSyncStatus>;
}
