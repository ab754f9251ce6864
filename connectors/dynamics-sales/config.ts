/** The Dynamics 365 Sales connector's own config keys (connectors.<slot> with `kind: dynamics-sales`). */
import { z } from 'zod';
import { CONTACT_FIELDS, type ContactField } from '../../src/core/model';

/** A Dataverse column's logical name: lower-case letters, digits and underscores (custom ones carry a publisher prefix). */
const columnName = z.string().regex(/^[a-z][a-z0-9_]{0,49}$/, 'a Dataverse column logical name');
const columnMap = z.partialRecord(z.enum(CONTACT_FIELDS as [ContactField, ...ContactField[]]), columnName.nullable());

/**
 * The app registration's client credentials (Azure AD / Microsoft Entra ID) and the column maps.
 * `baseUrl` is the environment URL (https://<org>.crm.dynamics.com); the scope defaults to
 * `<baseUrl>/.default`, as Dataverse's server-to-server authentication asks.
 * https://learn.microsoft.com/power-apps/developer/data-platform/authenticate-oauth
 */
export const dynamicsSalesConfig = z.object({
  /** No webhooks: changes are polled with change tracking (delta links). */
  webhooks: z.literal(false).default(false),
  credentials: z
    .object({
      tokenUrl: z.url(),
      clientId: z.string().min(1),
      clientSecret: z.string().min(1),
      scope: z.string().min(1).optional(),
    })
    .strict(),
  /** Overrides of the canonical field -> column maps; null leaves a field unmapped. */
  fieldMap: z
    .object({
      /** Accounts (company contacts). */
      company: columnMap.optional(),
      /** Contacts (person contacts). */
      person: columnMap.optional(),
    })
    .strict()
    .optional(),
});
