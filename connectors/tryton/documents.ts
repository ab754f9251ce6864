/**
 * Starting sales and purchases (without lines) for a customer or vendor, idempotently.
 *
 * Tryton 6.0 has one model per side, with states: sale.sale draft -> quotation -> confirmed, and
 * purchase.purchase the same. A quote is a sale or purchase moved to `quotation` (the `quote`
 * button, which also gives it its number); an order is a sale or purchase left in `draft` for the
 * user to complete and confirm: a confirmed sale without lines would be of no use.
 *
 * trytond has no idempotency header. The key is carried in the document's `reference`: before
 * creating, the connector looks for a document of that party with that reference and returns it
 * (quoting it first when a quote's `quote` call was lost).
 */
import { createHash } from 'node:crypto';
import { normalizeValue } from '../../src/core/model';
import { InvalidRequestError, InvalidResponseError, NotFoundError } from '../kit/errors';
import type { CreatedDocument, DocumentType } from '../kit/types';
import { parseId, type TrytonApi } from './client';
import { documentSchema, idRowSchema, parseRows, type DocumentRow } from './schemas';
import { isoDateFromTryton } from './values';

/** The model and state each document type is started as. */
export const DOCUMENT_MODELS: Record<
  DocumentType,
  { model: 'sale.sale' | 'purchase.purchase'; kind: 'customer' | 'vendor'; quote: boolean }
> = {
  salesQuote: { model: 'sale.sale', kind: 'customer', quote: true },
  salesOrder: { model: 'sale.sale', kind: 'customer', quote: false },
  purchaseQuote: { model: 'purchase.purchase', kind: 'vendor', quote: true },
  purchaseOrder: { model: 'purchase.purchase', kind: 'vendor', quote: false },
};

const KEY_HASH_LENGTH = 16;

/** The reference a key stands for: `<reference or TANDEM>-<16 hex digits of sha256(type:key)>`. */
export function documentReferenceFor(type: DocumentType, idempotencyKey: string, externalReference?: string): string {
  if (idempotencyKey === '') throw new InvalidRequestError('tryton: a document needs a non-empty idempotencyKey');
  const hash = createHash('sha256')
    .update(`${type}:${idempotencyKey}`, 'utf8')
    .digest('hex')
    .slice(0, KEY_HASH_LENGTH)
    .toUpperCase();
  return `${(normalizeValue(externalReference) ?? 'TANDEM').slice(0, 40)}-${hash}`;
}

const FIELDS = {
  'sale.sale': ['number', 'reference', 'state', 'party', 'sale_date'],
  'purchase.purchase': ['number', 'reference', 'state', 'party', 'purchase_date'],
};

/** Starts a document for a customer or vendor, or returns the one an earlier call with the key started. */
export async function startDocument(
  api: TrytonApi,
  type: DocumentType,
  input: { accountId: string; externalReference?: string; idempotencyKey: string },
): Promise<CreatedDocument> {
  const target = DOCUMENT_MODELS[type];
  const partyId = parseId(input.accountId);
  const account = partyId === null ? null : await api.getParty(target.kind, input.accountId);
  if (partyId === null || account === null)
    throw new NotFoundError(`tryton: ${type}: ${target.kind} ${input.accountId} not found`);
  const reference = documentReferenceFor(type, input.idempotencyKey, input.externalReference);

  const read = async (id: number): Promise<DocumentRow> => {
    const [row] = await api.searchRead(target.model, documentSchema, [['id', '=', id]], FIELDS[target.model]);
    if (row === undefined) throw new InvalidResponseError(`tryton: ${target.model} ${id} vanished after being created`);
    return row;
  };
  const [existing] = await api.searchRead(
    target.model,
    documentSchema,
    [
      ['reference', '=', reference],
      ['party', '=', partyId],
    ],
    FIELDS[target.model],
  );
  let row = existing;
  if (row === undefined) {
    const [address] = await api.searchRead(
      'party.address',
      idRowSchema,
      [['party', '=', partyId]],
      ['id'],
      [
        ['sequence', 'ASC'],
        ['id', 'ASC'],
      ],
    );
    const values: Record<string, unknown> = { party: partyId, reference, invoice_address: address?.id ?? null };
    if (target.model === 'sale.sale') values.shipment_address = address?.id ?? null;
    const created = parseRows(
      idRowSchema.shape.id,
      await api.rpc.model(target.model, 'create', [[values]]),
      `${target.model}.create`,
    );
    row = await read(created[0]!);
  }
  if (target.quote && row.state === 'draft') {
    await api.rpc.model(target.model, 'quote', [[row.id]]);
    row = await read(row.id);
  }
  if (row.party !== partyId)
    throw new InvalidResponseError(`tryton: ${target.model} ${row.id} belongs to party ${row.party}, not ${partyId}`);
  const date = row.sale_date ?? row.purchase_date ?? null;
  return {
    type,
    id: String(row.id),
    number: normalizeValue(row.number),
    accountId: input.accountId,
    date: date === null ? null : isoDateFromTryton(date),
    status: row.state,
  };
}
