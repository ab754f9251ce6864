/**
 * Starting sales and purchases (without lines) for a customer or vendor, idempotently by a key
 * carried in `reference` (README.md, "Documents"); an order stays in `draft`, for the user to add lines.
 */
import { createHash } from 'node:crypto';
import { normalizeValue } from '../../src/core/model';
import { InvalidRequestError, InvalidResponseError, NotFoundError } from '../kit/errors';
import { DOCUMENT_ACCOUNT_KIND, type CreatedDocument, type DocumentInput, type DocumentType } from '../kit/types';
import type { Domain, TrytonRpc } from './rpc';
import { parseId } from './tables';
import { documentSchema, type Party } from './schemas';

/** The model of each side, and the fields a started document is read back with. */
const MODELS = {
  customer: { model: 'sale.sale', fields: ['number', 'reference', 'state', 'party', 'sale_date'] },
  vendor: { model: 'purchase.purchase', fields: ['number', 'reference', 'state', 'party', 'purchase_date'] },
} as const;

const KEY_HASH_LENGTH = 16;

/** The reference a key stands for: `<reference or TANDEM>-<16 hex digits of sha256(type:key)>`. */
export function documentReferenceFor(type: DocumentType, idempotencyKey: string, externalReference?: string): string {
  if (idempotencyKey === '') throw new InvalidRequestError('tryton: a document needs a non-empty idempotencyKey');
  const hash = createHash('sha256').update(`${type}:${idempotencyKey}`, 'utf8').digest('hex').slice(0, KEY_HASH_LENGTH);
  return `${(normalizeValue(externalReference) ?? 'TANDEM').slice(0, 40)}-${hash.toUpperCase()}`;
}

/**
 * Starts a document for a customer or vendor (`partyOf` reads a party of a kind), or returns the
 * one an earlier call with the key started.
 */
export async function startDocument(
  rpc: TrytonRpc,
  partyOf: (kind: 'customer' | 'vendor', id: number) => Promise<Party | undefined>,
  type: DocumentType,
  input: DocumentInput,
): Promise<CreatedDocument> {
  const kind = DOCUMENT_ACCOUNT_KIND[type];
  const { model, fields } = MODELS[kind];
  const partyId = parseId(input.accountId);
  const party = partyId === null ? undefined : await partyOf(kind, partyId);
  if (party === undefined) throw new NotFoundError(`tryton: ${type}: ${kind} ${input.accountId} not found`);
  const reference = documentReferenceFor(type, input.idempotencyKey, input.externalReference);

  const find = async (domain: Domain[]) => (await rpc.search(model, documentSchema, [...fields], domain))[0];
  const read = async (id: number) => {
    const row = await find([['id', '=', id]]);
    if (row === undefined) throw new InvalidResponseError(`tryton: ${model} ${id} vanished after being created`);
    return row;
  };
  let row = await find([
    ['reference', '=', reference],
    ['party', '=', party.id],
  ]);
  if (row === undefined) {
    // The party's first address is the invoice (and shipment) address; a quote needs one.
    const address = party['addresses.'][0]?.id ?? null;
    const addresses = { invoice_address: address, ...(kind === 'customer' && { shipment_address: address }) };
    row = await read(await rpc.create(model, { party: party.id, reference, ...addresses }));
  }
  const quote = type === 'salesQuote' || type === 'purchaseQuote';
  if (quote && row.state === 'draft') {
    await rpc.model(model, 'quote', [[row.id]]);
    row = await read(row.id);
  }
  if (row.party !== party.id)
    throw new InvalidResponseError(`tryton: ${model} ${row.id} belongs to party ${row.party}, not ${party.id}`);
  return {
    type,
    id: String(row.id),
    number: normalizeValue(row.number),
    accountId: input.accountId,
    date: row.sale_date ?? row.purchase_date ?? null,
    status: row.state,
  };
}
