/**
 * OAuth 2.0 refresh tokens for QuickBooks Online. Every refresh answers the refresh token to use
 * next (Intuit rotates it about once a day, and the previous one stops working), so the new one is
 * kept before the access token is used.
 * https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/faq
 */
import type { z } from 'zod';
import { InvalidResponseError } from '../kit/errors';
import { OAuthTokenProvider, type TokenResponse } from '../kit/oauth';
import type { quickbooksConfig } from './config';

/** Intuit's token endpoint. */
export const INTUIT_TOKEN_URL = 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer';

/** The app's credentials and the refresh token of the connection, as the config holds them. */
export type QboCredentials = Omit<z.output<typeof quickbooksConfig>['credentials'], 'webhookVerifierToken'>;

/** Caches the access token and refreshes it with the rotating refresh token; concurrent callers share one refresh. */
export class IntuitRefreshTokenProvider extends OAuthTokenProvider {
  private refreshToken: string;

  constructor(
    private readonly credentials: QboCredentials,
    /** Receives every new refresh token. Persist it: the one before stops working. */
    private readonly onRefreshToken?: (newRefreshToken: string) => void | Promise<void>,
  ) {
    super('quickbooks');
    this.refreshToken = credentials.refreshToken;
  }

  protected async requestToken(): Promise<TokenResponse> {
    const { clientId, clientSecret, tokenUrl = INTUIT_TOKEN_URL } = this.credentials;
    const token = await this.postForm(
      tokenUrl,
      { grant_type: 'refresh_token', refresh_token: this.refreshToken },
      { Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` },
    );
    if (!token.refresh_token)
      throw new InvalidResponseError(
        'quickbooks: the token response carries no refresh_token (Intuit always sends one)',
      );
    if (token.refresh_token !== this.refreshToken) {
      // The old refresh token is spent now: keep the new one before anything else can fail.
      this.refreshToken = token.refresh_token;
      await this.onRefreshToken?.(token.refresh_token);
    }
    return token;
  }
}
