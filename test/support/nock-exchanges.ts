/**
 * Every exchange of a nock scope, as a provider's official artefact judges it: what the connector
 * sent (the request body) and the canned answer it got, handed to a check once the answer is sent.
 */

/** One request and its canned answer, bodies parsed where they are JSON. */
export interface NockExchange {
  method: string;
  /** With the query string. */
  path: string;
  requestBody?: unknown;
  status: number;
  responseBody?: unknown;
}

/** The parts of a nock scope this needs (its 'request' and 'replied' events). */
export interface WatchedScope {
  on(
    event: 'request',
    listener: (request: { method?: string; path: string }, interceptor: unknown, body: string) => void,
  ): unknown;
  on(
    event: 'replied',
    listener: (
      request: { method?: string; path: string },
      interceptor: { statusCode?: number | null; body?: unknown },
    ) => void,
  ): unknown;
}

/** A JSON text as its value; other text (or nothing) as it is. */
export function parsedBody(body: unknown): unknown {
  if (typeof body !== 'string' || body === '') return body === '' ? undefined : body;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

/** Runs `check` on every exchange of `scope` and pushes what it finds to `into`. Returns the scope. */
export function watchExchanges<S extends WatchedScope>(
  scope: S,
  into: string[],
  check: (exchange: NockExchange) => string[],
): S {
  const sent = new WeakMap<object, string>();
  scope.on('request', (request, _interceptor, body) => sent.set(request, body));
  scope.on('replied', (request, interceptor) =>
    into.push(
      ...check({
        method: request.method ?? 'GET',
        path: request.path,
        requestBody: parsedBody(sent.get(request)),
        status: interceptor.statusCode ?? 200,
        responseBody: parsedBody(interceptor.body),
      }),
    ),
  );
  return scope;
}
