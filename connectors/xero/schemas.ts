/**
 * Zod schemas of what Xero sends: contacts, accounts and webhook bodies. Only the properties
 * tandem reads; the rest is dropped.
 * https://developer.xero.com/documentation/api/accounting/contacts
 */
import { z } from 'zod';

const text = z.string().nullish();

/** Xero's `/Date(1573755038314+0000)/` timestamp, as ISO 8601 (UTC). */
export function parseXeroDate(value: string): string | null {
  const match = /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/.exec(value.trim());
  if (match !== null) return new Date(Number(match[1])).toISOString();
  // Some endpoints and the webhooks send ISO 8601 without a zone; Xero means UTC.
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/.test(value) ? `${value}Z` : value;
  const parsed = Date.parse(iso);
  return Number.isNaN(parsed) ? null : new Date(parsed).toISOString();
}

/** A timestamp property parsed into ISO 8601; a value that is no date fails the parse. */
const xeroDate = z.string().transform((value, context) => {
  const parsed = parseXeroDate(value);
  if (parsed === null) {
    context.addIssue({ code: 'custom', message: `'${value}' is not a Xero date` });
    return z.NEVER;
  }
  return parsed;
});

/** One entry of a contact's `Phones`. */
const xeroPhoneSchema = z.object({
  PhoneType: z.string(),
  PhoneNumber: text,
  PhoneAreaCode: text,
  PhoneCountryCode: text,
});
export type XeroPhone = z.infer<typeof xeroPhoneSchema>;

/** One entry of a contact's `Addresses` (lines 3 and 4 are not synced). */
const xeroAddressSchema = z.object({
  AddressType: z.string(),
  AddressLine1: text,
  AddressLine2: text,
  City: text,
  Region: text,
  PostalCode: text,
  Country: text,
});
export type XeroAddress = z.infer<typeof xeroAddressSchema>;

/** A contact as Xero sends it. */
export const xeroContactSchema = z.object({
  ContactID: z.string().min(1),
  MergedToContactID: text,
  ContactNumber: text,
  AccountNumber: text,
  ContactStatus: text,
  Name: text,
  EmailAddress: text,
  TaxNumber: text,
  DefaultCurrency: text,
  IsCustomer: z.boolean().nullish(),
  IsSupplier: z.boolean().nullish(),
  Phones: z.array(xeroPhoneSchema).nullish(),
  Addresses: z.array(xeroAddressSchema).nullish(),
  UpdatedDateUTC: xeroDate.nullish(),
  ValidationErrors: z.array(z.object({ Message: z.string().nullish() })).nullish(),
});
export type XeroContact = z.infer<typeof xeroContactSchema>;

/** An item of a write answer with summarizeErrors=false: a refused create comes back without a ContactID. */
const xeroContactWriteSchema = xeroContactSchema.extend({ ContactID: z.string().nullish() });
export type XeroContactWrite = z.infer<typeof xeroContactWriteSchema>;

/** The answer of POST /Contacts. */
export const xeroContactWritesSchema = z.object({ Contacts: z.array(xeroContactWriteSchema) });

/** The `{ Contacts: [...] }` envelope of every contacts answer. */
export const xeroContactsSchema = z.object({
  Contacts: z.array(xeroContactSchema),
  pagination: z.object({ pageCount: z.number().int().optional() }).nullish(),
});

/** An account (chart of accounts) as Xero sends it. */
export const xeroAccountSchema = z.object({
  AccountID: z.string().min(1),
  Code: text,
  Name: text,
  Type: text,
  Status: text,
  BankAccountNumber: text,
  CurrencyCode: text,
  UpdatedDateUTC: xeroDate.nullish(),
});
export type XeroAccount = z.infer<typeof xeroAccountSchema>;

/** The `{ Accounts: [...] }` envelope. */
export const xeroAccountsSchema = z.object({ Accounts: z.array(xeroAccountSchema) });

/** One webhook event. https://developer.xero.com/documentation/guides/webhooks/overview */
export const webhookEventSchema = z.object({
  resourceUrl: z.string(),
  resourceId: z.string().min(1),
  eventDateUtc: z.string().min(1),
  eventType: z.string(),
  eventCategory: z.string(),
  tenantId: z.string().min(1),
  tenantType: z.string(),
});
export type WebhookEvent = z.infer<typeof webhookEventSchema>;

/** The body Xero posts to the webhook URL. */
export const webhookBodySchema = z.object({
  events: z.array(webhookEventSchema),
  firstEventSequence: z.number().int(),
  lastEventSequence: z.number().int(),
  entropy: z.string(),
});
