/**
 * Schemas of the records trytond 6.0 answers to `search_read`, with only the fields the connector
 * asks for. Model and field names are those of trytond/modules/party, bank, sale and purchase 6.0.
 * Dotted fields (`country.code`) come back as a `country.` object.
 */
import { z } from 'zod';
import { trytonDateSchema, trytonDatetimeSchema } from './values';

const text = z.string().nullish();
const stamps = { id: z.number().int(), create_date: trytonDatetimeSchema, write_date: trytonDatetimeSchema.nullish() };
const related = <T extends z.ZodRawShape>(shape: T) => z.object({ id: z.number().int(), ...shape }).nullish();

/** party.party: the fields read for customers and vendors. */
export const partySchema = z.object({
  ...stamps,
  name: text,
  code: text,
  _timestamp: z.string().nullish(),
  'lang.': related({ code: z.string() }),
});
/** party.contact_mechanism: phone, mobile, fax, email, website, ... of a party. */
export const contactMechanismSchema = z.object({ ...stamps, party: z.number().int(), type: z.string(), value: text });
/** party.address: `street` is a Text field, one line per address line; 6.0 calls the zip `postal_code`. */
export const addressSchema = z.object({
  ...stamps,
  party: z.number().int(),
  street: text,
  postal_code: text,
  city: text,
  'country.': related({ code: z.string() }),
  'subdivision.': related({ name: z.string(), code: z.string() }),
});
/** party.identifier: tax identifiers (eu_vat, de_vat, ...) and other codes. */
export const identifierSchema = z.object({ ...stamps, party: z.number().int(), type: text, code: z.string() });
/** bank.account: owners are parties, numbers are bank.account.number records. */
export const bankAccountSchema = z.object({
  ...stamps,
  _timestamp: z.string().nullish(),
  owners: z.array(z.number().int()),
  'currency.': related({ code: z.string() }),
  'bank.': related({ bic: z.string().nullish() }),
});
/** bank.account.number: type `iban` or `other`; `number_compact` is the IBAN without spaces. */
export const bankAccountNumberSchema = z.object({
  ...stamps,
  account: z.number().int(),
  type: z.string(),
  number: text,
  number_compact: text,
});
/** The owner parties of bank accounts. */
export const ownerSchema = z.object({ ...stamps, name: text });
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

export type PartyRow = z.infer<typeof partySchema>;
export type ContactMechanismRow = z.infer<typeof contactMechanismSchema>;
export type AddressRow = z.infer<typeof addressSchema>;
export type IdentifierRow = z.infer<typeof identifierSchema>;
export type BankAccountRow = z.infer<typeof bankAccountSchema>;
export type BankAccountNumberRow = z.infer<typeof bankAccountNumberSchema>;
export type OwnerRow = z.infer<typeof ownerSchema>;
export type DocumentRow = z.infer<typeof documentSchema>;
