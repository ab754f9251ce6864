/**
 * The collections the sandbox serves, as data: the properties BC's API v2.0 gives each record
 * (with their defaults and option values), the number series new records draw from, and the
 * properties BC derives from others. One generic store and one set of routes serve them all.
 */
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
   * Writable properties and their defaults. A write naming any other property is refused like BC
   * refuses it, so a mapping typo shows up in tests.
   */
  defaults: Record<string, unknown>;
  /** Option (enum) properties and the values BC accepts for them. */
  options?: Record<string, readonly string[]>;
  /** Fills the properties BC derives from others; throws BC's refusal when they do not resolve. */
  derive?: (record: Row, find: Find) => void;
}

/** The GUID BC leaves in an unset reference (`currencyId` and the like). */
const EMPTY_GUID = '00000000-0000-0000-0000-000000000000';
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** Code properties: BC stores them upper-cased and refuses longer values. */
const CODE_LENGTHS: Record<string, number> = {
  externalDocumentNumber: 35,
  currencyCode: 10,
  salespersonCode: 20,
  irs1099Code: 10,
};

// Several properties with one default: `fill('', 'city state')`.
const fill = (value: unknown, names: string) => Object.fromEntries(names.split(' ').map((name) => [name, value]));
const PARTY = {
  ...fill('', 'displayName addressLine1 addressLine2 city state country postalCode'),
  ...fill('', 'phoneNumber email website taxRegistrationNumber'),
};

/**
 * A sales or purchase document. Like BC, its party (customer or vendor) is named by id or, failing
 * that, by number, and one of them is required; the party's id, number and name are filled in,
 * and the document date is today when none is given.
 */
function documentOf(prefix: string, party: 'customer' | 'vendor', date: string, properties: string): Collection {
  const [idProperty, numberProperty] = [`${party}Id`, `${party}Number`];
  return {
    prefix,
    defaults: { ...fill('', `${properties} ${idProperty} ${numberProperty} ${party}Name`), status: 'Draft' },
    derive: (record, find) => {
      const [id, number] = [String(record[idProperty]), String(record[numberProperty])];
      if (id === '' && number === '') throw badRequest(`A "${numberProperty}" or a "${idProperty}" must be provided.`);
      const owner = find(`${party}s`, (candidate) =>
        id === '' ? String(candidate.number).toLowerCase() === number.toLowerCase() : candidate.id === id.toLowerCase(),
      );
      if (owner === undefined)
        throw badRequest(`The ${party} with ${id === '' ? `number '${number}'` : `id '${id}'`} does not exist.`);
      record[idProperty] = owner.id;
      record[numberProperty] = owner.number;
      record[`${party}Name`] = owner.displayName;
      if (record[date] === '') record[date] = new Date().toISOString().slice(0, 10);
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

export const COLLECTIONS: Record<CollectionName, Collection> = {
  customers: {
    prefix: 'C',
    defaults: {
      ...PARTY,
      ...fill('', 'salespersonCode currencyCode'),
      ...fill(0, 'balanceDue creditLimit'),
      ...fill(EMPTY_GUID, 'taxAreaId currencyId paymentTermsId shipmentMethodId paymentMethodId'),
      type: 'Company',
      taxLiable: false,
      blocked: ' ',
    },
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
    options: { blocked: [' ', 'Payment', 'All'] },
  },
  bankAccounts: {
    prefix: 'B',
    defaults: {
      ...fill('', 'displayName bankAccountNumber currencyCode iban'),
      ...fill(false, 'blocked intercompanyEnabled'),
      currencyId: EMPTY_GUID,
    },
  },
  contacts: {
    prefix: 'CT',
    defaults: {
      ...PARTY,
      ...fill('', 'companyNumber companyName mobilePhoneNumber searchName'),
      type: 'Company',
      contactBusinessRelation: 'None',
      privacyBlocked: false,
      lastInteractionDate: '0001-01-01',
    },
    options: { type: ['Company', 'Person'] },
    derive: deriveContact,
  },
  salesQuotes: documentOf('SQ', 'customer', 'documentDate', 'externalDocumentNumber documentDate currencyCode'),
  salesOrders: documentOf('SO', 'customer', 'orderDate', 'externalDocumentNumber orderDate currencyCode'),
  // API v2.0 purchase orders have no externalDocumentNumber.
  purchaseOrders: documentOf('PO', 'vendor', 'orderDate', 'orderDate currencyCode'),
};

/** A collection's entity type as BC names it in messages (`customer`, `salesQuote`). */
export const singular = (collection: string) => collection.replace(/ies$/, 'y').replace(/s$/, '');

/**
 * Refuses properties the entity does not have, values of the wrong type, GUIDs that are not GUIDs,
 * option values outside the option's list and codes that are too long, as BC does; codes come back
 * upper-cased. What a client may send back but never writes (`id`, OData annotations and the
 * timestamp) is left out.
 */
export function checkProperties(collection: CollectionName, body: Row): Row {
  const { defaults, options } = COLLECTIONS[collection];
  const checked: Row = {};
  for (const [property, value] of Object.entries(body)) {
    if (property === 'id' || property === 'lastModifiedDateTime' || property.startsWith('@odata.')) continue;
    if (!(property in defaults))
      throw badRequest(
        `The property '${property}' does not exist on type 'Microsoft.NAV.${singular(collection)}'. Make sure to only use property names that are defined by the type.`,
      );
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
