/**
 * The admin API's request and response shapes as zod schemas: requests are parsed with them, the
 * OpenAPI document is generated from the same schemas, and the CLI parses the daemon's answers
 * with the response schemas, so the three cannot drift apart.
 */
import { z } from 'zod';
import { SEARCH_MAX_LENGTH, SEARCH_MAX_RESULTS } from '../../../connectors/kit/search';
import { DOCUMENT_TYPES } from '../../../connectors/kit/types';
import { ACCOUNT_KINDS } from '../../core/model';

/** customer, vendor or bankAccount. */
export const accountKind = z.enum(ACCOUNT_KINDS);
/** Text from a request: PostgreSQL cannot store a NUL character in text. */
export const text = () => z.string().refine((value) => !value.includes('\u0000'), 'must not contain a NUL character');
/** A record id of either system: no control characters, which no system's ids have. */
export const recordId = z
  .string()
  .min(1)
  .max(200)
  // eslint-disable-next-line no-control-regex -- control characters are what it refuses
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters');
/** The name of a field of an account, as a template's values name it. */
const fieldName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z_][A-Za-z0-9_.:-]*$/, 'must be a field name (letters, digits, _ . : -)')
  .refine((name) => !['__proto__', 'constructor', 'prototype'].includes(name), 'is not a field name');
/** An ISO 8601 timestamp with a time zone, or a calendar date. */
export const isoTime = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);
const auditKind = z.enum(['fieldChange', 'conflict', 'link', 'unlink', 'create', 'delete', 'drift']);
const fieldValue = z.string().nullable();
/** One value or the value repeated (`?kind=customer&kind=vendor`). */
const oneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item)]);
const limit = (max: number) => z.coerce.number().int().min(1).max(max);
const offset = z.coerce.number().int().min(0);

// Requests

export const noParams = z.strictObject({});
export const noQuery = z.strictObject({});
export const idParams = z.strictObject({ id: recordId });
export const contactParams = z.strictObject({ contactId: recordId });
export const accountParams = z.strictObject({ kind: accountKind, accountId: recordId });

export const relationsQuery = z.strictObject({
  kind: accountKind.optional(),
  contactId: recordId.optional(),
  limit: limit(1000).optional(),
  offset: offset.optional(),
});
export const linkBody = z.strictObject({
  contactId: recordId,
  accountKind,
  accountId: recordId,
  winner: z.enum(['contact', 'account']).optional(),
});
export const createAccountBody = z.strictObject({
  accountKind,
  template: text().min(1).max(100).optional(),
  values: z.record(fieldName, text()).optional(),
});
export const searchQuery = z.strictObject({
  entity: z.enum(['contact', ...ACCOUNT_KINDS]),
  text: text()
    .max(SEARCH_MAX_LENGTH)
    .refine((value) => value.trim() !== '', 'must not be empty'),
  limit: limit(SEARCH_MAX_RESULTS).optional(),
});
export const matchesQuery = z.strictObject({ kind: oneOrMany(accountKind).optional() });
export const applyMatchesBody = z.strictObject({
  kinds: z.array(accountKind).optional(),
  minScore: z.number().min(0).optional(),
});
export const interactionBody = z.strictObject({
  type: text().min(1).max(100),
  description: text().min(1).max(2000),
  occurredAt: isoTime.optional(),
  who: text().min(1).max(200).optional(),
  relationId: recordId.optional(),
});
export const documentBody = z.strictObject({ type: z.enum(DOCUMENT_TYPES) });
export const auditQuery = z.strictObject({
  contactId: recordId.optional(),
  accountKind: accountKind.optional(),
  accountId: recordId.optional(),
  relationId: recordId.optional(),
  kind: auditKind.optional(),
  field: text().min(1).optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
  limit: limit(10_000).optional(),
});

// Responses (the handlers return the service's own types; the OpenAPI document and the CLI use these)

export const relationSchema = z.object({
  id: z.string(),
  contactId: z.string(),
  accountKind,
  accountId: z.string(),
  relationCode: z.string(),
  origin: z.enum(['linked', 'createdFromContact', 'createdFromAccount', 'automatic']),
  createdAt: z.string(),
});
const contactSchema = z.object({
  entity: z.literal('contact'),
  id: z.string(),
  type: z.enum(['company', 'person']),
  companyId: z.string().nullable(),
  fields: z.record(z.string(), fieldValue),
  modifiedAt: z.string(),
  version: z.string().optional(),
});
const accountSchema = z.object({
  entity: accountKind,
  id: z.string(),
  number: z.string().nullable(),
  fields: z.record(z.string(), fieldValue),
  modifiedAt: z.string(),
  contactPerson: z
    .object({ name: z.string(), email: fieldValue.optional(), phone: fieldValue.optional() })
    .nullable()
    .optional(),
  version: z.string().optional(),
});
export const searchHitSchema = z.object({
  entity: z.enum(['contact', ...ACCOUNT_KINDS]),
  id: z.string(),
  name: fieldValue,
  type: z.enum(['company', 'person']).nullable(),
  number: z.string().nullable(),
  email: fieldValue,
  vatRegistrationNo: fieldValue,
  city: fieldValue,
  relations: z.array(relationSchema),
});
export const linkResultSchema = z.object({
  relation: relationSchema,
  changes: z.array(
    z.object({ side: z.enum(['contact', 'account']), field: z.string(), from: fieldValue, to: fieldValue }),
  ),
});
const matchPairSchema = z.object({
  contactId: z.string(),
  contactName: z.string().nullable(),
  accountKind,
  accountId: z.string(),
  accountName: z.string().nullable(),
  score: z.number(),
  rule: z.string(),
});
const reviewSchema = z.array(z.object({ reason: z.string(), candidates: z.array(matchPairSchema) }));
export const matchProposalSchema = z.object({ pairs: z.array(matchPairSchema), review: reviewSchema });
export const applyResultSchema = z.object({
  linked: z.array(linkResultSchema),
  failed: z.array(z.object({ pair: matchPairSchema, reason: z.string() })),
  review: reviewSchema,
});
export const interactionSchema = z.object({
  id: z.string(),
  contactId: z.string(),
  type: z.string(),
  description: z.string(),
  occurredAt: z.string(),
  who: z.string(),
  source: z.enum(['tandem', 'external']),
  relationId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
});
const auditEntrySchema = z.object({
  id: z.string(),
  appliedAt: z.string(),
  kind: auditKind,
  relationId: z.string().nullable().optional(),
  contactId: z.string().nullable().optional(),
  accountKind: accountKind.nullable().optional(),
  accountId: z.string().nullable().optional(),
  field: z.string().nullable().optional(),
  oldValue: fieldValue.optional(),
  newValue: fieldValue.optional(),
  direction: z.enum(['toAccounting', 'toCrm']).nullable().optional(),
  sourceSystem: z.enum(['crm', 'accounting', 'tandem']).nullable().optional(),
  sourceModifiedAt: z.string().nullable().optional(),
  jobId: z.string().nullable().optional(),
  details: z.record(z.string(), z.unknown()).nullable().optional(),
});
export const auditListSchema = z.array(auditEntrySchema);
export const relationStatusSchema = z.object({
  relation: relationSchema,
  contact: contactSchema.nullable(),
  account: accountSchema.nullable(),
  fields: z.array(
    z.object({
      contactField: z.string(),
      accountField: z.string(),
      direction: z.enum(['both', 'toAccounting', 'toCrm']),
      contactValue: fieldValue,
      accountValue: fieldValue,
      inSync: z.boolean(),
      newer: z.enum(['contact', 'account']).nullable(),
    }),
  ),
  inSync: z.boolean(),
  /** The side a sync filter leaves out; the relation is then left alone. */
  filtered: z.enum(['contact', 'account']).nullable(),
  pendingJobs: z.array(z.object({ queue: z.string(), id: z.string(), state: z.string() })),
  lastError: z.object({ at: z.string(), reason: z.string(), jobId: z.string() }).nullable(),
  lastConflicts: auditListSchema,
});
export const createdAccountSchema = z.object({
  relation: relationSchema,
  account: accountSchema,
  created: z.boolean(),
});
export const createdContactSchema = z.object({
  relation: relationSchema,
  contact: contactSchema,
  person: contactSchema.nullable(),
  created: z.boolean(),
});
export const createdDocumentSchema = z.object({
  document: z.object({
    type: z.enum(DOCUMENT_TYPES),
    id: z.string(),
    number: z.string().nullable(),
    accountId: z.string(),
    date: z.string().nullable(),
    status: z.string().nullable(),
  }),
  interaction: interactionSchema,
  relation: relationSchema,
});
const jobCounts = z.object({
  waiting: z.number(),
  active: z.number(),
  delayed: z.number(),
  failed: z.number(),
  completed: z.number(),
});
export const daemonStatusSchema = z.object({
  role: z.enum(['all', 'api', 'worker', 'scheduler']),
  startedAt: z.string(),
  uptimeSeconds: z.number(),
  connectors: z.array(
    z.object({
      slot: z.enum(['crm', 'accounting']),
      name: z.string(),
      kind: z.string(),
      system: z.enum(['crm', 'accounting']),
    }),
  ),
  queues: z.record(z.string(), jobCounts),
  relations: z.record(accountKind, z.number()),
  relationCodes: z.record(accountKind, z.string().nullable()),
});
/** What GET /api/status answers. */
export type DaemonStatus = z.infer<typeof daemonStatusSchema>;
const driftedFieldSchema = z.object({
  contactField: z.string(),
  accountField: z.string(),
  contactValue: fieldValue,
  accountValue: fieldValue,
  shadowContact: fieldValue.optional(),
  shadowAccount: fieldValue.optional(),
  cause: z.enum(['missed', 'inconsistent', 'shadow']),
});
export const driftReportSchema = z.object({
  startedAt: z.string(),
  finishedAt: z.string(),
  relations: z.number(),
  drifted: z.number(),
  fields: z.object({ missed: z.number(), inconsistent: z.number(), shadow: z.number() }),
  repaired: z.number(),
  requests: z.object({ crm: z.number(), accounting: z.number() }),
  findings: z.array(
    z.object({
      relationId: z.string(),
      contactId: z.string(),
      accountKind,
      accountId: z.string(),
      missing: z.enum(['contact', 'account']).optional(),
      fields: z.array(driftedFieldSchema),
    }),
  ),
  stopped: z.boolean(),
});
export const driftStatusSchema = z.object({
  running: z.object({ startedAt: z.string(), done: z.number(), total: z.number() }).nullable(),
  last: driftReportSchema.nullable(),
});
export const driftStartSchema = z.object({ started: z.boolean(), status: driftStatusSchema });

export const firstSyncBody = z.strictObject({
  dryRun: z.boolean().default(false),
  kinds: z.array(accountKind).min(1).optional(),
  minScore: z.number().int().min(1).max(100).optional(),
});
const sides = z.object({ crm: z.number(), accounting: z.number() });
const firstSyncProgressSchema = z.object({
  startedAt: z.string(),
  dryRun: z.boolean(),
  phase: z.enum(['reading', 'linking']),
  read: sides,
  done: z.number(),
  total: z.number(),
});
export const firstSyncReportSchema = z.object({
  runId: z.string().nullable(),
  dryRun: z.boolean(),
  resumed: z.boolean(),
  startedAt: z.string(),
  finishedAt: z.string(),
  kinds: z.array(accountKind),
  counts: z.object({
    link: z.number(),
    create: z.number(),
    ambiguous: z.number(),
    unmatched: z.object({ contacts: z.number(), accounts: z.number() }),
    skipped: z.object({
      alreadyLinked: z.number(),
      rejected: z.number(),
      missingFields: z.number(),
      persons: z.number(),
    }),
  }),
  createReason: z.string().nullable(),
  outcome: z.object({ linked: z.number(), created: z.number(), alreadyLinked: z.number(), failed: z.number() }),
  failures: z.array(
    z.object({ contactId: z.string().nullable(), accountKind, accountId: z.string(), reason: z.string() }),
  ),
  review: z.array(
    z.object({
      reason: z.string(),
      candidates: z.array(
        z.object({
          contactId: z.string(),
          accountKind,
          accountId: z.string(),
          score: z.number(),
          rule: z.string(),
        }),
      ),
    }),
  ),
  requests: sides,
  stopped: z.boolean(),
});
export const firstSyncStatusSchema = z.object({
  running: firstSyncProgressSchema.nullable(),
  last: firstSyncReportSchema.nullable(),
});
export const firstSyncStartSchema = z.object({ started: z.boolean(), status: firstSyncStatusSchema });

/** Every error body. */
export const problemSchema = z.object({
  error: z.string(),
  message: z.string().optional(),
  field: z.string().optional(),
  reason: z.string().optional(),
  requestId: z.string().optional(),
});
