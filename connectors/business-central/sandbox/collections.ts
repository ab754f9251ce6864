/**
 * The collections the sandbox serves, as data: the properties BC's API v2.0 gives each record
 * (with their defaults and option values), which of them BC fills itself (read-only to a client)
 * or takes on insert only, the number series new records draw from, and the properties BC derives
 * from others. One generic store and one set of routes serve them all. The property sets and their
 * editability are those of the APIV2 AL pages (test/support/business-central/manifest.ts holds
 * this file to them).
 */
import type { ChangedBy } from '../../kit/sandbox/records';
import { badRequest } from './odata';

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

/**
 * Collections BC sends webhook notifications for (its documented list of webhook-supported
 * APIs); bankAccounts, contacts and purchaseOrders are not on it.
 */
export const WEBHOOK_COLLECTIONS: readonly CollectionName[] = ['customers', 'vendors', 'salesQuotes', 'salesOrders'];

/** A record's properties, as BC's JSON has them. */
export type Row = Record<string, unknown>;

/** Looks a record up in a collection, for the properties derived from another record. */
type Find = (collection: CollectionName, matches: (record: Row) => boolean) => Row | undefined;

interface Collection {
  /** Prefix of the number series (C00010, V00010, ...). */
  prefix: string;
  /**
   * The record's properties besides `id`, `number` and `lastModifiedDateTime`, with their
   * defaults. A write naming any other property is refused like BC refuses it, so a mapping typo
   * shows up in tests.
   */
  defaults: Record<string, unknown>;
  /** Properties BC fills itself (`Editable = false` on the page): an API write naming one is refused. */
  readOnly: readonly string[];
  /** Whether a client may choose or change `number` (a customer's No. renames it; a document's comes from its series). */
  numberEditable: boolean;
  /** Option (enum) properties and the values BC accepts for them. */
  options?: Record<string, readonly string[]>;
  /** Fills the properties BC derives from others; throws BC's refusal when they do not resolve. */
  derive?: (record: Row, find: Find) => void;
}

/** The GUID BC leaves in an unset reference (`currencyId` and the like). */
const EMPTY_GUID = '00000000-0000-0000-0000-000000000000';
/** BC's value for a date nobody set. */
const BLANK_DATE = '0001-01-01';
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** Code properties: BC stores them upper-cased and refuses longer values. */
const CODE_LENGTHS: Record<string, number> = {
  externalDocumentNumber: 35,
  currencyCode: 10,
  salespersonCode: 20,
  irs1099Code: 10,
};

// Several properties with one default: `fill('', 'city state')`; `words('a b')` is ['a', 'b'].
const words = (names: string) => names.split(' ');
const fill = (value: unknown, names: string) => Object.fromEntries(words(names).map((name) => [name, value]));
const PARTY = {
  ...fill('', 'displayName addressLine1 addressLine2 city state country postalCode'),
  ...fill('', 'phoneNumber email website taxRegistrationNumber'),
};
/** An address of a document: `address('sellTo', 'PostCode')` is sellToAddressLine1 ... sellToPostCode. */
const address = (prefix: string, postCode = 'PostCode') =>
  words(`AddressLine1 AddressLine2 City Country State ${postCode}`)
    .map((part) => `${prefix}${part}`)
    .join(' ');
/** A document's amounts, which BC computes from its lines. */
const TOTALS = 'totalAmountExcludingTax totalTaxAmount totalAmountIncludingTax';

/** Is a reference property unset? */
const unset = (value: unknown) => value === '' || value === EMPTY_GUID || value === undefined;

/** What a sales or purchase document has, as the APIV2 page gives it. */
interface DocumentShape {
  prefix: string;
  party: 'customer' | 'vendor';
  /** The property that holds its date, today when none is given. */
  date: string;
  defaults: Record<string, unknown>;
  readOnly: string;
}

/**
 * A sales or purchase document. Like BC, its party (customer or vendor) is named by id or, failing
 * that, by number, and one of them is required; the party's id, number and name are filled in,
 * and the document date is today when none is given. Lines, totals and addresses are not derived.
 */
function documentOf({ prefix, party, date, defaults, readOnly }: DocumentShape): Collection {
  const [idProperty, numberProperty] = [`${party}Id`, `${party}Number`];
  return {
    prefix,
    defaults: { ...defaults, status: 'Draft' },
    readOnly: [...words(readOnly), 'status'],
    numberEditable: false,
    derive: (record, find) => {
      const [id, number] = [String(record[idProperty]), String(record[numberProperty])];
      if (unset(id) && number === '') throw badRequest(`A "${numberProperty}" or a "${idProperty}" must be provided.`);
      const owner = find(`${party}s`, (candidate) =>
        unset(id) ? String(candidate.number).toLowerCase() === number.toLowerCase() : candidate.id === id.toLowerCase(),
      );
      if (owner === undefined)
        throw badRequest(`The ${party} with ${unset(id) ? `number '${number}'` : `id '${id}'`} does not exist.`);
      record[idProperty] = owner.id;
      record[numberProperty] = owner.number;
      record[`${party}Name`] = owner.displayName;
      if (record[date] === '' || record[date] === BLANK_DATE) record[date] = new Date().toISOString().slice(0, 10);
    },
  };
}

/** A company contact is its own company; a person's company is named by its number. */
function deriveContact(record: Row, find: Find): void {
  if (record.type === 'Company') {
    record.companyNumber = record.number;
    record.companyName = record.displayName;
  } else if (record.companyNumber !== '') {
    const company = find(
      'contacts',
      (contact) => contact.number === record.companyNumber && contact.type === 'Company',
    );
    if (company === undefined)
      throw badRequest(`The contact company '${String(record.companyNumber)}' does not exist.`);
    record.companyName = company.displayName;
  }
  record.searchName = String(record.displayName).toUpperCase();
}

/** What sales quotes and orders share. */
const SALES = {
  ...fill('', 'externalDocumentNumber customerNumber customerName billToName billToCustomerNumber'),
  ...fill('', `shipToName shipToContact ${address('sellTo')} ${address('billTo')} ${address('shipTo')}`),
  ...fill('', 'shortcutDimension1Code shortcutDimension2Code currencyCode salesperson phoneNumber email'),
  ...fill(EMPTY_GUID, 'customerId billToCustomerId currencyId paymentTermsId shipmentMethodId'),
  ...fill(BLANK_DATE, 'postingDate'),
  ...fill(0, `discountAmount ${TOTALS}`),
};

export const COLLECTIONS: Record<CollectionName, Collection> = {
  customers: {
    prefix: 'C',
    defaults: {
      ...PARTY,
      ...fill('', 'salespersonCode currencyCode taxAreaDisplayName'),
      ...fill(0, 'balanceDue creditLimit'),
      ...fill(EMPTY_GUID, 'taxAreaId currencyId paymentTermsId shipmentMethodId paymentMethodId'),
      type: 'Company',
      taxLiable: false,
      blocked: ' ',
    },
    readOnly: ['balanceDue', 'taxAreaDisplayName'],
    numberEditable: true,
    options: { type: ['Company', 'Person'], blocked: [' ', 'Ship', 'Invoice', 'All'] },
  },
  vendors: {
    prefix: 'V',
    defaults: {
      ...PARTY,
      ...fill('', 'currencyCode irs1099Code'),
      ...fill(EMPTY_GUID, 'currencyId paymentTermsId paymentMethodId'),
      taxLiable: false,
      blocked: ' ',
      balance: 0,
    },
    readOnly: ['balance'],
    numberEditable: true,
    options: { blocked: [' ', 'Payment', 'All'] },
  },
  bankAccounts: {
    prefix: 'B',
    defaults: {
      ...fill('', 'displayName bankAccountNumber currencyCode iban'),
      ...fill(false, 'blocked intercompanyEnabled'),
      currencyId: EMPTY_GUID,
    },
    readOnly: [],
    numberEditable: true,
  },
  contacts: {
    prefix: 'CT',
    defaults: {
      ...PARTY,
      ...fill('', 'jobTitle companyNumber companyName mobilePhoneNumber searchName'),
      type: 'Company',
      contactBusinessRelation: 'None',
      privacyBlocked: false,
      lastInteractionDate: BLANK_DATE,
    },
    readOnly: ['contactBusinessRelation', 'lastInteractionDate'],
    numberEditable: true,
    options: { type: ['Company', 'Person'] },
    derive: deriveContact,
  },
  salesQuotes: documentOf({
    prefix: 'SQ',
    party: 'customer',
    date: 'documentDate',
    defaults: {
      ...SALES,
      ...fill(BLANK_DATE, 'documentDate dueDate validUntilDate acceptedDate'),
      sentDate: '0001-01-01T00:00:00Z',
    },
    readOnly: `customerName billToName ${TOTALS} sentDate acceptedDate`,
  }),
  salesOrders: documentOf({
    prefix: 'SO',
    party: 'customer',
    date: 'orderDate',
    defaults: {
      ...SALES,
      ...fill(BLANK_DATE, 'orderDate requestedDeliveryDate'),
      ...fill(false, 'pricesIncludeTax partialShipping discountAppliedBeforeTax fullyShipped'),
    },
    // An order's bill-to address is the bill-to customer's.
    readOnly: `customerName billToName ${address('billTo')} discountAppliedBeforeTax ${TOTALS}`,
  }),
  // API v2.0 purchase orders have no externalDocumentNumber.
  purchaseOrders: documentOf({
    prefix: 'PO',
    party: 'vendor',
    date: 'orderDate',
    defaults: {
      ...fill('', 'vendorNumber vendorName payToName payToVendorNumber shipToName shipToContact'),
      ...fill('', `${address('buyFrom')} ${address('payTo')} ${address('shipTo')}`),
      ...fill('', 'shortcutDimension1Code shortcutDimension2Code currencyCode purchaser'),
      ...fill(EMPTY_GUID, 'vendorId payToVendorId currencyId paymentTermsId shipmentMethodId'),
      ...fill(BLANK_DATE, 'orderDate postingDate requestedReceiptDate'),
      ...fill(false, 'pricesIncludeTax discountAppliedBeforeTax fullyReceived'),
      ...fill(0, `discountAmount ${TOTALS}`),
    },
    readOnly: `vendorName payToName ${address('payTo')} discountAppliedBeforeTax ${TOTALS}`,
  }),
};

/** A collection's entity type as BC names it in messages (`customer`, `salesQuote`). */
export const singular = (collection: string) => collection.replace(/ies$/, 'y').replace(/s$/, '');

/** How a write reaches the store: through the API, or as a direct edit (a user, or BC's own processes). */
export interface Write {
  by: ChangedBy;
  method: 'POST' | 'PATCH';
}

/**
 * Refuses properties the entity does not have, values of the wrong type, GUIDs that are not GUIDs,
 * option values outside the option's list and codes that are too long, as BC does; codes come back
 * upper-cased. Through the API, a property BC fills itself (`id`, `lastModifiedDateTime`, a
 * balance, a document's number and status, ...) is refused too, as BC's page refuses it; a direct
 * edit may set those (it stands for BC's own postings and releases), and its `id` and `number`
 * are the store's. OData annotations (`@odata.etag`) are left out.
 */
export function checkProperties(collection: CollectionName, body: Row, write: Write): Row {
  const { defaults, options, readOnly, numberEditable } = COLLECTIONS[collection];
  const api = write.by === 'api';
  const checked: Row = {};
  for (const [property, value] of Object.entries(body)) {
    if (property.startsWith('@odata.')) continue;
    const managed = property === 'id' || property === 'lastModifiedDateTime';
    if (managed || property === 'number') {
      if (api && (managed || !numberEditable)) throw badRequest(`Control '${property}' is read-only.`);
      if (property !== 'number') continue;
      if (typeof value !== 'string' || value.length > 20)
        throw badRequest(`Cannot convert the literal '${String(value)}' to the expected type of 'number'.`);
      checked.number = value;
      continue;
    }
    if (!(property in defaults))
      throw badRequest(
        `The property '${property}' does not exist on type 'Microsoft.NAV.${singular(collection)}'. Make sure to only use property names that are defined by the type.`,
      );
    if (api && readOnly.includes(property)) throw badRequest(`Control '${property}' is read-only.`);
    if (typeof value !== typeof defaults[property])
      throw badRequest(`Cannot convert the literal '${String(value)}' to the expected type of '${property}'.`);
    if (defaults[property] === EMPTY_GUID && !GUID.test(String(value)))
      throw badRequest(`Cannot convert the literal '${String(value)}' to the expected type 'Edm.Guid'.`);
    const allowed = options?.[property];
    if (allowed !== undefined && !allowed.includes(String(value)))
      throw badRequest(`The value '${String(value)}' is not valid for '${property}'.`);
    const length = CODE_LENGTHS[property];
    if (length !== undefined && String(value).length > length)
      throw badRequest(
        `The length of the string is ${String(value).length}, but it must be less than or equal to ${length} characters. Value: ${String(value)}`,
      );
    checked[property] = length === undefined ? value : String(value).toUpperCase();
  }
  return checked;
}
