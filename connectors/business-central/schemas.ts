/**
 * Schemas of what Business Central's API v2.0 answers with records. Every answer is parsed before
 * the rest of the connector sees it, so a change on Microsoft's side fails loudly in one place.
 * https://learn.microsoft.com/dynamics365/business-central/dev-itpro/api-reference/v2.0/
 */
import { z } from 'zod';

/** Text properties: BC sends '' for empty, and some versions omit properties they do not know. */
export const text = z.string().nullish();

/**
 * A customer, vendor, bank account or contact as BC sends it: the properties tandem maps are
 * checked, the others (read as custom fields where a mapping names them) kept as they came.
 */
export const recordSchema = z.looseObject({
  '@odata.etag': z.string().optional(),
  id: z.string().min(1),
  number: text,
  displayName: text,
  type: text,
  companyNumber: text,
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
export type BcRecord = z.infer<typeof recordSchema>;

/** One page of an OData collection of `item`s. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ value: z.array(item), '@odata.nextLink': z.string().optional() });
