/**
 * The console API's request and response shapes (zod); requests are parsed with them and the
 * OpenAPI document is generated from them, like the admin API's (../api/schemas.ts).
 */
import { z } from 'zod';
import {
  accountKind,
  auditListSchema,
  auditQuery,
  driftStatusSchema,
  firstSyncStatusSchema,
  recordId,
  relationSchema,
  text,
} from '../api/schemas';

const relationState = z.enum(['inSync', 'pending', 'failing', 'conflict']);
const fieldValue = z.string().nullable();
/** The editable config as YAML; large enough for every mapping of every kind. */
const yamlText = text().max(200_000);

// Requests

export const relationRowsQuery = z.strictObject({
  kind: accountKind.optional(),
  state: relationState.optional(),
  text: text().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  offset: z.coerce.number().int().min(0).optional(),
});
export const conflictsQuery = z.strictObject({
  relationId: recordId.optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
export const auditIdParams = z.strictObject({ auditId: recordId });
export const applyLoserBody = z.strictObject({ loserIndex: z.number().int().min(0).optional() });
export const auditCsvQuery = auditQuery;
export const rejectMatchBody = z.strictObject({ contactId: recordId, accountKind, accountId: recordId });
export const yamlBody = z.strictObject({ yaml: yamlText });
export const saveConfigBody = z.strictObject({ yaml: yamlText, comment: text().min(1).max(500).optional() });
export const versionParams = z.strictObject({ version: z.coerce.number().int().min(1) });
export const historyQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).optional() });

// Responses (documentation only)

export const sessionSchema = z.object({ level: z.enum(['admin', 'viewer']) });
export const fieldsQuery = z.strictObject({ kind: accountKind });
const fieldDescription = z.object({
  name: z.string(),
  label: z.string(),
  type: z.enum(['text', 'number', 'date', 'boolean', 'enumeration']),
  writable: z.boolean(),
  options: z.array(z.object({ value: z.string(), label: z.string() })).optional(),
  custom: z.boolean(),
});
export const mappableFieldsSchema = z.object({
  contact: z.array(fieldDescription),
  account: z.array(fieldDescription),
});
export const overviewSchema = z.object({
  connectors: z.array(
    z.object({
      slot: z.enum(['crm', 'accounting']),
      kind: z.string(),
      healthy: z.boolean(),
      healthError: z.string().nullable(),
      lastSuccessfulPollAt: z.string().nullable(),
      webhooks: z.object({ enabled: z.boolean(), subscriptionsRenewAt: z.string().nullable() }),
      rateLimit: z.object({ max: z.number(), perMs: z.number(), usedInWindow: z.number() }).nullable(),
    }),
  ),
  queues: z.array(
    z.object({
      name: z.string(),
      waiting: z.number(),
      active: z.number(),
      delayed: z.number(),
      failed: z.number(),
      completedLast5m: z.number(),
      failedLast5m: z.number(),
    }),
  ),
  relations: z.object({
    inSync: z.number(),
    pending: z.number(),
    failing: z.number(),
    conflict: z.number(),
    total: z.number(),
  }),
  drift: driftStatusSchema.nullable(),
  firstSync: firstSyncStatusSchema.nullable(),
  latestErrors: z.array(
    z.object({
      at: z.string(),
      reason: z.string(),
      jobId: z.string(),
      queue: z.string(),
      contactId: z.string().nullable(),
      relationId: z.string().nullable(),
    }),
  ),
});
export const relationRowsSchema = z.object({
  rows: z.array(
    z.object({
      relation: relationSchema,
      contactName: fieldValue,
      accountName: fieldValue,
      state: relationState,
      lastActivityAt: z.string().nullable(),
    }),
  ),
  total: z.number(),
});
export const jobSchema = z.object({ jobId: z.string() });
export const writesSchema = z.object({ writes: z.number() });
const sideValue = z.object({ system: z.string(), value: fieldValue, modifiedAt: z.string() });
export const conflictsSchema = z.array(
  z.object({
    auditId: z.string(),
    relationId: z.string().nullable(),
    contactId: z.string().nullable(),
    field: z.string(),
    winner: sideValue,
    losers: z.array(sideValue.extend({ relationId: z.string().optional() })),
    reason: z.string(),
    at: z.string(),
    overriddenBy: z.string().nullable(),
  }),
);
export const historySchema = auditListSchema;
export const problemsSchema = z.object({
  problems: z.array(z.object({ path: z.string(), message: z.string() })),
  /** When valid: the editable sections the YAML says, as JSON (the mapping table reads them). */
  editable: z.record(z.string(), z.unknown()).optional(),
});
export const previewSchema = z.object({
  valid: z.literal(true),
  changedKeys: z.array(z.string()),
  writes: z.array(
    z.object({
      relationId: z.string(),
      system: z.enum(['crm', 'accounting']),
      entity: z.string(),
      recordId: z.string(),
      field: z.string(),
      from: fieldValue,
      to: fieldValue,
    }),
  ),
  summary: z.array(z.object({ system: z.enum(['crm', 'accounting']), field: z.string(), records: z.number() })),
  relationsChecked: z.number(),
});
export const configVersionSchema = z.object({
  version: z.number(),
  savedAt: z.string(),
  savedBy: z.string(),
  comment: z.string().nullable(),
  yaml: z.string(),
  resync: z.enum(['started', 'running', 'none']).optional(),
});
export const configStateSchema = z.object({
  source: z.enum(['file', 'stored']),
  version: z.number().nullable(),
  yaml: z.string(),
  fileDiffers: z.boolean(),
  fileYaml: z.string(),
});
export const relationIdParams = z.strictObject({ id: recordId });
