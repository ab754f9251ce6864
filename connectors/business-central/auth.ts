/**
 * OAuth 2.0 client credentials for Business Central (Microsoft Entra ID service-to-service).
 * https://learn.microsoft.com/dynamics365/business-central/dev-itpro/administration/automation-apis-using-s2s-authentication
 */
import type { z } from 'zod';
import { OAuthTokenProvider, type TokenCacheOptions, type TokenResponse } from '../kit/oauth';
import type { businessCentralConfig } from './config';

/** The scope that grants access to every Business Central API of the tenant. */
export const DEFAULT_SCOPE = 'https://api.businesscentral.dynamics.com/.default';

/** Where and how to ask for a token, as the config holds it. */
type ClientCredentials = Omit<z.output<typeof businessCentralConfig>['credentials'], 'webhookClientState'>;

/**
 * Fetches, caches and renews a bearer token with the client credentials grant (the kit's token
 * cache: renewed before it runs out, one request shared by concurrent callers).
 */
export class ClientCredentialsTokenProvider extends OAuthTokenProvider {
  constructor(
    private readonly credentials: ClientCredentials,
    options: TokenCacheOptions = {},
  ) {
    super('business-central', options);
  }

  protected requestToken(): Promise<TokenResponse> {
    const { tokenUrl, clientId, clientSecret, scope = DEFAULT_SCOPE } = this.credentials;
    return this.postForm(tokenUrl, {
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
      scope,
    });
  }
}
