/** The Xero connector's own config keys (connectors.<slot> with `kind: xero`). */
import { z } from 'zod';

/** Xero's Accounting API base. */
export const XERO_API_URL = 'https://api.xero.com/api.xro/2.0';

/** The organisation, the app's credentials, and how customers and vendors are numbered. */
export const xeroConfig = z.object({
  baseUrl: z.url().default(XERO_API_URL),
  /** The organisation's tenant id (GET https://api.xero.com/connections). */
  tenantId: z.string().min(1),
  credentials: z
    .object({
      tokenUrl: z.url().optional(),
      clientId: z.string().min(1),
      clientSecret: z.string().min(1),
      /** The first refresh token; Xero rotates it, and tandem keeps the newest in its store. */
      refreshToken: z.string().min(1),
      /** The app's webhook key; webhooks are accepted when it is set. */
      webhookKey: z.string().min(1).optional(),
    })
    .strict(),
  /**
   * ContactNumber prefixes that mark a Xero contact as a customer or a vendor before Xero's own
   * IsCustomer / IsSupplier flags are set by a first invoice or bill.
   */
  contactNumberPrefix: z
    .object({ customer: z.string().min(1).max(10).default('C-'), vendor: z.string().min(1).max(10).default('V-') })
    .strict()
    .default({ customer: 'C-', vendor: 'V-' }),
});
