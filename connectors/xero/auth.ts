/**
 * OAuth 2.0 refresh tokens for Xero. Every refresh returns a new refresh token and invalidates the
 * old one, so the new one is handed on before the access token is used.
 * https://developer.xero.com/documentation/guides/oauth2/auth-flow/#refreshing-access-and-refresh-tokens
 */
import type { z } from 'zod';
import { InvalidResponseError } from '../kit/errors';
import { OAuthTokenProvider, type TokenResponse } from '../kit/oauth';
import type { xeroConfig } from './config';

/** Xero's identity server token endpoint. */
const XERO_TOKEN_URL = 'https://identity.xero.com/connect/token';

/** The app's credentials and the refresh token of the connection (offline_access scope), as the config holds them. */
export type XeroCredentials = Omit<z.output<typeof xeroConfig>['credentials'], 'webhookKey'>;

/** Caches the access token and refreshes it with the rotating refresh token; concurrent callers share one refresh. */
export class RefreshTokenProvider extends OAuthTokenProvider {
  private refreshToken: string;

  constructor(
    private readonly credentials: XeroCredentials,
    /**
     * Receives every rotated refresh token. Persist it: the previous one stops working once Xero's
     * grace period for it ends (30 minutes).
     */
    private readonly onRefreshToken?: (newRefreshToken: string) => void | Promise<void>,
  ) {
    super('xero');
    this.refreshToken = credentials.refreshToken;
  }

  protected async requestToken(): Promise<TokenResponse> {
    const { clientId, clientSecret, tokenUrl = XERO_TOKEN_URL } = this.credentials;
    const token = await this.postForm(
      tokenUrl,
      { grant_type: 'refresh_token', refresh_token: this.refreshToken },
      { Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` },
    );
    if (!token.refresh_token)
      throw new InvalidResponseError('xero: the token response carries no refresh_token (Xero always rotates it)');
    // The old refresh token is spent now: keep the new one before anything else can fail.
    this.refreshToken = token.refresh_token;
    await this.onRefreshToken?.(token.refresh_token);
    return token;
  }
}
