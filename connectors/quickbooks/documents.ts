/**
 * Starting quotes and orders from a contact: an Estimate for its customer, a PurchaseOrder for its
 * vendor, each with one description line for the user to complete in QuickBooks. QBO Online has
 * no sales orders and no purchase quotes.
 *
 * Idempotent: the key becomes the DocNumber (`T` and 16 hex digits of its sha256, within QBO's 21
 * characters), looked for before creating; the create also carries the key as requestid.
 * https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/estimate
 * https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/purchaseorder
 */
import { createHash } from 'node:crypto';
import { normalizeValue } from '../../src/core/model';
import { InvalidRequestError, InvalidResponseError } from '../kit/errors';
import type { CreatedDocument, DocumentInput, DocumentType } from '../kit/types';
import { queryString, type QboApi } from './client';
import { qboDocumentSchema, type QboDocument } from './schemas';

/** What each started type is in QBO. */
const DOCUMENTS = {
  salesQuote: { entity: 'Estimate', party: 'CustomerRef' },
  purchaseOrder: { entity: 'PurchaseOrder', party: 'VendorRef' },
} as const;

/** The document types this connector starts. */
export const STARTED_DOCUMENTS: readonly DocumentType[] = ['salesQuote', 'purchaseOrder'];

/** Why the other types are not started. */
export const REFUSED_DOCUMENTS: Partial<Record<DocumentType, string>> = {
  salesOrder: 'QuickBooks Online has no sales orders (an Estimate is its quote, an Invoice its bill)',
  purchaseQuote: 'QuickBooks Online has no purchase quotes',
};

/** The DocNumber a key stands for: the same key always gives the same number. */
export function docNumberFor(idempotencyKey: string): string {
  if (idempotencyKey === '') throw new InvalidRequestError('quickbooks: a document needs a non-empty idempotencyKey');
  return `T${createHash('sha256').update(idempotencyKey, 'utf8').digest('hex').slice(0, 16).toUpperCase()}`;
}

/** Starts an Estimate or PurchaseOrder, or returns the one an earlier call with the key started. */
export async function startDocument(api: QboApi, type: DocumentType, input: DocumentInput): Promise<CreatedDocument> {
  if (type !== 'salesQuote' && type !== 'purchaseOrder')
    throw new InvalidRequestError(`quickbooks: cannot start a ${type}: ${REFUSED_DOCUMENTS[type] ?? ''}`);
  const { entity, party } = DOCUMENTS[type];
  if (!/^\d+$/.test(input.accountId))
    throw new InvalidRequestError(`quickbooks: ${type}: account id '${input.accountId}' is not a QuickBooks id`);
  const DocNumber = docNumberFor(input.idempotencyKey);
  const [existing] = await api.query(entity, qboDocumentSchema, `where DocNumber = ${queryString(DocNumber)}`);
  const reference = normalizeValue(input.externalReference);
  const body = {
    [party]: { value: input.accountId },
    DocNumber,
    ...(reference === null ? {} : { PrivateNote: reference }),
    Line: [
      { DetailType: 'DescriptionOnly', Description: reference ?? 'Started from tandem', DescriptionLineDetail: {} },
    ],
  };
  const document = existing ?? (await api.create(entity, qboDocumentSchema, body, input.idempotencyKey));
  return created(type, document, input.accountId);
}

function created(type: DocumentType, document: QboDocument, accountId: string): CreatedDocument {
  const owner = (type === 'salesQuote' ? document.CustomerRef : document.VendorRef)?.value ?? '';
  // A document QBO reports for another party than asked is a broken answer, not a result.
  if (owner !== accountId)
    throw new InvalidResponseError(`quickbooks: ${type} ${document.Id} belongs to '${owner}', not to '${accountId}'`);
  return {
    type,
    id: document.Id,
    number: normalizeValue(document.DocNumber),
    accountId,
    date: normalizeValue(document.TxnDate),
    status: normalizeValue(type === 'salesQuote' ? document.TxnStatus : document.POStatus),
  };
}
