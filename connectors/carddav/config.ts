/** The CardDAV connector's own config keys (connectors.<slot> with `kind: carddav`); baseUrl is the address book's URL. */
import { z } from 'zod';

/** HTTP Basic credentials (an app password on iCloud, Fastmail and Nextcloud). */
export const carddavConfig = z.object({
  credentials: z.object({ username: z.string().min(1), password: z.string().min(1) }).strict(),
  /** CardDAV has no webhooks: the connector polls (sync-collection, or ETags). */
  webhooks: z.literal(false).default(false),
});
