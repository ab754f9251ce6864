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
    ...names('name domain address address2 zip city state country phone website industry lifecyclestage'),
    ...TANDEM_CUSTOM,
  ]),
  contacts: new Set([
    ...names(
      'firstname lastname email phone mobilephone fax address city zip state country website company jobtitle lifecyclestage',
    ),
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

/** A property as HubSpot's properties API describes it (the fields tandem reads of it). */
export interface SandboxProperty {
  name: string;
  label: string;
  type: 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool' | 'phone_number';
  fieldType: string;
  groupName: string;
  description: string;
  options: { label: string; value: string; displayOrder: number; hidden: boolean }[];
  hidden: boolean;
  calculated: boolean;
  hubspotDefined: boolean;
  formField: boolean;
  hasUniqueValue: boolean;
  displayOrder: number;
  modificationMetadata: { archivable: boolean; readOnlyDefinition: boolean; readOnlyValue: boolean };
}

/** What `createProperty` takes: a name, and optionally its label, type and picklist options. */
export interface PropertyDefinition {
  name: string;
  label?: string;
  type?: SandboxProperty['type'];
  options?: { label: string; value: string }[];
  /** A calculated property: readable, never writable. */
  readOnly?: boolean;
}

const NAME = /^[a-z][a-z0-9_]{0,99}$/;

/**
 * The properties of one sandbox portal: HubSpot's own and the tandem_* ones, and the custom
 * properties a test defines (as a portal admin does in HubSpot's settings).
 */
export class PortalProperties {
  private readonly custom: Record<SandboxObjectType, Map<string, PropertyDefinition>> = {
    companies: new Map(),
    contacts: new Map(),
  };

  /** Adds a custom property to an object type; a name HubSpot would refuse throws. */
  define(objectType: SandboxObjectType, definition: PropertyDefinition): SandboxProperty {
    if (!NAME.test(definition.name))
      throw new Error(`hubspot sandbox: '${definition.name}' is not a property name HubSpot takes`);
    if (this.isKnown(objectType, definition.name))
      throw new Error(`hubspot sandbox: ${objectType} already have a property '${definition.name}'`);
    this.custom[objectType].set(definition.name, definition);
    return this.describe(objectType, definition.name, definition);
  }

  /** True when the object type has the property at all. */
  isKnown(objectType: SandboxObjectType, property: string): boolean {
    return (
      WRITABLE_PROPERTIES[objectType].has(property) ||
      systemProperties(objectType).includes(property) ||
      this.custom[objectType].has(property)
    );
  }

  /** The properties of a write the object type refuses, and why. */
  problems(objectType: SandboxObjectType, properties: Record<string, unknown>) {
    return Object.keys(properties)
      .filter((name) => !this.writable(objectType, name))
      .map((name) => ({
        name,
        error: this.isKnown(objectType, name) ? ('READ_ONLY_VALUE' as const) : ('PROPERTY_DOESNT_EXIST' as const),
      }));
  }

  /** Every property of an object type, as GET /crm/v3/properties/{objectType} lists them. */
  list(objectType: SandboxObjectType): SandboxProperty[] {
    const own = [...WRITABLE_PROPERTIES[objectType], ...systemProperties(objectType)];
    return [
      ...own.map((name) => this.describe(objectType, name)),
      ...[...this.custom[objectType].values()].map((definition) =>
        this.describe(objectType, definition.name, definition),
      ),
    ];
  }

  private writable(objectType: SandboxObjectType, name: string): boolean {
    const custom = this.custom[objectType].get(name);
    return WRITABLE_PROPERTIES[objectType].has(name) || (custom !== undefined && !custom.readOnly);
  }

  private describe(objectType: SandboxObjectType, name: string, definition?: PropertyDefinition): SandboxProperty {
    const system = systemProperties(objectType).includes(name);
    const type =
      definition?.type ?? (DATE_PROPERTIES.has(name) ? 'datetime' : NUMBER_PROPERTIES.has(name) ? 'number' : 'string');
    const readOnly = system || definition?.readOnly === true;
    return {
      name,
      label: definition?.label ?? name,
      type,
      fieldType: type === 'enumeration' ? 'select' : type === 'bool' ? 'booleancheckbox' : 'text',
      groupName: objectType === 'companies' ? 'companyinformation' : 'contactinformation',
      description: '',
      options: (definition?.options ?? []).map((option, index) => ({ ...option, displayOrder: index, hidden: false })),
      hidden: false,
      calculated: definition?.readOnly === true,
      hubspotDefined: definition === undefined && !name.startsWith('tandem_'),
      formField: !readOnly,
      hasUniqueValue: false,
      displayOrder: -1,
      modificationMetadata: {
        archivable: definition !== undefined,
        readOnlyDefinition: definition === undefined,
        readOnlyValue: readOnly,
      },
    };
  }
}
