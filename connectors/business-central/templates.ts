/**
 * Template values a create may carry besides the canonical fields (`options.extra`): payment terms,
 * currency, blocked state, a chosen number, ... Each key is checked against what BC's API v2.0 lets
 * a client write on that entity, before any request, so a template typo names itself instead of
 * coming back as BC's 400 after the record half exists elsewhere.
 * https://learn.microsoft.com/dynamics365/business-central/dev-itpro/api-reference/v2.0/resources/dynamics_customer
 */
import { z } from 'zod';
import { InvalidRequestError } from '../kit/errors';
import { FIELD_MAP, type BcEntity } from './mappers';
import { GUID } from './odata';

/** A value BC accepts in a create body. */
type TemplateValue = string | number | boolean;

const guid = z.string().regex(GUID, 'must be a GUID');
/** A `Code[n]` property: BC refuses longer values. */
const code = (length: number) => z.string().max(length);
/** Decimals may come from a template as text ("5000"); BC wants a JSON number. */
const decimal = z.union([
  z.number(),
  z
    .string()
    .trim()
    .regex(/^-?\d+(\.\d+)?$/, 'must be a number')
    .transform(Number),
]);
const boolean = z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')]);

/**
 * Writable BC properties per entity that no canonical field covers, with their types (API v2.0
 * resource pages for customer, vendor, bankAccount and contact; `number` is the record's No.).
 */
const TEMPLATE_PROPERTIES: Record<BcEntity, Readonly<Record<string, z.ZodType<TemplateValue>>>> = {
  customer: {
    number: code(20),
    type: z.enum(['Company', 'Person']),
    salespersonCode: code(20),
    creditLimit: decimal,
    taxLiable: boolean,
    taxAreaId: guid,
    currencyId: guid,
    currencyCode: code(10),
    paymentTermsId: guid,
    shipmentMethodId: guid,
    paymentMethodId: guid,
    blocked: z.enum([' ', 'Ship', 'Invoice', 'All']),
  },
  vendor: {
    number: code(20),
    currencyId: guid,
    currencyCode: code(10),
    irs1099Code: code(10),
    paymentTermsId: guid,
    paymentMethodId: guid,
    taxLiable: boolean,
    blocked: z.enum([' ', 'Payment', 'All']),
  },
  bankAccount: {
    number: code(20),
    bankAccountNumber: z.string().max(30),
    iban: code(50),
    currencyId: guid,
    currencyCode: code(10),
    blocked: boolean,
    intercompanyEnabled: boolean,
  },
  contact: {
    number: code(20),
    type: z.enum(['Company', 'Person']),
    companyNumber: code(20),
    privacyBlocked: boolean,
  },
};

/** Every key `extra` may hold for an entity: the template properties and the canonical fields' BC properties. */
export function acceptedExtraKeys(entity: BcEntity): string[] {
  return [...new Set([...Object.keys(TEMPLATE_PROPERTIES[entity]), ...Object.values(FIELD_MAP[entity])])];
}

/**
 * Checks `extra` for a create of `entity` and returns it as BC wants it (numbers and booleans
 * typed). Null and undefined values are left out (the template does not set them). An unknown key
 * or a value of the wrong type is an InvalidRequestError naming the key.
 */
export function parseTemplateValues(
  entity: BcEntity,
  extra: Record<string, unknown> = {},
): Record<string, TemplateValue> {
  const mapped = new Set<string>(Object.values(FIELD_MAP[entity]));
  const what = `business-central: ${entity} create`;
  return Object.fromEntries(
    Object.entries(extra).flatMap(([key, value]) => {
      if (value === null || value === undefined) return [];
      const schema = TEMPLATE_PROPERTIES[entity][key] ?? (mapped.has(key) ? z.string() : undefined);
      if (schema === undefined) {
        const accepted = acceptedExtraKeys(entity).join(', ');
        throw new InvalidRequestError(`${what}: '${key}' is not a property BC accepts (accepted: ${accepted})`);
      }
      const parsed = schema.safeParse(value);
      if (!parsed.success)
        throw new InvalidRequestError(
          `${what}: '${key}' ${parsed.error.issues.map((issue) => issue.message).join('; ')}`,
        );
      return [[key, parsed.data]];
    }),
  );
}
