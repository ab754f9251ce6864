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
import { normalizeValue } from '../../src/core/model';
import { InvalidRequestError, InvalidResponseError } from '../kit/errors';
import type { HttpClient } from '../kit/http';
import type { CreatedDocument, DocumentType } from '../kit/types';
import { DOCUMENT_RESOURCES, toCreatedDocument } from './mappers';
import { odataString, withQuery } from './odata';
import { bcDocumentPageSchema, bcDocumentSchema, parseResponse } from './schemas';

/** The Sales Header's "External Document No." is Code[35]. */
export const EXTERNAL_DOCUMENT_NUMBER_LENGTH = 35;
/** Hex digits of the key's hash in the number: 64 bits, unique enough within one customer. */
const KEY_HASH_LENGTH = 16;

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** What to start a document from. */
export interface DocumentInput {
  accountId: string;
  externalReference?: string;
  idempotencyKey: string;
}

/**
 * The externalDocumentNumber a key stands for: `<reference or TANDEM>-<16 hex digits of
 * sha256(key)>`, upper-cased and at most 35 characters. The same key always gives the same
 * number; the reference, when given, stays readable in BC (cut to 18 characters).
 */
export function externalDocumentNumberFor(idempotencyKey: string, externalReference?: string): string {
  if (idempotencyKey === '')
    throw new InvalidRequestError('business-central: a document needs a non-empty idempotencyKey');
  const hash = createHash('sha256')
    .update(idempotencyKey, 'utf8')
    .digest('hex')
    .slice(0, KEY_HASH_LENGTH)
    .toUpperCase();
  const prefix = (normalizeValue(externalReference) ?? 'TANDEM')
    .toUpperCase()
    .slice(0, EXTERNAL_DOCUMENT_NUMBER_LENGTH - KEY_HASH_LENGTH - 1);
  return `${prefix}-${hash}`;
}

/** Starts a sales quote or order for a customer, or returns the one an earlier call with the key started. */
export async function startDocument(
  http: HttpClient,
  companyId: string,
  type: DocumentType,
  input: DocumentInput,
): Promise<CreatedDocument> {
  const resource = DOCUMENT_RESOURCES[type];
  if (resource === undefined) {
    throw new InvalidRequestError(
      `business-central: cannot start a ${type}: API v2.0 has no way to create it idempotently (see README.md, Documents)`,
    );
  }
  if (!GUID.test(input.accountId))
    throw new InvalidRequestError(`business-central: ${type}: account id '${input.accountId}' is not a GUID`);
  const externalDocumentNumber = externalDocumentNumberFor(input.idempotencyKey, input.externalReference);
  const path = `companies(${companyId})/${resource.collection}`;

  const lookup = await http.request({
    method: 'GET',
    url: withQuery(path, {
      $filter: `externalDocumentNumber eq ${odataString(externalDocumentNumber)} and ${resource.accountProperty} eq ${input.accountId}`,
    }),
  });
  const existing = parseResponse(bcDocumentPageSchema, lookup.data, `${type} page`).value[0];
  if (existing !== undefined) return checked(type, input.accountId, toCreatedDocument(type, resource, existing));

  const response = await http.request({
    method: 'POST',
    url: path,
    data: { [resource.accountProperty]: input.accountId, externalDocumentNumber },
    headers: { 'Content-Type': 'application/json' },
  });
  return checked(
    type,
    input.accountId,
    toCreatedDocument(type, resource, parseResponse(bcDocumentSchema, response.data, `${type} create response`)),
  );
}

/** A document BC reports for another account than asked is a broken answer, not a result. */
function checked(type: DocumentType, accountId: string, document: CreatedDocument): CreatedDocument {
  if (document.accountId.toLowerCase() !== accountId.toLowerCase()) {
    throw new InvalidResponseError(
      `business-central: ${type} ${document.id} belongs to '${document.accountId}', not to '${accountId}'`,
    );
  }
  return document;
}
