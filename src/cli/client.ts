/**
 * A small client of the admin API: JSON in and out, every answer parsed with the admin API's own
 * response schemas (src/http/api/schemas.ts), errors as values the CLI maps to exit codes.
 */
import type { z } from 'zod';
import { problemSchema } from '../http/api/schemas';

/** The error body the admin API answers with. */
export type ApiProblem = z.output<typeof problemSchema>;

/** The daemon answered with an error status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: ApiProblem,
  ) {
    super(problem.message ?? problem.error);
    this.name = 'ApiError';
  }
}

/** No daemon answered at the URL. */
export class DaemonUnreachableError extends Error {
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(
      `cannot reach the tandem daemon at ${url} (${reason}); is it running? Set --url or TANDEM_URL to where it listens`,
    );
    this.name = 'DaemonUnreachableError';
  }
}

/**
 * The daemon answered, but not in the shape the admin API documents: another version of tandem,
 * or something else listening at the URL.
 */
export class MalformedAnswerError extends Error {
  readonly code = 'MALFORMED_ANSWER';
  constructor(
    readonly request: string,
    readonly issue: string,
  ) {
    super(
      `the answer to ${request} is not what the admin API documents (${issue}); is the daemon at this URL a tandem of the same version?`,
    );
    this.name = 'MalformedAnswerError';
  }
}

/** A 2xx answer: its status, the body as the schema parsed it, and the body as sent (printed by --json). */
export interface ApiAnswer<T> {
  status: number;
  body: T;
  raw: unknown;
}

/** Query values; repeated keys for arrays, undefined left out. */
export type Query = Record<string, string | number | string[] | undefined>;

/** Talks to one daemon with one token. */
export class AdminClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string | undefined,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /**
   * Sends a request; resolves with a 2xx answer parsed by `schema`, throws ApiError for an error
   * status and MalformedAnswerError for an answer the schema refuses.
   */
  async request<S extends z.ZodType>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    schema: S,
    options: { query?: Query; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<ApiAnswer<z.output<S>>> {
    const url = new URL(path, this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(item));
    }
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new DaemonUnreachableError(this.baseUrl, cause?.code ?? cause?.message ?? (error as Error).message);
    }
    const text = await response.text();
    let body: unknown = undefined;
    let unparsable = false;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      unparsable = true;
    }
    if (!response.ok) {
      const problem = problemSchema.safeParse(body);
      throw new ApiError(
        response.status,
        problem.success
          ? problem.data
          : {
              error: `HTTP_${response.status}`,
              message: `the daemon answered ${response.status} ${response.statusText}`,
            },
      );
    }
    const request = `${method} ${url.pathname}`;
    if (unparsable) throw new MalformedAnswerError(request, 'the body is not JSON');
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new MalformedAnswerError(request, firstIssue(parsed.error));
    return { status: response.status, body: parsed.data, raw: body };
  }
}

/** The first thing wrong with an answer, as `path: message`. */
function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}
