/**
 * The operations behind the web console, beyond the business-relation operations: overview,
 * relation states, conflicts, undo, the mapping editor with preview and versions, match review.
 * Implemented by createConsoleService (src/app/console); served under /api by src/http/console.
 */
import type { FieldDescription } from '../../../connectors/kit/types';
import type { DriftStatus } from './drift';
import type { FirstSyncStatus } from './first-sync';
import type { AccountKind, BusinessRelation, FieldValue } from '../../core/model';
import type { MatchPair, MatchProposal } from './relations';
import type { AuditEntry, AuditQuery } from './store';

/** How a relation stands, for filtering and the overview's counts. */
export type RelationState = 'inSync' | 'pending' | 'failing' | 'conflict';

/** A relation in the console's list: the relation, names for searching, and its state. */
export interface RelationRow {
  relation: BusinessRelation;
  contactName: FieldValue;
  accountName: FieldValue;
  state: RelationState;
  /** The newest audit entry's time, when any. */
  lastActivityAt: string | null;
}

/** Per connector, what ops want to see. */
export interface ConnectorOverview {
  slot: 'crm' | 'accounting';
  kind: string;
  healthy: boolean;
  healthError: string | null;
  lastSuccessfulPollAt: string | null;
  webhooks: { enabled: boolean; subscriptionsRenewAt: string | null };
  /** Configured write limit and what was used in the last window, when a limit is set. */
  rateLimit: { max: number; perMs: number; usedInWindow: number } | null;
}

/** The console's first page. */
export interface Overview {
  connectors: ConnectorOverview[];
  queues: Array<{
    name: string;
    waiting: number;
    active: number;
    delayed: number;
    failed: number;
    completedLast5m: number;
    failedLast5m: number;
  }>;
  relations: Record<RelationState, number> & { total: number };
  /** The drift sweep: how far the running one is, and what the last one found (absent without one). */
  drift: DriftStatus | null;
  /** The first sync: how far the running one is, and what the last one (or dry run) did (absent without one). */
  firstSync: FirstSyncStatus | null;
  latestErrors: Array<{
    at: string;
    reason: string;
    jobId: string;
    queue: string;
    contactId: string | null;
    relationId: string | null;
  }>;
}

/** A conflict as the console lists it (from the audit log). */
export interface ConflictRow {
  auditId: string;
  relationId: string | null;
  contactId: string | null;
  field: string;
  winner: { system: string; value: FieldValue; modifiedAt: string };
  losers: Array<{ system: string; value: FieldValue; modifiedAt: string; relationId?: string }>;
  reason: string;
  at: string;
  /** Set once someone applied the losing value. */
  overriddenBy: string | null;
}

/** One write a config change would make. */
export interface PreviewWrite {
  relationId: string;
  system: 'crm' | 'accounting';
  entity: 'contact' | AccountKind;
  recordId: string;
  field: string;
  from: FieldValue;
  to: FieldValue;
}

/** What saving a config would do. */
export interface ConfigPreview {
  valid: true;
  /** Changed keys, as dotted paths, e.g. mappings.customer, relationCodes.vendor. */
  changedKeys: string[];
  writes: PreviewWrite[];
  /** Counts per target: how many records would be written on each side, per field. */
  summary: Array<{ system: 'crm' | 'accounting'; field: string; records: number }>;
  relationsChecked: number;
}

/** A stored version of the editable config. */
export interface ConfigVersion {
  version: number;
  savedAt: string;
  savedBy: string;
  comment: string | null;
  /** The editable sections (mappings, relationCodes, templates, matching, automaticContacts, conflicts, persons), as YAML. */
  yaml: string;
  /**
   * On a save that changed the mappings or filters: whether a drift sweep was started to apply
   * them to every relation ('started'), one was already running ('running': the next applies
   * them), or none can run here ('none': the scheduled sweep will).
   */
  resync?: 'started' | 'running' | 'none';
}

/** Which config is in force and whether the file agrees. */
export interface ConfigState {
  /** 'file' until a version is saved from the console; then 'stored'. */
  source: 'file' | 'stored';
  version: number | null;
  yaml: string;
  /** True when the file's editable sections differ from the version in force; the console shows it. */
  fileDiffers: boolean;
  fileYaml: string;
}

/** Validation problems, one per key path. */
export interface ConfigProblem {
  path: string;
  message: string;
  /** The line of the YAML the problem is on, when known. */
  line?: number;
}

/** The console's operations. Problems are the Problem errors of ./problems. */
/** The fields of both sides of an account kind, as the providers describe them. */
export interface MappableFields {
  contact: FieldDescription[];
  account: FieldDescription[];
}

export interface ConsoleService {
  overview(): Promise<Overview>;
  listRelationRows(filter: {
    kind?: AccountKind;
    state?: RelationState;
    text?: string;
    limit?: number;
    offset?: number;
  }): Promise<{ rows: RelationRow[]; total: number }>;
  /** Enqueues a sync of the relation's contact now. */
  resync(relationId: string, actor: { name: string }): Promise<{ jobId: string }>;
  listConflicts(filter: { relationId?: string; limit?: number }): Promise<ConflictRow[]>;
  /** Writes the conflict's losing value to both sides through the write pipeline; audited. */
  applyLosingValue(
    auditId: string,
    input: { loserIndex?: number },
    actor: { name: string },
  ): Promise<{ writes: number }>;
  /** Writes an audited field change's old value back through the write pipeline; audited. */
  undo(auditId: string, actor: { name: string }): Promise<{ writes: number }>;
  /** The audit log as CSV (header row first). */
  auditCsv(query: AuditQuery): Promise<string>;
  /** Match review: proposals without rejected pairs; reject remembers a pair so it is not proposed again. */
  rejectMatch(pair: Pick<MatchPair, 'contactId' | 'accountKind' | 'accountId'>, actor: { name: string }): Promise<void>;
  configState(): Promise<ConfigState>;
  /**
   * The fields a mapping or filter of an account kind may name, as each provider describes them
   * (custom fields included): the CRM's contact fields and the kind's account fields.
   */
  describeFields(kind: AccountKind): Promise<MappableFields>;
  /** Validates editable YAML against the same schema as the file; problems per key path. */
  validateConfig(yaml: string): Promise<ConfigProblem[]>;
  /** The editable sections the YAML says (defaults filled in), as plain data; null when it does not parse. */
  editableConfig(yaml: string): Promise<Record<string, unknown> | null>;
  /** What saving this YAML would write, where, for how many records (a dry run; nothing is written). */
  previewConfig(yaml: string): Promise<ConfigPreview>;
  /** Saves a new version and applies it without a restart (every process picks it up). */
  saveConfig(yaml: string, input: { comment?: string }, actor: { name: string }): Promise<ConfigVersion>;
  listConfigVersions(): Promise<ConfigVersion[]>;
  /** Makes an earlier version current again (as a new version). */
  restoreConfigVersion(version: number, actor: { name: string }): Promise<ConfigVersion>;
  /** Audit entries for a relation, newest first. */
  history(relationId: string, limit?: number): Promise<AuditEntry[]>;
  /** Match proposals of the relation service, less the pairs an operator rejected. */
  proposeMatches?(input: { kinds?: AccountKind[] }): Promise<MatchProposal>;
  /** Saves the file's editable sections as a new version (when the console shows fileDiffers). */
  importFileConfig?(actor: { name: string }): Promise<ConfigVersion>;
}
