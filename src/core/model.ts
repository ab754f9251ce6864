/**
 * The canonical model: what tandem knows about a contact and an account, independent of any
 * system. Field names follow the seed (NAV's contact and customer cards), in camelCase.
 */

/** The kinds of account a contact can have a business relation with. */
export const ACCOUNT_KINDS = ['customer', 'vendor', 'bankAccount'] as const;
/** A kind of account in the accounting system. */
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

/** Every record type tandem reads or writes: contacts live in the CRM, accounts in accounting. */
export type Entity = 'contact' | AccountKind;

/** The two sides of every business relation. */
export type System = 'crm' | 'accounting';

/** The two configured connectors: the CRM one and the accounting one. */
export const CONNECTOR_SLOTS = ['crm', 'accounting'] as const;
/** Which configured connector a job or a record concerns. */
export type ConnectorSlot = (typeof CONNECTOR_SLOTS)[number];

/**
 * The fields NAV copies between a contact and its customer, vendor or bank account
 * (Name, Name 2, Address, ..., Territory Code).
 */
export const COMMON_FIELDS = [
  'name',
  'name2',
  'address',
  'address2',
  'postCode',
  'city',
  'county',
  'countryCode',
  'phone',
  'fax',
  'email',
  'homePage',
  'vatRegistrationNo',
  'currencyCode',
  'languageCode',
  'salespersonCode',
  'territoryCode',
] as const;
/** A field every contact and every account carries. */
export type CommonField = (typeof COMMON_FIELDS)[number];

/** Fields only a contact has. */
export const CONTACT_ONLY_FIELDS = ['mobile'] as const;
/** Fields only a bank account has. */
export const BANK_ACCOUNT_FIELDS = ['bankAccountNo', 'iban', 'swiftCode', 'bankBranchNo'] as const;

/** A field of a contact. */
export type ContactField = CommonField | (typeof CONTACT_ONLY_FIELDS)[number];
/** A field of an account (bank account fields are empty on customers and vendors). */
export type AccountField = CommonField | (typeof BANK_ACCOUNT_FIELDS)[number];

export const CONTACT_FIELDS: readonly ContactField[] = [...COMMON_FIELDS, ...CONTACT_ONLY_FIELDS];
export const ACCOUNT_FIELDS: readonly AccountField[] = [...COMMON_FIELDS, ...BANK_ACCOUNT_FIELDS];

/** Where a field's changes may flow. */
export const DIRECTIONS = ['both', 'toAccounting', 'toCrm'] as const;
/** Where a field's changes may flow: both ways, or only towards one side. */
export type Direction = (typeof DIRECTIONS)[number];

/* Value maps: how a mapped value is spelled on each side (applied by core/transform.ts). */

/** What to do with a value the table has no entry for (and a transform cannot read). */
export type UnmappedRule = 'keep' | 'blank' | 'hold';

/** A built-in transform, as a mapping names it. */
export type TransformSpec =
  | { name: 'trim' | 'upper' | 'lower' }
  | { name: 'country'; crm: 'name' | 'code'; accounting: 'name' | 'code'; language: string }
  | { name: 'phone-e164'; region: string };

/** A mapping's value map. */
export interface ValueMap {
  transform?: TransformSpec;
  /** CRM value -> accounting value. Several CRM values may share one; back, the first of them is taken. */
  values?: Readonly<Record<string, string>>;
  /** For a value neither the table nor the transform can translate; default `keep`. */
  unmapped?: UnmappedRule;
}

/** One contact field paired with one account field (a line of the mapping config), with its value map. */
export interface FieldMapping extends ValueMap {
  /** The field's name on the contact. */
  contact: string;
  /** The field's name on the account. */
  account: string;
  direction: Direction;
}

/**
 * A provider's own field that the canonical model does not name (a HubSpot custom property,
 * Business Central's paymentTermsId): `custom.<the provider's name>`, on either side of a mapping.
 */
export type CustomField = `custom.${string}`;

/** A custom field's form: `custom.` and the provider's field name (letters, digits, `_`). */
export const CUSTOM_FIELD = /^custom\.([A-Za-z_][A-Za-z0-9_]{0,99})$/;

/** The provider's name of a custom field, or null when the field is a canonical one. */
export function customFieldName(field: string): string | null {
  return CUSTOM_FIELD.exec(field)?.[1] ?? null;
}

/** The mapping name of a provider's field. */
export const customField = (name: string): CustomField => `custom.${name}`;

/** A field value as tandem compares it: text, or null for "empty". */
export type FieldValue = string | null;

/**
 * When a field's change is known only as a window ending at its `fieldModifiedAt`: it changed
 * after `since` (null: no earlier observation), and when `shared`, other fields of the record
 * changed in the same window, so the record's time may be theirs rather than this field's.
 */
export interface FieldWindow {
  since: string | null;
  shared: boolean;
  /**
   * For a shared window: how many fields changed in it, one of which changed at its end; 0 when
   * its end is tandem's own write, so that every field seen changing in it changed before.
   * Unknown (observations stored before it was kept) counts as 2.
   */
  among?: number;
}

/** A CRM contact: a company, or a person who belongs to a company. */
export interface Contact {
  entity: 'contact';
  id: string;
  type: 'company' | 'person';
  /** For a person: the id of the company contact it belongs to. */
  companyId: string | null;
  fields: Partial<Record<ContactField | CustomField, FieldValue>>;
  /** The CRM's own last-modified time of the record (ISO 8601). */
  modifiedAt: string;
  /**
   * Per-field modification times (ISO 8601): the system's own where it keeps them, else what
   * tandem observed (see core/observe.ts).
   */
  fieldModifiedAt?: Partial<Record<ContactField | CustomField, string>>;
  /** Where a field's time is only known to lie in a window: see FieldWindow. */
  fieldWindow?: Partial<Record<ContactField | CustomField, FieldWindow>>;
  /** Where the system keeps each field's history: the value before its latest change (see FieldEarlier). */
  fieldPrevious?: Partial<Record<ContactField | CustomField, FieldEarlier>>;
  /** A newer edit a write of tandem's replaced (see core/observe.ts): last-writer-wins weighs it, and it is put back if it wins. */
  fieldOverwritten?: Partial<Record<ContactField | CustomField, FieldEarlier>>;
  /** An opaque version (etag) for optimistic concurrency, where the system has one. */
  version?: string;
  /**
   * Set when the CRM merged this contact into another (Salesforce leaves MasterRecordId on the
   * losers): the engine moves its business relations to the surviving contact. A merge is never a
   * deletion; the record then carries no fields.
   */
  mergedInto?: string | null;
}

/** A value a field held before its current one, and when it was set (ISO 8601). */
export interface FieldEarlier {
  value: FieldValue;
  at: string;
}

/** A customer, vendor or bank account in the accounting system. */
export interface Account {
  entity: AccountKind;
  id: string;
  /** The account's number as people see it (customer no., vendor no., bank account code). */
  number: string | null;
  fields: Partial<Record<AccountField | CustomField, FieldValue>>;
  modifiedAt: string;
  fieldModifiedAt?: Partial<Record<AccountField | CustomField, string>>;
  fieldWindow?: Partial<Record<AccountField | CustomField, FieldWindow>>;
  fieldPrevious?: Partial<Record<AccountField | CustomField, FieldEarlier>>;
  fieldOverwritten?: Partial<Record<AccountField | CustomField, FieldEarlier>>;
  /**
   * Set when the system merged this account into another (Xero's MergedToContactID): the
   * engine moves the business relation to the surviving account. A merge is never a deletion.
   */
  mergedInto?: string | null;
  /** The system archived the account: it stays linked, but tandem writes nothing to it. */
  archived?: boolean;
  /** The person the account names as its contact, where the system keeps one. */
  contactPerson?: { name: string; email?: FieldValue; phone?: FieldValue } | null;
  version?: string;
}

/** Either side of a relation. */
export type SyncRecord = Contact | Account;

/** How a business relation came to be. */
export type RelationOrigin = 'linked' | 'createdFromContact' | 'createdFromAccount' | 'automatic';

/** A business relation: this contact is this customer, vendor or bank account. */
export interface BusinessRelation {
  id: string;
  contactId: string;
  accountKind: AccountKind;
  accountId: string;
  relationCode: string;
  origin: RelationOrigin;
  createdAt: string;
}

/** Normalises a raw value for comparison: empty and whitespace-only strings count as empty. */
export function normalizeValue(value: unknown): FieldValue {
  if (value === null || value === undefined) return null;
  // An object never reads as '[object Object]': two different ones must not compare equal.
  const text = (typeof value === 'object' ? JSON.stringify(value) : String(value as string | number | boolean)).trim();
  return text === '' ? null : text;
}
