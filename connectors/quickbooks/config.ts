/** The QuickBooks Online connector's own config keys (connectors.accounting with `kind: quickbooks`). */
import { z } from 'zod';

/** QBO's Accounting API base, without the company (realm) id. */
export const QBO_API_URL = 'https://quickbooks.api.intuit.com/v3/company';

/** The company, the app's credentials, and the page size of polls. */
export const quickbooksConfig = z.object({
  baseUrl: z.url().default(QBO_API_URL),
  /** The company's realm id (shown in the OAuth redirect and in QuickBooks' account settings). */
  realmId: z.string().regex(/^\d{1,30}$/, 'a realm id is digits'),
  credentials: z
    .object({
      /** Intuit's token endpoint; the default is the production one. */
      tokenUrl: z.url().optional(),
      clientId: z.string().min(1),
      clientSecret: z.string().min(1),
      /** The first refresh token; Intuit rotates it, and tandem keeps the newest in its store. */
      refreshToken: z.string().min(1),
      /** The app's webhook verifier token; webhooks are accepted when it is set. */
      webhookVerifierToken: z.string().min(1).optional(),
    })
    .strict(),
  /** Records per page of a poll that falls back to the query endpoint (QBO: at most 1,000). */
  pageSize: z.number().int().min(1).max(1000).default(1000),
});
