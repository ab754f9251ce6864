/**
 * The one HTTP client every connector uses: auth with a refresh on 401, retries with backoff,
 * Retry-After on 429, the declared limits, and failures as the named errors of ./errors.
 */
import axios, { AxiosError, type AxiosInstance, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import type { z } from 'zod';
import {
  AuthFailedError,
  ConnectorError,
  InvalidRequestError,
  NotFoundError,
  PreconditionFailedError,
  RateLimitedError,
  TransientError,
} from './errors';
import type { ProviderClock } from './clock';
import type { Limiter } from './limiter';
import { parseResponse } from './parse';

/** Supplies the Authorization header; `invalidate` drops a cached token after a 401. */
export interface AuthProvider {
  header(): Promise<string>;
  invalidate?(): void;
}

/** Retry policy of the client. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** First backoff delay; doubled on each retry, with jitter. */
  baseDelayMs: number;
  /** A 429 asking to wait longer than this is handed to the queue instead of waited out here. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 250, maxRetryAfterMs: 10_000 };

/** Observes every response (for metrics); never throws. */
export type ResponseObserver = (event: {
  connector: string;
  method: string;
  status: number;
  durationMs: number;
}) => void;

export interface HttpClientOptions {
  connector: string;
  baseURL: string;
  auth?: AuthProvider;
  retry?: Partial<RetryPolicy>;
  observe?: ResponseObserver;
  /** Keeps the provider's limits (in process, or a budget shared by every process); every attempt passes it. */
  limiter?: Limiter;
  /** Learns the provider's clock offset from the `Date` header of every answer. */
  clock?: ProviderClock;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Parses Retry-After (seconds or an HTTP date) into milliseconds; a missing header means 1 s. */
export function parseRetryAfter(value: unknown, now = Date.now()): number {
  if (typeof value !== 'string' && typeof value !== 'number') return 1000;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(String(value));
  return Number.isNaN(date) ? 1000 : Math.max(0, date - now);
}

/** An HTTP client bound to one connector. */
export class HttpClient {
  private readonly axios: AxiosInstance;
  private readonly retry: RetryPolicy;

  constructor(private readonly options: HttpClientOptions) {
    this.axios = axios.create({
      baseURL: options.baseURL,
      timeout: 30_000,
      // Every status reaches our own handling below; axios must not throw on its own.
      validateStatus: () => true,
    });
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
  }

  /**
   * Sends a request and returns the response of a 2xx; everything else becomes a ConnectorError.
   * `attempts` overrides the policy's (a health probe tries once: it wants the answer now).
   */
  async request<T = unknown>(
    config: AxiosRequestConfig,
    options: { attempts?: number } = {},
  ): Promise<AxiosResponse<T>> {
    const { connector, auth, limiter, clock } = this.options;
    const method = (config.method ?? 'GET').toUpperCase();
    const call = `${connector}: ${method} ${config.url}`;
    const attempts = options.attempts ?? this.retry.attempts;
    let refreshedAuth = false;
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = {
        Accept: 'application/json',
        ...(config.headers as Record<string, string> | undefined),
      };
      if (auth) headers.Authorization = await auth.header();
      const started = Date.now();
      const observe = (status: number) =>
        this.options.observe?.({ connector, method, status, durationMs: Date.now() - started });
      let response: AxiosResponse<T>;
      let sentAt = started;
      try {
        const send = () => {
          sentAt = Date.now();
          return this.axios.request<T>({ ...config, method, headers });
        };
        response = await (limiter ? limiter.run(send) : send());
      } catch (error) {
        // The limiter refused to wait this long: the queue retries later.
        if (error instanceof RateLimitedError)
          throw new RateLimitedError(`${call}: ${error.message}`, error.retryAfterMs);
        // No response at all: DNS, refused connection, timeout.
        observe(0);
        if (attempt < attempts) {
          await sleep(this.backoff(attempt));
          continue;
        }
        const reason = error instanceof AxiosError ? `${error.code ?? ''} ${error.message}`.trim() : String(error);
        throw new TransientError(`${call} failed: ${reason}`);
      }
      limiter?.observe(response.headers);
      // A cached answer (one with an Age) tells the time it was made, not the time it was sent.
      if (response.headers.age === undefined) clock?.observe(response.headers.date, sentAt, Date.now());
      const { status } = response;
      observe(status);
      if (status >= 200 && status < 300) return response;

      const what = `${call} answered ${status}`;
      if (status === 401 && auth?.invalidate && !refreshedAuth) {
        // A token can expire between our check and the call: fetch a fresh one once.
        auth.invalidate();
        refreshedAuth = true;
        continue;
      }
      if (status === 429) {
        const waitMs = parseRetryAfter(response.headers['retry-after']);
        // Every other call to this provider would be refused as well: they wait too.
        limiter?.pause(waitMs);
        if (attempt < attempts && waitMs <= this.retry.maxRetryAfterMs) {
          await sleep(waitMs);
          continue;
        }
        throw errorForStatus(status, what, response.headers['retry-after']);
      }
      if (status >= 500 && attempt < attempts) {
        await sleep(this.backoff(attempt));
        continue;
      }
      throw errorForStatus(status, `${what} ${describeBody(response.data)}`);
    }
  }

  /**
   * Sends a request and parses the 2xx answer's body with `schema` (see parseResponse).
   * `attempts: 1` sends it once: a 429 or 5xx is thrown for the caller (the write queue) to retry.
   */
  async json<T>(schema: z.ZodType<T>, config: AxiosRequestConfig, options: { attempts?: number } = {}): Promise<T> {
    const { data } = await this.request(config, options);
    return parseResponse(schema, data, `${this.options.connector}: ${config.method ?? 'GET'} ${config.url ?? ''}`);
  }

  private backoff(attempt: number): number {
    const base = this.retry.baseDelayMs * 2 ** (attempt - 1);
    return base + Math.floor(Math.random() * (base / 2));
  }
}

/**
 * The named error of a failed HTTP status, for a whole response or one item of a provider's batch
 * answer: 429 waits `retryAfter` (at least 1 s), 5xx is transient, and the 4xx by their meaning.
 */
export function errorForStatus(status: number, message: string, retryAfter?: unknown): ConnectorError {
  if (status === 429)
    return new RateLimitedError(`${message} (rate limited)`, Math.max(parseRetryAfter(retryAfter), 1000));
  if (status >= 500) return new TransientError(message, status);
  if (status === 401 || status === 403) return new AuthFailedError(message, status);
  if (status === 404 || status === 410) return new NotFoundError(message);
  if (status === 412) return new PreconditionFailedError(message);
  return new InvalidRequestError(message, status);
}

function describeBody(data: unknown): string {
  if (data === undefined || data === null || data === '') return '';
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  return `: ${text.length > 300 ? `${text.slice(0, 300)}...` : text}`;
}
