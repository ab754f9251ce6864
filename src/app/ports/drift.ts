/**
 * The drift sweep as the admin API and the console reach it: start one now, and read how the
 * running one is doing and what the last one found. Kept in Redis by the daemon (src/main/drift.ts),
 * so any process answers for a sweep another one runs.
 */
import type { DriftCause, DriftedField } from '../../core/drift';
import type { AccountKind, ConnectorSlot } from '../../core/model';

/** One relation that drifted. */
export interface DriftFinding {
  relationId: string;
  contactId: string;
  accountKind: AccountKind;
  accountId: string;
  /** A record that no longer exists: the sync removes the relation, as the seed says. */
  missing?: 'contact' | 'account';
  fields: DriftedField[];
}

/** What one sweep found and did. */
export interface DriftReport {
  startedAt: string;
  finishedAt: string;
  /** Relations compared, and those that drifted. */
  relations: number;
  drifted: number;
  /** Drifted fields by cause. */
  fields: Record<DriftCause, number>;
  /** Contacts handed to the sync for repair. */
  repaired: number;
  /** Read calls made per side. */
  requests: Record<ConnectorSlot, number>;
  /** The first findings, for the report (the audit log has every one). */
  findings: DriftFinding[];
  /** True when the sweep was stopped before it walked every relation. */
  stopped: boolean;
}

/** How far a running sweep is. */
export interface DriftProgress {
  startedAt: string;
  /** Relations compared so far, of the total. */
  done: number;
  total: number;
}

/** The sweep's state. */
export interface DriftStatus {
  running: DriftProgress | null;
  last: DriftReport | null;
}

/** Starts sweeps and tells their state. */
export interface DriftControl {
  /** Starts a sweep unless one is running in any process; `started` says which. */
  start(): Promise<{ started: boolean; status: DriftStatus }>;
  status(): Promise<DriftStatus>;
}
