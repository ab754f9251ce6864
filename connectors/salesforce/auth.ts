/**
 * The OAuth 2.0 client credentials flow of a connected app against the org's My Domain. Salesforce
 * answers without `expires_in` (an access token lives as long as the org's session timeout), so
 * the token is renewed after SESSION_MS, and at once when the API answers 401.
 * https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_client_credentials_flow.htm
 */
import axios, { type AxiosInstance } from 'axios';
import { z } from 'zod';
import { AuthFailedError, InvalidResponseError, TransientError } from '../kit/errors';
import { OAuthTokenProvider, type TokenResponse } from '../kit/oauth';

/** Renew before the shortest session timeout an org can set (15 minutes). */
export const SESSION_MS = 15 * 60_000;

const tokenSchema = z.looseObject({ access_token: z.string().min(1), instance_url: z.string().optional() });
const tokenErrorSchema = z.object({ error: z.string(), error_description: z.string().optional() });

/** A bearer token for the connected app, shared by the connector's calls. */
export class ClientCredentials extends OAuthTokenProvider {
  private readonly client: AxiosInstance = axios.create({ timeout: 30_000, validateStatus: () => true });

  constructor(
    private readonly slot: string,
    private readonly tokenUrl: string,
    private readonly clientId: string,
    private readonly clientSecret: string,
    now?: () => number,
  ) {
    super(slot, { now });
  }

  protected async requestToken(): Promise<TokenResponse> {
    const form = { grant_type: 'client_credentials', client_id: this.clientId, client_secret: this.clientSecret };
    let response;
    try {
      response = await this.client.post<unknown>(this.tokenUrl, new URLSearchParams(form).toString(), {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      });
    } catch (error) {
      throw new TransientError(
        `${this.slot}: token endpoint unreachable: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (response.status >= 500)
      throw new TransientError(`${this.slot}: token endpoint answered ${response.status}`, response.status);
    if (response.status !== 200) {
      const failure = tokenErrorSchema.safeParse(response.data);
      const reason = failure.success
        ? (failure.data.error_description ?? failure.data.error)
        : `HTTP ${response.status}`;
      throw new AuthFailedError(`${this.slot}: token request refused: ${reason}`, response.status);
    }
    const parsed = tokenSchema.safeParse(response.data);
    if (!parsed.success)
      throw new InvalidResponseError(`${this.slot}: unexpected token response: ${z.prettifyError(parsed.error)}`);
    return { access_token: parsed.data.access_token, token_type: 'Bearer', expires_in: SESSION_MS / 1000 };
  }
}
