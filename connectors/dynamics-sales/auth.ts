/**
 * OAuth 2.0 client credentials against Azure AD (Microsoft Entra ID) for the Dataverse Web API: an
 * application user's app registration asks for `<environment URL>/.default`.
 * https://learn.microsoft.com/power-apps/developer/data-platform/authenticate-oauth
 */
import { OAuthTokenProvider, type TokenCacheOptions, type TokenResponse } from '../kit/oauth';

/** Where and how to ask for a token. */
export interface DataverseCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope: string;
}

/** Fetches, caches and renews a bearer token with the client credentials grant (the kit's token cache). */
export class DataverseTokenProvider extends OAuthTokenProvider {
  constructor(
    private readonly credentials: DataverseCredentials,
    options: TokenCacheOptions = {},
  ) {
    super('dynamics-sales', options);
  }

  protected requestToken(): Promise<TokenResponse> {
    const { tokenUrl, clientId, clientSecret, scope } = this.credentials;
    return this.postForm(tokenUrl, {
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
      scope,
    });
  }
}
