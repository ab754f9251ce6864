/**
 * Starting sales quotes and orders (without lines) for a customer, idempotently.
 *
 * BC has no idempotency header. The key is carried in the document's `externalDocumentNumber`
 * (Code[35] on the Sales Header, so BC stores it upper-cased): before creating, the connector
 * looks for a document of that customer with that number and returns it when a lost response
 * already created one.
 * https://learn.microsoft.com/dynamics365/business-central/dev-itpro/api-reference/v2.0/resources/dynamics_salesquote
 * https://learn.microsoft.com/dynamics365/business-central/dev-itpro/api-reference/v2.0/resources/dynamics_salesorder
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { normalizeValue } from '../../src/core/model';
import { InvalidRequestError, InvalidResponseError } from '../kit/errors';
import type { HttpClient } from '../kit/http';
import { DOCUMENT_TYPES, type CreatedDocument, type DocumentInput, type DocumentType } from '../kit/types';
import { GUID, odataString, withQuery } from './odata';
import { pageOf, text } from './schemas';

/** The Sales Header's "External Document No." is Code[35]. */
export const EXTERNAL_DOCUMENT_NUMBER_LENGTH = 35;
/** Hex digits of the key's hash in the number: 64 bits, unique enough within one customer. */
const KEY_HASH_LENGTH = 16;
/** What is left of the number for the readable reference, before the '-' and the hash. */
const PREFIX_LENGTH = EXTERNAL_DOCUMENT_NUMBER_LENGTH - KEY_HASH_LENGTH - 1;
/** BC's value for a date nobody set. */
const BLANK_DATE = '0001-01-01';

/** A sales quote or order as BC sends it; only what a CreatedDocument needs. */
const documentSchema = z.object({
  id: z.string().min(1),
  number: text,
  customerId: text,
  documentDate: text,
  orderDate: text,
  status: text,
});

/** Where a document type lives in API v2.0: its collection, and the property that holds its date. */
const RESOURCES: Partial<Record<DocumentType, { collection: string; date: 'documentDate' | 'orderDate' }>> = {
  salesQuote: { collection: 'salesQuotes', date: 'documentDate' },
  salesOrder: { collection: 'salesOrders', date: 'orderDate' },
};

/** The document types this connector starts. */
export const STARTED_DOCUMENTS = DOCUMENT_TYPES.filter((type) => RESOURCES[type] !== undefined);

/** Why the other types are not started (README.md, "Documents"). */
export const REFUSED_DOCUMENTS: Partial<Record<DocumentType, string>> = {
  purchaseQuote: 'API v2.0 has no purchaseQuotes endpoint',
  // Without either, a retry after a lost response would start a second purchase order.
  purchaseOrder:
    'API v2.0 purchase orders have neither an externalDocumentNumber nor a writable number to find a retry by',
};

/**
 * The externalDocumentNumber a key stands for: `<reference or TANDEM>-<16 hex digits of
 * sha256(key)>`, upper-cased and at most 35 characters. The same key always gives the same
 * number; the reference, when given, stays readable in BC (cut to 18 characters).
 */
export function externalDocumentNumberFor(idempotencyKey: string, externalReference?: string): string {
  if (idempotencyKey === '')
    throw new InvalidRequestError('business-central: a document needs a non-empty idempotencyKey');
  const hash = createHash('sha256').update(idempotencyKey, 'utf8').digest('hex').slice(0, KEY_HASH_LENGTH);
  const prefix = (normalizeValue(externalReference) ?? 'TANDEM').toUpperCase().slice(0, PREFIX_LENGTH);
  return `${prefix}-${hash.toUpperCase()}`;
}

/** Starts a sales quote or order for a customer, or returns the one an earlier call with the key started. */
export async function startDocument(
  { api: { http, companyId } }: { api: { http: HttpClient; companyId: string } },
  type: DocumentType,
  input: DocumentInput,
): Promise<CreatedDocument> {
  const resource = RESOURCES[type];
  if (resource === undefined) throw new InvalidRequestError(`business-central: cannot start a ${type}`);
  if (!GUID.test(input.accountId))
    throw new InvalidRequestError(`business-central: ${type}: account id '${input.accountId}' is not a GUID`);
  const externalDocumentNumber = externalDocumentNumberFor(input.idempotencyKey, input.externalReference);
  const url = `companies(${companyId})/${resource.collection}`;
  const $filter = `externalDocumentNumber eq ${odataString(externalDocumentNumber)} and customerId eq ${input.accountId}`;
  const [existing] = (await http.json(pageOf(documentSchema), { url: withQuery(url, { $filter }) })).value;
  const data = { customerId: input.accountId, externalDocumentNumber };
  const document = existing ?? (await http.json(documentSchema, { method: 'POST', url, data }));
  const accountId = normalizeValue(document.customerId) ?? '';
  // A document BC reports for another customer than asked is a broken answer, not a result.
  if (accountId.toLowerCase() !== input.accountId.toLowerCase())
    throw new InvalidResponseError(
      `business-central: ${type} ${document.id} belongs to '${accountId}', not to '${input.accountId}'`,
    );
  const date = normalizeValue(document[resource.date]);
  const { id, number, status } = document;
  return {
    type,
    id,
    number: normalizeValue(number),
    accountId,
    date: date === BLANK_DATE ? null : date,
    status: normalizeValue(status),
  };
}
