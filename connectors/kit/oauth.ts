/**
 * OAuth 2.0 token endpoints (RFC 6749): one cache of the access token per connector, renewed
 * before it runs out, with concurrent callers sharing one request. The grant (client credentials,
 * a rotating refresh token) is the only part that differs between providers.
 */
import axios, { type AxiosInstance } from 'axios';
import { z } from 'zod';
import { AuthFailedError, InvalidResponseError, TransientError } from './errors';
import type { AuthProvider } from './http';

/** A token endpoint's answer. */
export const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.coerce.number().positive(),
  refresh_token: z.string().min(1).optional(),
});
export type TokenResponse = z.infer<typeof tokenResponseSchema>;

/** A token endpoint's error (RFC 6749 section 5.2). */
const tokenErrorSchema = z.object({ error: z.string(), error_description: z.string().optional() });

/** The clock, injectable for tests. */
export interface TokenCacheOptions {
  now?: () => number;
}

/** Renew this long before the token runs out, at most half its lifetime. */
const REFRESH_MARGIN_MS = 60_000;

type CachedToken = { value: string; refreshAt: number };

/** A bearer-token AuthProvider over one grant; subclasses say how to ask for a token. */
export abstract class OAuthTokenProvider implements AuthProvider {
  private token: CachedToken | null = null;
  private pending: Promise<CachedToken> | null = null;
  private readonly http: AxiosInstance;
  protected readonly now: () => number;

  constructor(
    /** Names the connector in errors. */
    private readonly connector: string,
    options: TokenCacheOptions = {},
  ) {
    // The token endpoint is not the provider's API: its errors are OAuth errors that must become
    // AuthFailedError with the provider's description, which the shared client cannot know.
    this.http = axios.create({ timeout: 30_000, validateStatus: () => true });
    this.now = options.now ?? Date.now;
  }

  /** The Authorization header value, asking for a token when none is cached or it is due. */
  async header(): Promise<string> {
    const token = this.token !== null && this.now() < this.token.refreshAt ? this.token : await this.requestShared();
    return `Bearer ${token.value}`;
  }

  /** Forgets the cached access token (the API answered 401), so the next call asks again. */
  invalidate(): void {
    this.token = null;
  }

  /** Asks the token endpoint; called one at a time. */
  protected abstract requestToken(): Promise<TokenResponse>;

  /** POSTs a form to the token endpoint and parses the answer; errors become the named ones. */
  protected async postForm(
    url: string,
    form: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<TokenResponse> {
    let response;
    try {
      response = await this.http.post<unknown>(url, new URLSearchParams(form).toString(), {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', ...headers },
      });
    } catch (error) {
      throw new TransientError(
        `${this.connector}: token endpoint unreachable: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (response.status >= 500)
      throw new TransientError(`${this.connector}: token endpoint answered ${response.status}`, response.status);
    if (response.status !== 200) {
      const failure = tokenErrorSchema.safeParse(response.data);
      const reason = failure.success
        ? (failure.data.error_description ?? failure.data.error)
        : `HTTP ${response.status}`;
      throw new AuthFailedError(`${this.connector}: token request refused: ${reason}`, response.status);
    }
    const parsed = tokenResponseSchema.safeParse(response.data);
    if (!parsed.success)
      throw new InvalidResponseError(`${this.connector}: unexpected token response: ${z.prettifyError(parsed.error)}`);
    return parsed.data;
  }

  private requestShared(): Promise<CachedToken> {
    // One request at a time: a burst of calls costs one round trip, and a rotating refresh token
    // is never spent twice.
    this.pending ??= (async () => {
      const requestedAt = this.now();
      const token = await this.requestToken();
      const lifetimeMs = token.expires_in * 1000;
      this.token = {
        value: token.access_token,
        refreshAt: requestedAt + lifetimeMs - Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2),
      };
      return this.token;
    })().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }
}
