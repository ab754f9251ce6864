/**
 * The collections the sandbox serves, with the properties BC's API v2.0 gives each record and
 * the number series new records draw from.
 */

/** The record collections of a company. */
export const COLLECTION_NAMES = [
  'customers',
  'vendors',
  'bankAccounts',
  'contacts',
  'salesQuotes',
  'salesOrders',
  'purchaseOrders',
] as const;
/** A collection name as it appears in the URL. */
export type CollectionName = (typeof COLLECTION_NAMES)[number];

/** Is `name` a collection the sandbox serves? */
export function isCollectionName(name: string): name is CollectionName {
  return COLLECTION_NAMES.some((collection) => collection === name);
}

/** The GUID BC leaves in an unset reference (`currencyId` and the like). */
export const EMPTY_GUID = '00000000-0000-0000-0000-000000000000';
// Several properties with one default: `fill('', 'city state')`.
const fill = (value: unknown, names: string) => Object.fromEntries(names.split(' ').map((name) => [name, value]));
// A document's party (customer or vendor) by id, number and name, and its status.
const documentParty = (kind: string) => ({ ...fill('', `${kind}Id ${kind}Number ${kind}Name`), status: 'Draft' });
const PARTY = {
  ...fill('', 'displayName addressLine1 addressLine2 city state country postalCode'),
  ...fill('', 'phoneNumber email website taxRegistrationNumber'),
};

/**
 * Writable properties and their defaults per collection. A write naming any other property is
 * refused like BC refuses it, so a mapping typo shows up in tests.
 */
export const DEFAULTS: Record<CollectionName, Record<string, unknown>> = {
  customers: {
    ...PARTY,
    ...fill('', 'salespersonCode currencyCode'),
    ...fill(0, 'balanceDue creditLimit'),
    ...fill(EMPTY_GUID, 'taxAreaId currencyId paymentTermsId shipmentMethodId paymentMethodId'),
    type: 'Company',
    taxLiable: false,
    blocked: ' ',
  },
  vendors: {
    ...PARTY,
    ...fill('', 'currencyCode irs1099Code'),
    ...fill(EMPTY_GUID, 'currencyId paymentTermsId paymentMethodId'),
    taxLiable: false,
    blocked: ' ',
    balance: 0,
  },
  bankAccounts: {
    ...fill('', 'displayName bankAccountNumber currencyCode iban'),
    ...fill(false, 'blocked intercompanyEnabled'),
    currencyId: EMPTY_GUID,
  },
  contacts: {
    ...PARTY,
    ...fill('', 'companyNumber companyName mobilePhoneNumber searchName'),
    type: 'Company',
    contactBusinessRelation: 'None',
    privacyBlocked: false,
    lastInteractionDate: '0001-01-01',
  },
  salesQuotes: { ...fill('', 'externalDocumentNumber documentDate currencyCode'), ...documentParty('customer') },
  salesOrders: { ...fill('', 'externalDocumentNumber orderDate currencyCode'), ...documentParty('customer') },
  // API v2.0 purchase orders have no externalDocumentNumber.
  purchaseOrders: { ...fill('', 'orderDate currencyCode'), ...documentParty('vendor') },
};

/** Option (enum) properties and the values BC accepts for them, per collection. */
export const OPTIONS: Partial<Record<CollectionName, Record<string, readonly string[]>>> = {
  customers: { type: ['Company', 'Person'], blocked: [' ', 'Ship', 'Invoice', 'All'] },
  vendors: { blocked: [' ', 'Payment', 'All'] },
  contacts: { type: ['Company', 'Person'] },
};

/** Code properties: BC stores them upper-cased and refuses longer values. */
export const CODE_LENGTHS: Record<string, number> = {
  externalDocumentNumber: 35,
  currencyCode: 10,
  salespersonCode: 20,
  irs1099Code: 10,
};

/** Prefix of each collection's number series (C00010, V00010, ...). */
export const NUMBER_PREFIX: Record<CollectionName, string> = {
  customers: 'C',
  vendors: 'V',
  bankAccounts: 'B',
  contacts: 'CT',
  salesQuotes: 'SQ',
  salesOrders: 'SO',
  purchaseOrders: 'PO',
};

/**
 * Collections BC sends webhook notifications for (its documented list of webhook-supported
 * APIs); bankAccounts, contacts and purchaseOrders are not on it.
 */
export const WEBHOOK_COLLECTIONS: readonly CollectionName[] = ['customers', 'vendors', 'salesQuotes', 'salesOrders'];
