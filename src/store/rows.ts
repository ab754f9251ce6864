/**
 * Pure mappers from database rows to the store's domain types. Rows are parsed, not cast: a value
 * the schema should have prevented (an unknown kind, a missing timestamp) fails loudly here
 * instead of travelling on as a wrong type.
 */
import { z } from 'zod';
import { ACCOUNT_KINDS, CONNECTOR_SLOTS, type BusinessRelation } from '../core/model';
import type { FieldObservation, RecordObservation } from '../core/observe';
import { InvalidStoredRowError } from './errors';
import type { SqlRow } from './sql-executor';
import type {
  AuditEntry,
  FirstSyncItem,
  FirstSyncRun,
  MatchRejection,
  OperationState,
  RotatedSecret,
  ShadowEntry,
  StagedAudit,
  StoredConfigVersion,
  StoredInteraction,
} from '../app/ports/store';

// Both drivers parse timestamptz into Date; a string is accepted too so a driver configured to
// return raw text still works.
const timestamp = z.union([z.date(), z.string()]).transform((value, context) => {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) {
    context.addIssue({ code: 'custom', message: `not a timestamp: ${String(value)}` });
    return z.NEVER;
  }
  return date.toISOString();
});
const nullableTimestamp = timestamp.nullable();
const nullableText = z.string().nullable();
const accountKind = z.enum(ACCOUNT_KINDS);

const relationRow = z.object({
  id: z.string(),
  contact_id: z.string(),
  account_kind: accountKind,
  account_id: z.string(),
  relation_code: z.string(),
  origin: z.enum(['linked', 'createdFromContact', 'createdFromAccount', 'automatic']),
  created_at: timestamp,
});

const shadowRow = z.object({
  relation_id: z.string(),
  side: z.enum(['contact', 'account']),
  field: z.string(),
  value: nullableText,
  source_modified_at: timestamp,
  synced_at: timestamp,
});

// jsonb arrives parsed from both drivers; text is tolerated for the same reason as timestamps.
const details = z
  .union([z.record(z.string(), z.unknown()), z.string()])
  .nullable()
  .transform((value, context) => {
    if (typeof value !== 'string') return value;
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = undefined;
    }
    const record = z.record(z.string(), z.unknown()).safeParse(parsed);
    if (!record.success) {
      context.addIssue({ code: 'custom', message: 'details is not a JSON object' });
      return z.NEVER;
    }
    return record.data;
  });

const auditRow = z.object({
  // Selected as id::text: pg returns bigint as a string, PGlite as a number.
  id: z.string(),
  kind: z.enum(['fieldChange', 'conflict', 'link', 'unlink', 'create', 'delete', 'drift']),
  relation_id: nullableText,
  contact_id: nullableText,
  account_kind: accountKind.nullable(),
  account_id: nullableText,
  field: nullableText,
  old_value: nullableText,
  new_value: nullableText,
  direction: z.enum(['toAccounting', 'toCrm']).nullable(),
  source_system: z.enum(['crm', 'accounting', 'tandem']).nullable(),
  source_modified_at: nullableTimestamp,
  job_id: nullableText,
  details,
  applied_at: timestamp,
});

/** A staged audit entry as stored: the NewAuditEntry it will become, as JSON. */
const stagedEntry = z.object({
  jobId: z.string().nullable(),
  entry: z.object({
    kind: auditRow.shape.kind,
    relationId: z.string().nullable().optional(),
    contactId: z.string().nullable().optional(),
    accountKind: accountKind.nullable().optional(),
    accountId: z.string().nullable().optional(),
    field: z.string().nullable().optional(),
    oldValue: z.string().nullable().optional(),
    newValue: z.string().nullable().optional(),
    direction: auditRow.shape.direction.optional(),
    sourceSystem: auditRow.shape.source_system.optional(),
    sourceModifiedAt: z.string().nullable().optional(),
    jobId: z.string().nullable().optional(),
    details: z.record(z.string(), z.unknown()).nullable().optional(),
  }),
});
const stagedAuditRow = z.object({
  plan_id: z.string(),
  contact_id: z.string(),
  job_ids: z.array(z.string()),
  entries: z.array(stagedEntry),
});

function parseRow<S extends z.ZodType>(table: string, schema: S, row: SqlRow): z.output<S> {
  const result = schema.safeParse(row);
  if (!result.success) {
    const issues = result.error.issues
      .map((issue) => `${issue.path.join('.') || '(row)'}: ${issue.message}`)
      .join('; ');
    throw new InvalidStoredRowError(table, issues);
  }
  return result.data;
}

/** A business_relation row as a `BusinessRelation`. */
export function toBusinessRelation(row: SqlRow): BusinessRelation {
  const r = parseRow('business_relation', relationRow, row);
  return {
    id: r.id,
    contactId: r.contact_id,
    accountKind: r.account_kind,
    accountId: r.account_id,
    relationCode: r.relation_code,
    origin: r.origin,
    createdAt: r.created_at,
  };
}

/** A timestamp as the drivers give it (Date, or text) in ISO form; undefined when it is none. */
function isoTime(value: unknown): string | undefined {
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
  return date === undefined || Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

const isText = (value: unknown): value is string => typeof value === 'string';
const isNullableText = (value: unknown): value is string | null => value === null || typeof value === 'string';

/** A relation_shadow row as a `ShadowEntry`. */
export function toShadowEntry(row: SqlRow): ShadowEntry {
  // Every plan reads many: the row is checked by hand, and only one that fails goes through the
  // schema, for its message.
  const { relation_id: relationId, side, field, value } = row;
  const sourceModifiedAt = isoTime(row['source_modified_at']);
  const syncedAt = isoTime(row['synced_at']);
  if (
    isText(relationId) &&
    (side === 'contact' || side === 'account') &&
    isText(field) &&
    isNullableText(value) &&
    sourceModifiedAt !== undefined &&
    syncedAt !== undefined
  )
    return { relationId, side, field, value, sourceModifiedAt, syncedAt };
  const r = parseRow('relation_shadow', shadowRow, row);
  return {
    relationId: r.relation_id,
    side: r.side,
    field: r.field,
    value: r.value,
    sourceModifiedAt: r.source_modified_at,
    syncedAt: r.synced_at,
  };
}

/** An audit_log row as an `AuditEntry`. */
export function toAuditEntry(row: SqlRow): AuditEntry {
  const r = parseRow('audit_log', auditRow, row);
  return {
    id: r.id,
    kind: r.kind,
    relationId: r.relation_id,
    contactId: r.contact_id,
    accountKind: r.account_kind,
    accountId: r.account_id,
    field: r.field,
    oldValue: r.old_value,
    newValue: r.new_value,
    direction: r.direction,
    sourceSystem: r.source_system,
    sourceModifiedAt: r.source_modified_at,
    jobId: r.job_id,
    details: r.details,
    appliedAt: r.applied_at,
  };
}

const interactionRow = z.object({
  id: z.string(),
  contact_id: z.string(),
  type: z.string(),
  description: z.string(),
  occurred_at: timestamp,
  who: z.string(),
  source: z.enum(['tandem', 'external']),
  relation_id: nullableText,
  details,
  created_at: timestamp,
});

/** An interaction row as a `StoredInteraction`. */
export function toInteraction(row: SqlRow): StoredInteraction {
  const r = parseRow('interaction', interactionRow, row);
  return {
    id: r.id,
    contactId: r.contact_id,
    type: r.type,
    description: r.description,
    occurredAt: r.occurred_at,
    who: r.who,
    source: r.source,
    relationId: r.relation_id,
    details: r.details,
    createdAt: r.created_at,
  };
}

const operationRow = z.object({
  key: z.string(),
  kind: z.string(),
  state: z.enum(['started', 'done', 'failed']),
  result: details,
  error: nullableText,
  started_at: timestamp,
  request: nullableText,
});

/** A relation_operation row as an `OperationState`. */
export function toOperation(row: SqlRow): OperationState {
  const r = parseRow('relation_operation', operationRow, row);
  return {
    key: r.key,
    kind: r.kind,
    state: r.state,
    result: r.result,
    error: r.error,
    startedAt: r.started_at,
    request: r.request,
  };
}

const matchRejectionRow = z.object({
  contact_id: z.string(),
  account_kind: accountKind,
  account_id: z.string(),
  rejected_by: z.string(),
  rejected_at: timestamp,
});

/** A match_rejection row as a `MatchRejection`. */
export function toMatchRejection(row: SqlRow): MatchRejection {
  const r = parseRow('match_rejection', matchRejectionRow, row);
  return {
    contactId: r.contact_id,
    accountKind: r.account_kind,
    accountId: r.account_id,
    rejectedBy: r.rejected_by,
    rejectedAt: r.rejected_at,
  };
}

const configVersionRow = z.object({
  version: z.number().int(),
  saved_at: timestamp,
  saved_by: z.string(),
  comment: nullableText,
  yaml: z.string(),
});

/** A config_version row as a `StoredConfigVersion`. */
export function toConfigVersion(row: SqlRow): StoredConfigVersion {
  const r = parseRow('config_version', configVersionRow, row);
  return { version: r.version, savedAt: r.saved_at, savedBy: r.saved_by, comment: r.comment, yaml: r.yaml };
}

const rotatedSecretRow = z.object({
  connector_slot: z.enum(CONNECTOR_SLOTS),
  name: z.string(),
  value: z.string(),
  rotated_at: timestamp,
});

/** A rotated_secret row as a `RotatedSecret`. */
export function toRotatedSecret(row: SqlRow): RotatedSecret {
  const r = parseRow('rotated_secret', rotatedSecretRow, row);
  return { slot: r.connector_slot, name: r.name, value: r.value, rotatedAt: r.rotated_at };
}

const observedField = z.object({
  value: z.string().nullable(),
  at: z.string(),
  since: z.string().nullable(),
  shared: z.boolean(),
  among: z.number().int().nonnegative().optional(),
});
const fieldObservation = observedField.extend({
  carried: z.boolean().optional(),
  replaced: z.string().nullable().optional(),
  overwritten: z.object({ value: z.string().nullable(), at: z.string() }).optional(),
  before: observedField.optional(),
});
const recordObservationRow = z.object({
  modified_at: z.string(),
  fields: z.record(z.string(), fieldObservation),
});

const OBSERVED_KEYS = new Set(['value', 'at', 'since', 'shared', 'among']);
const OBSERVATION_KEYS = new Set([...OBSERVED_KEYS, 'carried', 'replaced', 'overwritten', 'before']);

/** The check of observedField by hand: the keys it has and nothing else. */
function isObservedField(value: unknown, keys = OBSERVED_KEYS): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const field = value as Record<string, unknown>;
  return (
    Object.keys(field).every((key) => keys.has(key)) &&
    isNullableText(field['value']) &&
    isText(field['at']) &&
    isNullableText(field['since']) &&
    typeof field['shared'] === 'boolean' &&
    (field['among'] === undefined || (Number.isInteger(field['among']) && (field['among'] as number) >= 0))
  );
}

/** The check of fieldObservation by hand (see toRecordObservation). */
function isFieldObservation(value: unknown): value is FieldObservation {
  if (!isObservedField(value, OBSERVATION_KEYS)) return false;
  const { carried, replaced, overwritten, before } = value;
  return (
    (carried === undefined || typeof carried === 'boolean') &&
    (replaced === undefined || isNullableText(replaced)) &&
    (overwritten === undefined ||
      (typeof overwritten === 'object' &&
        overwritten !== null &&
        Object.keys(overwritten).every((key) => key === 'value' || key === 'at') &&
        isNullableText((overwritten as Record<string, unknown>)['value']) &&
        isText((overwritten as Record<string, unknown>)['at']))) &&
    (before === undefined || isObservedField(before))
  );
}

/**
 * An observation's fields as stored: each field without what is implied, a window that starts
 * where it ends (`since` equal to `at`) and `shared: false`. Every read and write of a record
 * moves one, so a fifth less to store and parse counts. toRecordObservation reads both forms.
 */
export function storedObservationFields(fields: Readonly<Record<string, FieldObservation>>): string {
  const compact = (field: Record<string, unknown>) => {
    const { since, shared, ...rest } = field;
    return { ...rest, ...(since !== field['at'] && { since }), ...(shared !== false && { shared }) };
  };
  return JSON.stringify(
    Object.fromEntries(
      Object.entries(fields).map(([name, { before, ...field }]) => [
        name,
        { ...compact(field), ...(before !== undefined && { before: compact({ ...before }) }) },
      ]),
    ),
  );
}

/** A stored field with what storedObservationFields left out put back; anything else as it is. */
function expanded(field: unknown): unknown {
  if (typeof field !== 'object' || field === null || Array.isArray(field)) return field;
  const stored = field as Record<string, unknown>;
  const full = (part: Record<string, unknown>) => ({
    ...part,
    since: 'since' in part ? part['since'] : part['at'],
    shared: 'shared' in part ? part['shared'] : false,
  });
  const { before } = stored;
  return {
    ...full(stored),
    ...(typeof before === 'object' && before !== null && !Array.isArray(before)
      ? { before: full(before as Record<string, unknown>) }
      : {}),
  };
}

/** A record_observation row as a `RecordObservation`. */
export function toRecordObservation(stored: SqlRow): RecordObservation {
  const row =
    typeof stored['fields'] === 'object' && stored['fields'] !== null && !Array.isArray(stored['fields'])
      ? {
          ...stored,
          fields: Object.fromEntries(
            Object.entries(stored['fields'] as Record<string, unknown>).map(([name, field]) => [name, expanded(field)]),
          ),
        }
      : stored;
  // Every read of a record reads one: checked by hand as toShadowEntry is.
  const { modified_at: modifiedAt, fields } = row;
  if (
    isText(modifiedAt) &&
    typeof fields === 'object' &&
    fields !== null &&
    !Array.isArray(fields) &&
    Object.values(fields).every(isFieldObservation)
  )
    return { modifiedAt, fields: fields as Record<string, FieldObservation> };
  const r = parseRow('record_observation', recordObservationRow, row);
  return { modifiedAt: r.modified_at, fields: r.fields };
}

/** A staged_audit row as a `StagedAudit`. */
export function toStagedAudit(row: SqlRow): StagedAudit {
  const r = parseRow('staged_audit', stagedAuditRow, row);
  return { planId: r.plan_id, contactId: r.contact_id, jobIds: r.job_ids, entries: r.entries };
}

const firstSyncRunRow = z.object({
  id: z.string(),
  state: z.enum(['linking', 'done']),
  started_at: timestamp,
  finished_at: nullableTimestamp,
  plan: details.pipe(z.record(z.string(), z.unknown())),
  report: details,
});

/** A first_sync_run row as a FirstSyncRun. */
export function toFirstSyncRun(row: SqlRow): FirstSyncRun {
  const r = parseRow('first_sync_run', firstSyncRunRow, row);
  return {
    id: r.id,
    state: r.state,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    plan: r.plan,
    report: r.report,
  };
}

const firstSyncItemRow = z.object({
  seq: z.number().int(),
  action: z.enum(['link', 'create']),
  contact_id: nullableText,
  account_kind: accountKind,
  account_id: z.string(),
  score: z.number().int().nullable(),
  rule: nullableText,
  outcome: z.enum(['linked', 'created', 'alreadyLinked', 'failed']).nullable(),
  reason: nullableText,
});

/** A first_sync_item row as a FirstSyncItem. */
export function toFirstSyncItem(row: SqlRow): FirstSyncItem {
  const r = parseRow('first_sync_item', firstSyncItemRow, row);
  return {
    seq: r.seq,
    action: r.action,
    contactId: r.contact_id,
    accountKind: r.account_kind,
    accountId: r.account_id,
    score: r.score,
    rule: r.rule,
    outcome: r.outcome,
    reason: r.reason,
  };
}
