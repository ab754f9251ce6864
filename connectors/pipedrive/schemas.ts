/**
 * Pipedrive API v2 answers, as far as tandem reads them (zod). Every answer is parsed before the
 * connector maps it; unknown properties are passed over, missing optional ones read as absent.
 * Shapes: https://developers.pipedrive.com/docs/api/v1/Organizations#getOrganization (v2 tab) and
 * https://developers.pipedrive.com/docs/api/v1/Persons#getPerson; the same shapes are the
 * `OrganizationItem` and `Person` models of the official `pipedrive` client.
 */
import { z } from 'zod';

/** An address as organizations (`address`) and persons (`postal_address`) carry it. */
export const addressSchema = z.object({
  value: z.string().nullish(),
  country: z.string().nullish(),
  admin_area_level_1: z.string().nullish(),
  admin_area_level_2: z.string().nullish(),
  locality: z.string().nullish(),
  sublocality: z.string().nullish(),
  route: z.string().nullish(),
  street_number: z.string().nullish(),
  subpremise: z.string().nullish(),
  postal_code: z.string().nullish(),
});
/** A Pipedrive address. */
export type PipedriveAddress = z.infer<typeof addressSchema>;

/** Custom field values by field key (a 40-character hash, https://pipedrive.readme.io/docs/core-api-concepts-custom-fields). */
const customFieldsSchema = z.record(z.string(), z.unknown());

/** An organization (GET /api/v2/organizations/{id}). */
export const organizationSchema = z.object({
  id: z.number().int(),
  name: z.string().nullish(),
  update_time: z.string().nullish(),
  is_deleted: z.boolean().optional(),
  address: addressSchema.nullish(),
  website: z.string().nullish(),
  custom_fields: customFieldsSchema.nullish(),
});
/** A Pipedrive organization. */
export type PipedriveOrganization = z.infer<typeof organizationSchema>;

/** An e-mail address or phone number of a person. */
const labelledValueSchema = z.object({
  value: z.string().nullish(),
  primary: z.boolean().nullish(),
  label: z.string().nullish(),
});
/** An e-mail address or phone number of a person, with its label. */
export type PipedriveLabelledValue = z.infer<typeof labelledValueSchema>;

/** A person (GET /api/v2/persons/{id}). */
export const personSchema = z.object({
  id: z.number().int(),
  name: z.string().nullish(),
  org_id: z.number().int().nullish(),
  update_time: z.string().nullish(),
  is_deleted: z.boolean().optional(),
  emails: z.array(labelledValueSchema).nullish(),
  phones: z.array(labelledValueSchema).nullish(),
  postal_address: addressSchema.nullish(),
  custom_fields: customFieldsSchema.nullish(),
});
/** A Pipedrive person. */
export type PipedrivePerson = z.infer<typeof personSchema>;

/** One answer of Pipedrive's v2 API: `data`, and for lists the cursor of the next page. */
export const singleAnswer = <T extends z.ZodType>(data: T) => z.object({ success: z.literal(true), data });
/** A page of a v2 list: `additional_data.next_cursor` is null on the last page. */
export const pageAnswer = <T extends z.ZodType>(item: T) =>
  z.object({
    success: z.literal(true),
    data: z.array(item),
    additional_data: z.object({ next_cursor: z.string().nullish() }).nullish(),
  });
