/**
 * Schemas of what Business Central's API v2.0 answers. Every response is parsed here before the
 * rest of the connector sees it, so a change on Microsoft's side fails loudly in one place.
 * https://learn.microsoft.com/dynamics365/business-central/dev-itpro/api-reference/v2.0/
 */
import { z } from 'zod';
import { InvalidResponseError } from '../kit/errors';

/** Text properties: BC sends '' for empty, and some versions omit properties they do not know. */
const text = z.string().nullish();

/** A customer, vendor, bank account or contact as BC sends it; only the properties we use. */
export const bcRecordSchema = z.object({
  '@odata.etag': z.string().optional(),
  id: z.string().min(1),
  number: text,
  displayName: text,
  type: text,
  companyNumber: text,
  companyName: text,
  addressLine1: text,
  addressLine2: text,
  city: text,
  state: text,
  country: text,
  postalCode: text,
  phoneNumber: text,
  mobilePhoneNumber: text,
  email: text,
  website: text,
  taxRegistrationNumber: text,
  currencyCode: text,
  salespersonCode: text,
  bankAccountNumber: text,
  iban: text,
  lastModifiedDateTime: z.string().min(1),
});
/** A record as parsed from BC. */
export type BcRecord = z.infer<typeof bcRecordSchema>;

/** One page of an OData collection. */
export const bcPageSchema = z.object({
  value: z.array(bcRecordSchema),
  '@odata.nextLink': z.string().optional(),
});
/** A parsed collection page. */
export type BcPage = z.infer<typeof bcPageSchema>;

/**
 * A sales quote or order as BC sends it; only what a CreatedDocument needs. Dates BC has not set
 * come as '0001-01-01'.
 */
export const bcDocumentSchema = z.object({
  id: z.string().min(1),
  number: text,
  externalDocumentNumber: text,
  documentDate: text,
  orderDate: text,
  customerId: text,
  vendorId: text,
  status: text,
});
/** A document as parsed from BC. */
export type BcDocument = z.infer<typeof bcDocumentSchema>;

/** One page of a document collection. */
export const bcDocumentPageSchema = z.object({
  value: z.array(bcDocumentSchema),
  '@odata.nextLink': z.string().optional(),
});

/** One answer inside a JSON `$batch` response. */
export const bcBatchResponseSchema = z.object({
  responses: z.array(
    z.object({
      id: z.string(),
      status: z.number().int(),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.unknown().optional(),
    }),
  ),
});
/** A parsed `$batch` response. */
export type BcBatchResponse = z.infer<typeof bcBatchResponseSchema>;

/** OData's error body: `{ error: { code, message } }`. */
export const bcErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** A webhook subscription. */
export const bcSubscriptionSchema = z.object({
  '@odata.etag': z.string().optional(),
  subscriptionId: z.string().min(1),
  notificationUrl: z.string(),
  resource: z.string(),
  clientState: z.string().nullish(),
  expirationDateTime: z.string().min(1),
});
/** A parsed subscription. */
export type BcSubscription = z.infer<typeof bcSubscriptionSchema>;

/** The list of subscriptions. */
export const bcSubscriptionListSchema = z.object({ value: z.array(bcSubscriptionSchema) });

/** The body BC posts to a notification URL. */
export const bcNotificationSchema = z.object({
  value: z.array(
    z.object({
      subscriptionId: z.string(),
      clientState: z.string().nullish(),
      expirationDateTime: z.string().optional(),
      resource: z.string().min(1),
      changeType: z.enum(['created', 'updated', 'deleted', 'collection']),
      lastModifiedDateTime: z.string().min(1),
    }),
  ),
});
/** A parsed notification body. */
export type BcNotification = z.infer<typeof bcNotificationSchema>;

/** Parses `data` or throws InvalidResponseError naming what was being read. */
export function parseResponse<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  const result = schema.safeParse(data);
  if (!result.success) {
    throw new InvalidResponseError(`business-central: unexpected ${what}: ${z.prettifyError(result.error)}`);
  }
  return result.data;
}
