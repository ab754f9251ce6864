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

const ADDRESS = { addressLine1: '', addressLine2: '', city: '', state: '', country: '', postalCode: '' };
const PARTY = { displayName: '', ...ADDRESS, phoneNumber: '', email: '', website: '', taxRegistrationNumber: '' };

/**
 * Writable properties and their defaults per collection. A write naming any other property is
 * refused like BC refuses it, so a mapping typo shows up in tests.
 */
export const DEFAULTS: Record<CollectionName, Record<string, unknown>> = {
  customers: {
    ...PARTY,
    type: 'Company',
    salespersonCode: '',
    balanceDue: 0,
    creditLimit: 0,
    taxLiable: false,
    taxAreaId: '00000000-0000-0000-0000-000000000000',
    currencyId: '00000000-0000-0000-0000-000000000000',
    currencyCode: '',
    paymentTermsId: '00000000-0000-0000-0000-000000000000',
    shipmentMethodId: '00000000-0000-0000-0000-000000000000',
    paymentMethodId: '00000000-0000-0000-0000-000000000000',
    blocked: ' ',
  },
  vendors: {
    ...PARTY,
    currencyId: '00000000-0000-0000-0000-000000000000',
    currencyCode: '',
    irs1099Code: '',
    paymentTermsId: '00000000-0000-0000-0000-000000000000',
    paymentMethodId: '00000000-0000-0000-0000-000000000000',
    taxLiable: false,
    blocked: ' ',
    balance: 0,
  },
  bankAccounts: {
    displayName: '',
    bankAccountNumber: '',
    blocked: false,
    currencyId: '00000000-0000-0000-0000-000000000000',
    currencyCode: '',
    iban: '',
    intercompanyEnabled: false,
  },
  contacts: {
    type: 'Company',
    ...PARTY,
    companyNumber: '',
    companyName: '',
    contactBusinessRelation: 'None',
    mobilePhoneNumber: '',
    searchName: '',
    privacyBlocked: false,
    lastInteractionDate: '0001-01-01',
  },
  salesQuotes: {
    externalDocumentNumber: '',
    documentDate: '',
    customerId: '',
    customerNumber: '',
    customerName: '',
    status: 'Draft',
    currencyCode: '',
  },
  salesOrders: {
    externalDocumentNumber: '',
    orderDate: '',
    customerId: '',
    customerNumber: '',
    customerName: '',
    status: 'Draft',
    currencyCode: '',
  },
  // API v2.0 purchase orders have no externalDocumentNumber.
  purchaseOrders: { orderDate: '', vendorId: '', vendorNumber: '', vendorName: '', status: 'Draft', currencyCode: '' },
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
