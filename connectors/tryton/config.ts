/** The Tryton connector's own config keys (connectors.<slot> with `kind: tryton`). */
import { z } from 'zod';

/** The database, the user, and how parties are told apart. */
export const trytonConfig = z.object({
  /** Tryton has no webhooks: changes are polled on write_date. */
  webhooks: z.literal(false).default(false),
  database: z.string().min(1),
  credentials: z.object({ username: z.string().min(1), password: z.string().min(1) }).strict(),
  /** The party categories that make a party a customer or a vendor. */
  customerCategory: z.string().min(1).default('Customer'),
  supplierCategory: z.string().min(1).default('Supplier'),
  /** party.identifier type used for a new VAT registration no. */
  vatIdentifierType: z.string().min(1).default('eu_vat'),
  /** Records per listChanged page. */
  pageSize: z.number().int().min(1).default(100),
});
