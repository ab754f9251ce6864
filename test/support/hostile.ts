/**
 * Generated hostile inputs shared by the property suites: bodies shaped like each provider's
 * webhook calls (with wrong values often enough to reach the parsers' inner checks), any JSON,
 * and bytes that are not JSON at all.
 */
import fc from 'fast-check';

/** How many inputs a property tries, and from which seed (TANDEM_PROPERTY_RUNS, TANDEM_PROPERTY_SEED). */
export const PROPERTY_RUNS = Number(process.env.TANDEM_PROPERTY_RUNS ?? 300);
export const PROPERTY_SEED = Number(process.env.TANDEM_PROPERTY_SEED ?? 20261203);

/** JSON that looks like each provider's body often enough to get past the first checks. */
export const hubSpotEvent = fc.record(
  {
    eventId: fc.oneof(fc.integer(), fc.string(), fc.double()),
    subscriptionId: fc.integer(),
    portalId: fc.integer(),
    occurredAt: fc.oneof(fc.integer(), fc.double(), fc.constant(1e20), fc.constant(-1), fc.string()),
    subscriptionType: fc.constantFrom('company.propertyChange', 'contact.deletion', 'object.creation', 'x.y', ''),
    objectId: fc.oneof(fc.integer(), fc.double(), fc.string()),
    objectTypeId: fc.constantFrom('0-1', '0-2', '9-9'),
  },
  { requiredKeys: [] },
);
export const bcNotification = (company: string, clientState: string) =>
  fc.record(
    {
      subscriptionId: fc.string(),
      clientState: fc.constantFrom(clientState, 'wrong', ''),
      resource: fc.oneof(
        fc.string(),
        fc.uuid().map((id) => `api/v2.0/companies(${company})/customers(${id})`),
        fc.string().map((id) => `api/v2.0/companies(${company})/vendors(${id})`),
      ),
      changeType: fc.constantFrom('created', 'updated', 'deleted', 'collection', 'other'),
      lastModifiedDateTime: fc.oneof(
        fc.string(),
        fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
      ),
    },
    { requiredKeys: [] },
  );
export const xeroEvent = fc.record(
  {
    resourceUrl: fc.string(),
    resourceId: fc.oneof(fc.uuid(), fc.string()),
    eventDateUtc: fc.oneof(
      fc.string(),
      fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
    ),
    eventType: fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'other'),
    eventCategory: fc.constantFrom('CONTACT', 'INVOICE', ''),
    tenantId: fc.oneof(fc.uuid(), fc.string()),
    tenantType: fc.constantFrom('ORGANISATION', ''),
  },
  { requiredKeys: [] },
);

/** A body: any JSON, the provider's shape with wrong values, or bytes that are not JSON at all. */
export const bodies = (shaped: fc.Arbitrary<unknown>) =>
  fc.oneof(
    fc.json().map((text) => Buffer.from(text)),
    shaped.map((value) => Buffer.from(JSON.stringify(value))),
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  );
