/**
 * Schemas of the HubSpot CRM v3 responses and webhook bodies tandem reads. Every response is
 * parsed here before the rest of the connector sees it.
 * https://developers.hubspot.com/docs/api/crm/understanding-the-crm
 */
import { z } from 'zod';

/**
 * One value in a property's history (HubSpot's ValueWithTimestamp): the value, when it was set and
 * by what (CRM_UI, INTEGRATION, IMPORT, ...). Keys HubSpot adds later are kept, not refused.
 */
const valueWithTimestampSchema = z.looseObject({ value: z.string(), timestamp: z.string(), sourceType: z.string() });

/** A CRM object (company or contact) as the v3 objects API returns it. */
export const hubSpotObjectSchema = z.object({
  id: z.string().regex(/^\d+$/),
  // HubSpot answers null for a requested property that has no value.
  properties: z.record(z.string(), z.string().nullable()),
  /** Asked for with `propertiesWithHistory`: each property's values, newest first. */
  propertiesWithHistory: z.record(z.string(), z.array(valueWithTimestampSchema)).optional(),
  updatedAt: z.string().optional(),
});

export type HubSpotObject = z.infer<typeof hubSpotObjectSchema>;

/**
 * One property of GET /crm/v3/properties/{objectType}: its name, label, type, options, and
 * whether its value may be written. Keys HubSpot adds later are kept, not refused.
 * https://developers.hubspot.com/docs/api-reference/legacy/crm/properties/get-properties
 */
const propertySchema = z.looseObject({
  name: z.string(),
  label: z.string(),
  type: z.string(),
  options: z.array(z.looseObject({ label: z.string(), value: z.string(), hidden: z.boolean().optional() })).default([]),
  calculated: z.boolean().optional(),
  hidden: z.boolean().optional(),
  modificationMetadata: z.looseObject({ readOnlyValue: z.boolean() }).optional(),
});

/** The answer of GET /crm/v3/properties/{objectType}. */
export const propertiesSchema = z.object({ results: z.array(propertySchema) });
export type HubSpotProperty = z.infer<typeof propertySchema>;

/** A page of GET /crm/v3/objects/{type}. */
export const listPageSchema = z.object({
  results: z.array(hubSpotObjectSchema),
  paging: z.object({ next: z.object({ after: z.string() }).optional() }).optional(),
});

/** A page of POST /crm/v3/objects/{type}/search. */
export const searchPageSchema = listPageSchema.extend({ total: z.number().int().nonnegative() });

/** One error of a batch answered 207 Multi-Status. */
const batchErrorSchema = z.object({
  category: z.string().optional(),
  message: z.string().optional(),
  context: z.record(z.string(), z.array(z.string())).optional(),
});

/** The answer of batch/read and batch/update (200, or 207 when some inputs failed). */
export const batchResponseSchema = z.object({
  status: z.string(),
  results: z.array(hubSpotObjectSchema),
  errors: z.array(batchErrorSchema).optional(),
});

/**
 * One webhook event. Classic app subscriptions name the object in `subscriptionType`
 * (`contact.propertyChange`); apps on the newer developer platform send `object.propertyChange`
 * with an `objectTypeId` (0-1 contact, 0-2 company).
 * https://developers.hubspot.com/docs/api/webhooks
 */

/** The latest time a JavaScript Date can hold, in epoch ms. */
const MAX_EPOCH_MS = 8.64e15;
const webhookEventSchema = z.looseObject({
  eventId: z.union([z.number(), z.string()]),
  subscriptionType: z.string(),
  // Epoch ms; beyond what a Date holds it cannot be a time at all.
  occurredAt: z.number().int().min(0).max(MAX_EPOCH_MS),
  objectId: z.number().optional(),
  objectTypeId: z.string().optional(),
});

export type WebhookEvent = z.infer<typeof webhookEventSchema>;

/** The body of one webhook call: HubSpot batches up to 100 events per request. */
export const webhookBodySchema = z.array(webhookEventSchema);
