/**
 * The property lists of the sandbox portal: HubSpot's own properties tandem uses, the tandem_*
 * custom properties the README asks to create, and the read-only system properties.
 */

/** The object types the sandbox serves, as they appear in API paths. */
export const SANDBOX_OBJECT_TYPES = ['companies', 'contacts'] as const;
export type SandboxObjectType = (typeof SANDBOX_OBJECT_TYPES)[number];

/** The property each object type keeps its last modification time in. */
export const MODIFIED_PROPERTY: Record<SandboxObjectType, string> = {
  companies: 'hs_lastmodifieddate',
  contacts: 'lastmodifieddate',
};

const names = (list: string) => list.split(' ');
const TANDEM_CUSTOM = names(
  'tandem_fax tandem_email tandem_name2 tandem_vat_registration_no tandem_currency_code tandem_language_code ' +
    'tandem_salesperson_code tandem_territory_code tandem_idempotency_key',
);

/** Properties a client may write, per object type. */
const WRITABLE_PROPERTIES: Record<SandboxObjectType, ReadonlySet<string>> = {
  companies: new Set([
    ...names('name domain address address2 zip city state country phone website industry'),
    ...TANDEM_CUSTOM,
  ]),
  contacts: new Set([
    ...names('firstname lastname email phone mobilephone fax address city zip state country website company jobtitle'),
    ...names('associatedcompanyid tandem_address2'),
    ...TANDEM_CUSTOM,
  ]),
};

/** The properties HubSpot maintains itself; writing them is refused. */
export const systemProperties = (objectType: SandboxObjectType) => [
  'createdate',
  MODIFIED_PROPERTY[objectType],
  'hs_object_id',
];

/** Properties returned when a request names none (HubSpot's defaults). */
export const DEFAULT_READ_PROPERTIES: Record<SandboxObjectType, readonly string[]> = {
  companies: names('createdate domain hs_lastmodifieddate hs_object_id name'),
  contacts: names('createdate email firstname hs_object_id lastmodifieddate lastname'),
};

/** Properties holding a date: compared as instants in search filters and sorts. */
export const DATE_PROPERTIES: ReadonlySet<string> = new Set(names('createdate hs_lastmodifieddate lastmodifieddate'));

/** Properties holding a number: compared numerically. */
export const NUMBER_PROPERTIES: ReadonlySet<string> = new Set(names('hs_object_id associatedcompanyid'));

/** True when the object type has the property at all. */
export function isKnownProperty(objectType: SandboxObjectType, property: string): boolean {
  return WRITABLE_PROPERTIES[objectType].has(property) || systemProperties(objectType).includes(property);
}

/** The properties of a write the object type refuses, and why. */
export function propertyProblems(objectType: SandboxObjectType, properties: Record<string, unknown>) {
  return Object.keys(properties)
    .filter((name) => !WRITABLE_PROPERTIES[objectType].has(name))
    .map((name) => ({
      name,
      error: isKnownProperty(objectType, name) ? ('READ_ONLY_VALUE' as const) : ('PROPERTY_DOESNT_EXIST' as const),
    }));
}
