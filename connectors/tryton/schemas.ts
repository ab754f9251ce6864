/**
 * Schemas of the records trytond 6.0 answers to `search_read`, with only the fields the connector
 * asks for. Model and field names are those of trytond/modules/party, bank, sale and purchase 6.0.
 * Dotted fields come back as an object (`country.code` as `country.`) or, for the records of a
 * One2Many or Many2Many, as a list in the field's order (`addresses.city` as `addresses.`): a
 * party is read with its children in one call.
 */
import { z } from 'zod';
import { trytonDateSchema, trytonDatetimeSchema } from './values';

const text = z.string().nullish();
const stamps = { id: z.number().int(), create_date: trytonDatetimeSchema, write_date: trytonDatetimeSchema.nullish() };
const related = <T extends z.ZodRawShape>(shape: T) => z.object({ id: z.number().int(), ...shape }).nullish();
const children = <T extends z.ZodRawShape>(shape: T) => z.array(z.object({ ...stamps, ...shape }));

/** The fields to ask for: `fields`, and those of `children` with their stamps (`addresses.city`, ...). */
function fieldList(fields: string[], nested: Record<string, string[]>): string[] {
  const childFields = Object.entries(nested).flatMap(([child, names]) =>
    [...names, 'create_date', 'write_date'].map((name) => `${child}.${name}`),
  );
  return [...fields, '_timestamp', 'create_date', 'write_date', ...childFields];
}

/**
 * party.party with its active contact mechanisms (phone, fax, email, website, ...), addresses
 * (`street` is a Text field, one line per address line; 6.0 calls the zip `postal_code`) and
 * identifiers (eu_vat, de_vat, ... and other codes), each in sequence order.
 */
export const partySchema = z.object({
  ...stamps,
  name: text,
  code: text,
  _timestamp: z.string().nullish(),
  'lang.': related({ code: z.string() }),
  'contact_mechanisms.': children({ type: z.string(), value: text }),
  'addresses.': children({
    street: text,
    postal_code: text,
    city: text,
    'country.': related({ code: z.string() }),
    'subdivision.': related({ name: z.string(), code: z.string() }),
  }),
  'identifiers.': children({ type: text, code: z.string() }),
});
export type Party = z.infer<typeof partySchema>;
export const PARTY_FIELDS = fieldList(['name', 'code', 'lang.code'], {
  contact_mechanisms: ['type', 'value'],
  addresses: ['street', 'postal_code', 'city', 'country.code', 'subdivision.name', 'subdivision.code'],
  identifiers: ['type', 'code'],
});

/** bank.account with its numbers (type `iban` or `other`; `number_compact` is the IBAN without spaces) and owner parties. */
export const bankAccountSchema = z.object({
  ...stamps,
  _timestamp: z.string().nullish(),
  'currency.': related({ code: z.string() }),
  'bank.': related({ bic: z.string().nullish() }),
  'numbers.': children({ type: z.string(), number: text, number_compact: text }),
  'owners.': children({ name: text }),
});
export type BankAccount = z.infer<typeof bankAccountSchema>;
export const BANK_ACCOUNT_FIELDS = fieldList(['currency.code', 'bank.bic'], {
  numbers: ['type', 'number', 'number_compact'],
  owners: ['name'],
});

/** sale.sale and purchase.purchase: the fields a started document reports. */
export const documentSchema = z.object({
  id: z.number().int(),
  number: text,
  reference: text,
  state: z.string(),
  party: z.number().int(),
  sale_date: trytonDateSchema.nullish(),
  purchase_date: trytonDateSchema.nullish(),
});
/** A bare `{id, ...}` row, for lookups by code or name. */
export const idRowSchema = z.object({ id: z.number().int() });
