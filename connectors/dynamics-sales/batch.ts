/**
 * OData `$batch` as the Dataverse Web API takes it: a multipart/mixed body of `application/http`
 * parts, each one request, answered by a multipart/mixed body of responses in the same order.
 * Pure: encoding and decoding only.
 * https://learn.microsoft.com/power-apps/developer/data-platform/webapi/execute-batch-operations-using-web-api
 */

/** One request of a batch, its URL absolute or below the origin (`/api/data/v9.2/accounts(...)`). */
export interface BatchPart {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/** One answer of a batch, in the order of the requests. */
export interface BatchAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** The most requests one batch may hold. */
export const BATCH_MAX_REQUESTS = 1000;

/** The multipart body of a batch under `boundary` (CRLF line ends, as HTTP wants). */
export function encodeBatch(boundary: string, parts: readonly BatchPart[]): string {
  const encoded = parts.map((part) => {
    const headers = Object.entries({
      ...(part.body !== undefined && { 'Content-Type': 'application/json' }),
      ...part.headers,
    }).map(([name, value]) => `${name}: ${value}`);
    const body = part.body === undefined ? '' : JSON.stringify(part.body);
    return [
      `--${boundary}`,
      'Content-Type: application/http',
      'Content-Transfer-Encoding: binary',
      '',
      `${part.method} ${part.url} HTTP/1.1`,
      ...headers,
      '',
      body,
    ].join('\r\n');
  });
  return `${encoded.join('\r\n')}\r\n--${boundary}--\r\n`;
}

/** The boundary a multipart Content-Type names, or undefined. */
export function boundaryOf(contentType: string | undefined): string | undefined {
  return /boundary="?([^";]+)"?/i.exec(contentType ?? '')?.[1];
}

/** The HTTP messages of a multipart body: each part's embedded start line, headers and body text. */
export function splitMessages(
  boundary: string,
  text: string,
): { start: string; headers: Record<string, string>; body: string }[] {
  const sections = text.split(`--${boundary}`).slice(1);
  const messages: { start: string; headers: Record<string, string>; body: string }[] = [];
  for (const section of sections) {
    if (section.startsWith('--')) break;
    // Skip the part's own headers (Content-Type: application/http, ...) up to the first blank line.
    const normalized = section.replace(/\r\n/g, '\n');
    const afterPartHeaders = normalized.indexOf('\n\n');
    if (afterPartHeaders === -1) continue;
    const message = normalized.slice(afterPartHeaders + 2);
    const headerEnd = message.indexOf('\n\n');
    const head = headerEnd === -1 ? message : message.slice(0, headerEnd);
    const [start = '', ...headerLines] = head.split('\n');
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    messages.push({ start: start.trim(), headers, body: headerEnd === -1 ? '' : message.slice(headerEnd + 2).trim() });
  }
  return messages;
}

/** The answers of a batch response body, in order; a body that is no JSON stays text. */
export function decodeBatchResponse(contentType: string | undefined, text: string): BatchAnswer[] {
  const boundary = boundaryOf(contentType);
  if (boundary === undefined) return [];
  return splitMessages(boundary, text).map(({ start, headers, body }) => {
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(start)?.[1] ?? 0);
    let parsed: unknown = body === '' ? undefined : body;
    try {
      parsed = body === '' ? undefined : (JSON.parse(body) as unknown);
    } catch {
      // Kept as text: an error page, say.
    }
    return { status, headers, body: parsed };
  });
}
