/** The Business Central connector's own config keys (connectors.<slot> with `kind: business-central`). */
import { z } from 'zod';

/** The company and the app registration's client credentials. */
export const businessCentralConfig = z.object({
  companyId: z.string().min(1),
  credentials: z
    .object({
      tokenUrl: z.url(),
      clientId: z.string().min(1),
      clientSecret: z.string().min(1),
      scope: z.string().optional(),
      /** The clientState tandem sets on webhook subscriptions and checks on every notification. */
      webhookClientState: z.string().min(1).optional(),
    })
    .strict(),
});
