/** The Pipedrive connector's own config keys (connectors.<slot> with `kind: pipedrive`). */
import { z } from 'zod';
import { CONTACT_FIELDS, type ContactField } from '../../src/core/model';

/** A custom field key: Pipedrive's 40-hex hash, or a key of a field created through the API. */
const customFieldKey = z.string().regex(/^[A-Za-z0-9_]{1,100}$/, 'a Pipedrive custom field key');
const customFieldMap = z.partialRecord(
  z.enum(CONTACT_FIELDS as [ContactField, ...ContactField[]]),
  customFieldKey.nullable(),
);

/**
 * The company's API token, the basic auth credentials its webhooks carry, and which custom field
 * holds each canonical field Pipedrive has no property for. `baseUrl` is the company domain
 * (https://<company>.pipedrive.com).
 */
export const pipedriveConfig = z.object({
  credentials: z
    .object({
      /** The API token (Settings > Personal preferences > API), sent as x-api-token. */
      apiToken: z.string().min(1),
      /** The http_auth_user and http_auth_password the webhooks were created with. */
      webhookUser: z.string().min(1).optional(),
      webhookPassword: z.string().min(12).optional(),
    })
    .strict()
    .refine((credentials) => (credentials.webhookUser === undefined) === (credentials.webhookPassword === undefined), {
      error: 'webhookUser and webhookPassword go together',
    }),
  /**
   * The key of a text custom field, on organizations and persons alike, that holds a create's
   * idempotency key: a retried create finds the record a lost answer created through it.
   */
  idempotencyField: customFieldKey.default('tandem_idempotency_key'),
  /** Canonical field -> custom field key, per record type; null switches a built-in mapping off. */
  customFields: z.object({ company: customFieldMap.optional(), person: customFieldMap.optional() }).strict().optional(),
});
