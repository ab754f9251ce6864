/** The Salesforce connector's own config keys (connectors.<slot> with `kind: salesforce`). */
import { z } from 'zod';
import { CONTACT_FIELDS, type ContactField } from '../../src/core/model';

/** A field name of an sObject: letters, digits and underscores (custom ones end in __c). */
const sObjectField = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,79}$/, 'a Salesforce field name');
const fieldMap = z.partialRecord(z.enum(CONTACT_FIELDS as [ContactField, ...ContactField[]]), sObjectField.nullable());

/**
 * The connected app's credentials (client credentials flow) and how the org is set up. `baseUrl`
 * is the org's My Domain (https://<domain>.my.salesforce.com); the token endpoint is its
 * /services/oauth2/token unless `tokenUrl` says otherwise.
 */
export const salesforceConfig = z.object({
  /** No webhooks: changes are polled (SystemModstamp and getDeleted). */
  webhooks: z.literal(false).default(false),
  credentials: z
    .object({
      clientId: z.string().min(1),
      clientSecret: z.string().min(1),
      tokenUrl: z.url().optional(),
    })
    .strict(),
  /** Overrides of the canonical field -> sObject field maps; null leaves a field unmapped. */
  fieldMap: z
    .object({
      /** Accounts (company contacts). */
      company: fieldMap.optional(),
      /** Contacts (person contacts). */
      person: fieldMap.optional(),
    })
    .strict()
    .optional(),
  /** The org has state and country picklists on: county and countryCode go to the *StateCode / *CountryCode fields. */
  stateAndCountryPicklists: z.boolean().default(false),
  /** Field history tracking is on for Account and Contact: reads by id take each field's change time from it. */
  fieldHistory: z.boolean().default(false),
  /** The custom text field (External Id, unique) on Account and Contact that holds a create's idempotency key. */
  idempotencyField: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_]*__c$/, 'a custom field name ending in __c')
    .default('Tandem_Idempotency_Key__c'),
  /** The share of the org's daily API allocation tandem leaves to other integrations (0 to 0.5). */
  dailyReserve: z.number().min(0).max(0.5).default(0.1),
});
