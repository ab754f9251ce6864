/** Small helpers for writing OData query strings the way Business Central reads them. */
import { InvalidRequestError } from '../kit/errors';

/** A GUID, the form of every BC id (records, companies, payment terms, ...). */
export const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Quotes a string literal: OData doubles single quotes inside. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A GUID literal: BC takes them unquoted. Refuses anything else, since it lands in a URL. */
export function odataGuid(value: string): string {
  if (!GUID.test(value)) throw new InvalidRequestError(`business-central: '${value}' is not a GUID`);
  return value;
}

/**
 * Builds `path?$filter=...` with every value percent-encoded (spaces as %20: BC does not read
 * '+' as a space in OData expressions).
 */
export function withQuery(path: string, query: Record<string, string | undefined>): string {
  const parts = Object.entries(query).flatMap(([key, value]) =>
    value === undefined ? [] : [`${key}=${encodeURIComponent(value)}`],
  );
  return parts.length === 0 ? path : `${path}?${parts.join('&')}`;
}
