/** A small client of the admin API: JSON in and out, errors as values the CLI maps to exit codes. */

/** The error body the admin API answers with. */
export interface ApiProblem {
  error: string;
  message?: string;
  field?: string;
  reason?: string;
  requestId?: string;
}

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

/** Query values; repeated keys for arrays, undefined left out. */
export type Query = Record<string, string | number | string[] | undefined>;

/** Talks to one daemon with one token. */
export class AdminClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string | undefined,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /** Sends a request; resolves with the status and parsed body of a 2xx answer, throws ApiError otherwise. */
  async request<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    options: { query?: Query; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: T }> {
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
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const problem = isProblem(body)
        ? body
        : {
            error: `HTTP_${response.status}`,
            message: `the daemon answered ${response.status} ${response.statusText}`,
          };
      throw new ApiError(response.status, problem);
    }
    return { status: response.status, body: body as T };
  }
}

function isProblem(body: unknown): body is ApiProblem {
  return typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string';
}
