/**
 * OAuth 2.0 refresh tokens for Xero. Every refresh returns a new refresh token and invalidates the
 * old one, so the new one is handed to `onRefreshToken` before the access token is used.
 * https://developer.xero.com/documentation/guides/oauth2/auth-flow/#refreshing-access-and-refresh-tokens
 */
import { InvalidResponseError } from '../kit/errors';
import { OAuthTokenProvider, type TokenResponse } from '../kit/oauth';

/** Xero's identity server token endpoint. */
export const XERO_TOKEN_URL = 'https://identity.xero.com/connect/token';

/** The app's credentials and the refresh token of the connection. */
export interface XeroAuthOptions {
  tokenUrl?: string;
  clientId: string;
  clientSecret: string;
  /** The refresh token to start from (offline_access scope). */
  refreshToken: string;
  /**
   * Receives every rotated refresh token. Persist it: the previous one stops working once Xero's
   * grace period for it ends (30 minutes).
   */
  onRefreshToken?: (newRefreshToken: string) => void | Promise<void>;
}

/** Caches the access token and refreshes it with the rotating refresh token; concurrent callers share one refresh. */
export class RefreshTokenProvider extends OAuthTokenProvider {
  private refreshToken: string;

  constructor(private readonly options: XeroAuthOptions) {
    super('xero');
    this.refreshToken = options.refreshToken;
  }

  protected async requestToken(): Promise<TokenResponse> {
    const basic = Buffer.from(`${this.options.clientId}:${this.options.clientSecret}`).toString('base64');
    const token = await this.postForm(
      this.options.tokenUrl ?? XERO_TOKEN_URL,
      { grant_type: 'refresh_token', refresh_token: this.refreshToken },
      { Authorization: `Basic ${basic}` },
    );
    if (!token.refresh_token)
      throw new InvalidResponseError('xero: the token response carries no refresh_token (Xero always rotates it)');
    // The old refresh token is spent now: keep the new one before anything else can fail.
    this.refreshToken = token.refresh_token;
    if (this.options.onRefreshToken) await this.options.onRefreshToken(token.refresh_token);
    return token;
  }
}
