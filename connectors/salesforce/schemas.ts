/**
 * Schemas of the Salesforce REST API answers tandem reads; every answer is parsed here before the
 * rest of the connector sees it.
 * https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/intro_rest.htm
 */
import { z } from 'zod';

/** A field value as the REST API answers it: text, numbers and booleans; compound fields are objects. */
const fieldValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null(), z.record(z.string(), z.unknown())]);

/** One sObject record as SOQL and sObject Collections answer it: `attributes`, then the fields asked for. */
export const sObjectRecordSchema = z.looseObject({
  attributes: z.looseObject({ type: z.string() }).optional(),
  Id: z.string().regex(/^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/),
  SystemModstamp: z.string(),
  LastModifiedDate: z.string().optional(),
  IsDeleted: z.boolean().optional(),
  MasterRecordId: z.string().nullable().optional(),
});
export type SObjectRecord = z.infer<typeof sObjectRecordSchema> & Record<string, unknown>;

/** The value of one field of a record: text, or null for anything else (compound fields are not mapped). */
export function fieldText(record: Readonly<Record<string, unknown>>, field: string): string | null {
  const value = fieldValueSchema.catch(null).parse(record[field]);
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : null;
}

/** A page of GET /query (and of its nextRecordsUrl). */
export const queryPageSchema = <T extends z.ZodType>(record: T) =>
  z.object({
    totalSize: z.number().int().nonnegative(),
    done: z.boolean(),
    nextRecordsUrl: z.string().optional(),
    records: z.array(record),
  });

/** One entry of AccountHistory / ContactHistory, as a SOQL query selects it (with its AccountId or ContactId). */
export const historyEntrySchema = z.looseObject({
  Field: z.string(),
  OldValue: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
  NewValue: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
  CreatedDate: z.string(),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

/** A REST API error (the body of a 4xx is a list of them). */
export const apiErrorSchema = z.looseObject({
  statusCode: z.string().optional(),
  errorCode: z.string().optional(),
  message: z.string(),
  fields: z.array(z.string()).optional(),
});
export type ApiError = z.infer<typeof apiErrorSchema>;

/**
 * One SaveResult of a sObject Collections write, in the order of the records sent.
 * https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_update.htm
 */
export const saveResultSchema = z.object({
  id: z.string().nullable().optional(),
  success: z.boolean(),
  errors: z.array(apiErrorSchema),
});
export const saveResultsSchema = z.array(saveResultSchema);
export type SaveResult = z.infer<typeof saveResultSchema>;

/** GET /composite/sobjects/{type}?ids=...: the records in the order asked, null for an id not found. */
export const collectionReadSchema = z.array(sObjectRecordSchema.nullable());

/** The answer of GET /sobjects/{type}/deleted/?start=&end=. */
export const deletedSchema = z.object({
  deletedRecords: z.array(z.object({ id: z.string(), deletedDate: z.string() })),
  earliestDateAvailable: z.string().optional(),
  latestDateCovered: z.string(),
});

/** One field of GET /sobjects/{type}/describe. */
const describeFieldSchema = z.looseObject({
  name: z.string(),
  label: z.string(),
  type: z.string(),
  updateable: z.boolean(),
  calculated: z.boolean().optional(),
  custom: z.boolean(),
  picklistValues: z
    .array(z.looseObject({ value: z.string(), label: z.string().nullable(), active: z.boolean() }))
    .default([]),
});
export type DescribeField = z.infer<typeof describeFieldSchema>;

/** The answer of GET /sobjects/{type}/describe (the parts tandem reads). */
export const describeSchema = z.looseObject({ name: z.string(), fields: z.array(describeFieldSchema) });

/** The answer of GET /limits: DailyApiRequests (and the others, not read). */
export const limitsSchema = z.looseObject({
  DailyApiRequests: z.object({ Max: z.number().int().nonnegative(), Remaining: z.number().int() }),
});

/** SOSL's answer: the records found, each with its `attributes.type`. */
export const searchAnswerSchema = z.object({ searchRecords: z.array(sObjectRecordSchema) });
