/**
 * The properties of Business Central's API v2.0 customers, vendors and bank accounts: name,
 * caption, type, whether a PATCH may write it, and an enum's values. Facts taken from the AL
 * pages of Microsoft's APIV2 extension (microsoft/BCApps, MIT, commit
 * c3414ede3ec7bab5a928f312c1208dbd0f8e39a7). `number` is listed read-only: writing it renames the
 * record. Properties that extensions add are not listed.
 */
import type { AccountKind } from '../../src/core/model';

/** One property of an entity. */
export interface BcPropertyFact {
  name: string;
  caption: string;
  type: 'text' | 'number' | 'date' | 'boolean' | 'enumeration' | 'guid';
  editable: boolean;
  options?: readonly string[];
}

/** The properties per account kind, in the order of the page. */
export const BC_PROPERTIES: Record<AccountKind, readonly BcPropertyFact[]> = {
  customer: [
    { name: 'id', caption: 'Id', type: 'guid', editable: false },
    { name: 'number', caption: 'No.', type: 'text', editable: false },
    { name: 'displayName', caption: 'Display Name', type: 'text', editable: true },
    { name: 'type', caption: 'Type', type: 'enumeration', editable: true, options: ['Company', 'Person'] },
    { name: 'addressLine1', caption: 'Address Line 1', type: 'text', editable: true },
    { name: 'addressLine2', caption: 'Address Line 2', type: 'text', editable: true },
    { name: 'city', caption: 'City', type: 'text', editable: true },
    { name: 'state', caption: 'State', type: 'text', editable: true },
    { name: 'country', caption: 'Country/Region Code', type: 'text', editable: true },
    { name: 'postalCode', caption: 'Post Code', type: 'text', editable: true },
    { name: 'phoneNumber', caption: 'Phone No.', type: 'text', editable: true },
    { name: 'email', caption: 'Email', type: 'text', editable: true },
    { name: 'website', caption: 'Website', type: 'text', editable: true },
    { name: 'salespersonCode', caption: 'Salesperson Code', type: 'text', editable: true },
    { name: 'balanceDue', caption: 'Balance Due', type: 'number', editable: false },
    { name: 'creditLimit', caption: 'Credit Limit', type: 'number', editable: true },
    { name: 'taxLiable', caption: 'Tax Liable', type: 'boolean', editable: true },
    { name: 'taxAreaId', caption: 'Tax Area Id', type: 'guid', editable: true },
    { name: 'taxAreaDisplayName', caption: 'Tax Area Display Name', type: 'text', editable: false },
    { name: 'taxRegistrationNumber', caption: 'Tax Registration No.', type: 'text', editable: true },
    { name: 'currencyId', caption: 'Currency Id', type: 'guid', editable: true },
    { name: 'currencyCode', caption: 'Currency Code', type: 'text', editable: true },
    { name: 'paymentTermsId', caption: 'Payment Terms Id', type: 'guid', editable: true },
    { name: 'shipmentMethodId', caption: 'Shipment Method Id', type: 'guid', editable: true },
    { name: 'paymentMethodId', caption: 'Payment Method Id', type: 'guid', editable: true },
    {
      name: 'blocked',
      caption: 'Blocked',
      type: 'enumeration',
      editable: true,
      options: [' ', 'Ship', 'Invoice', 'All'],
    },
    { name: 'lastModifiedDateTime', caption: 'Last Modified Date', type: 'date', editable: false },
  ],
  vendor: [
    { name: 'id', caption: 'Id', type: 'guid', editable: false },
    { name: 'number', caption: 'No.', type: 'text', editable: false },
    { name: 'displayName', caption: 'Display Name', type: 'text', editable: true },
    { name: 'addressLine1', caption: 'Address Line 1', type: 'text', editable: true },
    { name: 'addressLine2', caption: 'Address Line 2', type: 'text', editable: true },
    { name: 'city', caption: 'City', type: 'text', editable: true },
    { name: 'state', caption: 'State', type: 'text', editable: true },
    { name: 'country', caption: 'Country/Region Code', type: 'text', editable: true },
    { name: 'postalCode', caption: 'Post Code', type: 'text', editable: true },
    { name: 'phoneNumber', caption: 'Phone No.', type: 'text', editable: true },
    { name: 'email', caption: 'Email', type: 'text', editable: true },
    { name: 'website', caption: 'Website', type: 'text', editable: true },
    { name: 'taxRegistrationNumber', caption: 'Tax Registration No.', type: 'text', editable: true },
    { name: 'currencyId', caption: 'Currency Id', type: 'guid', editable: true },
    { name: 'currencyCode', caption: 'Currency Code', type: 'text', editable: true },
    { name: 'irs1099Code', caption: 'IRS1099 Code', type: 'text', editable: true },
    { name: 'paymentTermsId', caption: 'Payment Terms Id', type: 'guid', editable: true },
    { name: 'paymentMethodId', caption: 'Payment Method Id', type: 'guid', editable: true },
    { name: 'taxLiable', caption: 'Tax Liable', type: 'boolean', editable: true },
    { name: 'blocked', caption: 'Blocked', type: 'enumeration', editable: true, options: [' ', 'Payment', 'All'] },
    { name: 'balance', caption: 'Balance', type: 'number', editable: false },
    { name: 'lastModifiedDateTime', caption: 'Last Modified Date', type: 'date', editable: false },
  ],
  bankAccount: [
    { name: 'id', caption: 'Id', type: 'guid', editable: false },
    { name: 'number', caption: 'No.', type: 'text', editable: false },
    { name: 'displayName', caption: 'Display Name', type: 'text', editable: true },
    { name: 'lastModifiedDateTime', caption: 'Last Modified Date', type: 'date', editable: false },
    { name: 'bankAccountNumber', caption: 'Bank Account Number', type: 'text', editable: true },
    { name: 'blocked', caption: 'Blocked', type: 'boolean', editable: true },
    { name: 'currencyCode', caption: 'Currency Code', type: 'text', editable: true },
    { name: 'currencyId', caption: 'Currency Id', type: 'guid', editable: true },
    { name: 'iban', caption: 'IBAN', type: 'text', editable: true },
    { name: 'intercompanyEnabled', caption: 'Intercompany Enabled', type: 'boolean', editable: true },
  ],
};
