/**
 * OAuth 2.0 client credentials for Business Central (Microsoft Entra ID service-to-service).
 * https://learn.microsoft.com/dynamics365/business-central/dev-itpro/administration/automation-apis-using-s2s-authentication
 */
import { OAuthTokenProvider, type TokenCacheOptions, type TokenResponse } from '../kit/oauth';

/** The scope that grants access to every Business Central API of the tenant. */
export const DEFAULT_SCOPE = 'https://api.businesscentral.dynamics.com/.default';

/** Where and how to ask for a token. */
export interface ClientCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
}

/** Tuning knobs; the defaults suit production. */
export type TokenProviderOptions = TokenCacheOptions;

/**
 * Fetches, caches and renews a bearer token with the client credentials grant. Concurrent callers
 * share one token request, so a burst of API calls at start-up costs one round trip.
 */
export class ClientCredentialsTokenProvider extends OAuthTokenProvider {
  constructor(
    private readonly credentials: ClientCredentials,
    options: TokenProviderOptions = {},
  ) {
    super('business-central', options);
  }

  protected requestToken(): Promise<TokenResponse> {
    return this.postForm(this.credentials.tokenUrl, {
      grant_type: 'client_credentials',
      client_id: this.credentials.clientId,
      client_secret: this.credentials.clientSecret,
      scope: this.credentials.scope ?? DEFAULT_SCOPE,
    });
  }
}
