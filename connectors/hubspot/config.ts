/** The HubSpot connector's own config keys (connectors.<slot> with `kind: hubspot`). */
import { z } from 'zod';
import { CONTACT_FIELDS, type ContactField } from '../../src/core/model';

const propertyMap = z.partialRecord(z.enum(CONTACT_FIELDS as [ContactField, ...ContactField[]]), z.string().min(1));

/** The private app's token and webhook secret, and overrides of the default property maps. */
export const hubspotConfig = z.object({
  credentials: z.object({ token: z.string().min(1), webhookSecret: z.string().min(1).optional() }).strict(),
  /** Overrides of the canonical field -> HubSpot property map, per object type. */
  propertyMap: z
    .object({
      /** HubSpot companies (company contacts): canonical field -> property name. */
      company: propertyMap.optional(),
      /** HubSpot contacts (person contacts). */
      person: propertyMap.optional(),
    })
    .strict()
    .optional(),
});
