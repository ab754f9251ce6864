/**
 * The sObjects of the sandbox's org and their fields, as GET /sobjects/{type}/describe answers
 * them: Account and Contact with the standard fields tandem maps (and a few it does not), the
 * state and country code picklists when they are on, the idempotency key as an External Id, and
 * custom fields an admin defines.
 * https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_describe.htm
 */
import type { SObjectType } from '../fields';

/** One field of an sObject, as describe tells it. */
export interface FieldDefinition {
  name: string;
  label: string;
  type: 'id' | 'string' | 'textarea' | 'phone' | 'url' | 'email' | 'picklist' | 'datetime' | 'boolean' | 'reference';
  updateable: boolean;
  /** Required on create (Account Name, Contact LastName). */
  required?: boolean;
  custom?: boolean;
  /** An External Id, unique within the object. */
  externalId?: boolean;
  /** A restricted picklist's values. */
  picklistValues?: { value: string; label: string; active: boolean }[];
  /** Computed by Salesforce (a Contact's Name). */
  calculated?: boolean;
}

/** A custom field an admin defines: its name must end in __c. */
export type CustomFieldDefinition = Omit<FieldDefinition, 'custom' | 'calculated'>;

/** The custom field the connector looks up before it creates (see ../README.md). */
export const SANDBOX_IDEMPOTENCY_FIELD = 'Tandem_Idempotency_Key__c';

const text = (name: string, label: string, type: FieldDefinition['type'] = 'string'): FieldDefinition => ({
  name,
  label,
  type,
  updateable: true,
});
const system = (name: string, label: string, type: FieldDefinition['type']): FieldDefinition => ({
  name,
  label,
  type,
  updateable: false,
});

/** ISO 3166 countries and a few of their states, as an org with state and country picklists offers them. */
export const COUNTRIES = [
  { value: 'NL', label: 'Netherlands' },
  { value: 'DE', label: 'Germany' },
  { value: 'FR', label: 'France' },
  { value: 'BE', label: 'Belgium' },
  { value: 'GB', label: 'United Kingdom' },
  { value: 'SE', label: 'Sweden' },
  { value: 'ES', label: 'Spain' },
  { value: 'US', label: 'United States' },
];
export const STATES = [
  { value: 'NH', label: 'Noord-Holland' },
  { value: 'ZH', label: 'Zuid-Holland' },
  { value: 'BY', label: 'Bavaria' },
  { value: 'CA', label: 'California' },
  { value: 'NY', label: 'New York' },
];
const picklist = (name: string, label: string, values: typeof COUNTRIES): FieldDefinition => ({
  ...text(name, label, 'picklist'),
  picklistValues: values.map((value) => ({ ...value, active: true })),
});

function address(prefix: 'Billing' | 'Mailing', picklists: boolean): FieldDefinition[] {
  return [
    text(`${prefix}Street`, `${prefix} Street`, 'textarea'),
    text(`${prefix}City`, `${prefix} City`),
    text(`${prefix}State`, `${prefix} State/Province`),
    text(`${prefix}PostalCode`, `${prefix} Zip/Postal Code`),
    text(`${prefix}Country`, `${prefix} Country`),
    ...(picklists
      ? [
          picklist(`${prefix}StateCode`, `${prefix} State/Province Code`, STATES),
          picklist(`${prefix}CountryCode`, `${prefix} Country Code`, COUNTRIES),
        ]
      : []),
  ];
}

const SYSTEM_FIELDS: FieldDefinition[] = [
  system('Id', 'Record ID', 'id'),
  system('IsDeleted', 'Deleted', 'boolean'),
  system('MasterRecordId', 'Master Record ID', 'reference'),
  system('CreatedDate', 'Created Date', 'datetime'),
  system('LastModifiedDate', 'Last Modified Date', 'datetime'),
  system('SystemModstamp', 'System Modstamp', 'datetime'),
];

/** The fields of both objects in an org with or without state and country picklists. */
export function standardFields(picklists: boolean): Record<SObjectType, FieldDefinition[]> {
  const idempotency: FieldDefinition = {
    ...text(SANDBOX_IDEMPOTENCY_FIELD, 'Tandem Idempotency Key'),
    custom: true,
    externalId: true,
  };
  return {
    Account: [
      ...SYSTEM_FIELDS,
      { ...text('Name', 'Account Name'), required: true },
      text('Type', 'Account Type', 'picklist'),
      ...address('Billing', picklists),
      text('Phone', 'Account Phone', 'phone'),
      text('Fax', 'Account Fax', 'phone'),
      text('Website', 'Website', 'url'),
      text('Description', 'Account Description', 'textarea'),
      idempotency,
    ],
    Contact: [
      ...SYSTEM_FIELDS,
      { ...text('AccountId', 'Account ID', 'reference') },
      { ...text('LastName', 'Last Name'), required: true },
      text('FirstName', 'First Name'),
      { ...system('Name', 'Full Name', 'string'), calculated: true },
      ...address('Mailing', picklists),
      text('Phone', 'Business Phone', 'phone'),
      text('Fax', 'Business Fax', 'phone'),
      text('MobilePhone', 'Mobile Phone', 'phone'),
      text('Email', 'Email', 'email'),
      text('Title', 'Title'),
      idempotency,
    ],
  };
}

/** The three-character suffix that makes a 15-character id case-insensitive (Salesforce's own algorithm). */
function idSuffix(id15: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let position = 0; position < 5; position++) {
      const char = id15[chunk * 5 + position] ?? '';
      if (char >= 'A' && char <= 'Z') bits += 1 << position;
    }
    suffix += alphabet[bits] ?? 'A';
  }
  return suffix;
}

/** The key prefix of each object's ids. */
export const KEY_PREFIX: Record<SObjectType, string> = { Account: '001', Contact: '003' };

/** The n-th record id of an object: its key prefix, the sandbox's pod, the number, and the checksum suffix. */
export function recordId(sObjectType: SObjectType, n: number): string {
  const id15 = `${KEY_PREFIX[sObjectType]}Sb0${String(n).padStart(9, '0')}`;
  return `${id15}${idSuffix(id15)}`;
}
