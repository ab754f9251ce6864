/**
 * The Salesforce objects tandem syncs and the fields it reads and writes on them: Accounts as
 * company contacts, Contacts as person contacts. Every name here is checked against jsforce's
 * generated standard-object schema (fields.test.ts).
 * https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_account.htm
 */
import type { Contact, ContactField } from '../../src/core/model';

/** The REST API version every path is pinned to (Spring '24). */
export const API_VERSION = 'v60.0';

/** The sObject types tandem syncs. */
export type SObjectType = 'Account' | 'Contact';
export const SOBJECT_TYPES: readonly SObjectType[] = ['Account', 'Contact'];

type ContactType = Contact['type'];

/** Canonical field -> sObject field; `null` switches a default mapping off. */
export type FieldMap = Partial<Record<ContactField, string | null>>;

/** Fields every read asks for besides the mapped ones: the id, the change times and the merge marker. */
export const SYSTEM_FIELDS = ['Id', 'SystemModstamp', 'LastModifiedDate', 'IsDeleted', 'MasterRecordId'] as const;

/** The Contact field naming a person's Account. */
export const ACCOUNT_ID_FIELD = 'AccountId';

/** The fields a person's name is split over (LastName is required by Salesforce). */
export const PERSON_NAME_FIELDS = ['FirstName', 'LastName'] as const;

/** The default Account map: the NAV fields Salesforce has standard fields for. */
export const DEFAULT_ACCOUNT_MAP = {
  name: 'Name',
  address: 'BillingStreet',
  postCode: 'BillingPostalCode',
  city: 'BillingCity',
  county: 'BillingState',
  countryCode: 'BillingCountry',
  phone: 'Phone',
  fax: 'Fax',
  homePage: 'Website',
} as const satisfies FieldMap;

/** The default Contact map; `name` is split over FirstName and LastName. Contacts have no Website. */
export const DEFAULT_CONTACT_MAP = {
  address: 'MailingStreet',
  postCode: 'MailingPostalCode',
  city: 'MailingCity',
  county: 'MailingState',
  countryCode: 'MailingCountry',
  phone: 'Phone',
  fax: 'Fax',
  email: 'Email',
  mobile: 'MobilePhone',
} as const satisfies FieldMap;

/**
 * With state and country picklists on, the ISO codes are written to the *Code fields (the text
 * fields then only take the picklist's labels). These fields exist only in orgs that enabled the
 * picklists, so they are not in the generated schema of standard objects.
 * https://help.salesforce.com/s/articleView?id=sf.admin_state_country_picklists_overview.htm
 */
export const PICKLIST_CODE_FIELDS: Record<SObjectType, FieldMap> = {
  Account: { county: 'BillingStateCode', countryCode: 'BillingCountryCode' },
  Contact: { county: 'MailingStateCode', countryCode: 'MailingCountryCode' },
};

/** The history object that keeps per-field changes where field history tracking is on, and its parent field. */
export const HISTORY_OBJECT = {
  Account: { object: 'AccountHistory', parent: 'AccountId' },
  Contact: { object: 'ContactHistory', parent: 'ContactId' },
} as const satisfies Record<SObjectType, { object: string; parent: string }>;

/** The sObject type that holds a canonical contact type. */
export function sObjectTypeOf(type: ContactType): SObjectType {
  return type === 'company' ? 'Account' : 'Contact';
}

/** The canonical contact type an sObject type holds. */
export function contactTypeOf(sObjectType: SObjectType): ContactType {
  return sObjectType === 'Account' ? 'company' : 'person';
}

/** A canonical contact id: `company-` or `person-`, and Salesforce's 15- or 18-character id. */
export const CONTACT_ID = /^(company|person)-([a-zA-Z0-9]{15}|[a-zA-Z0-9]{18})$/;

/** The canonical id of a Salesforce record: `company-<Id>` or `person-<Id>` (no ':', see job ids). */
export function toContactId(sObjectType: SObjectType, salesforceId: string): string {
  return `${contactTypeOf(sObjectType)}-${salesforceId}`;
}

/** Splits a canonical contact id into the sObject type and Salesforce's id; null when it is not ours. */
export function fromContactId(id: string): { sObjectType: SObjectType; salesforceId: string } | null {
  const match = CONTACT_ID.exec(id);
  if (!match?.[1] || !match[2]) return null;
  return { sObjectType: sObjectTypeOf(match[1] as ContactType), salesforceId: match[2] };
}
