/** The Business Central tenant the nock tests talk to, and a connector pointed at it. */
import nock from 'nock';
import type { RetryPolicy } from '../../../connectors/kit/http';
import type { Connector } from '../../../connectors/kit/types';
import { businessCentral } from '../../../connectors/business-central';
import { watchedByManifest } from './manifest';

export const HOST = 'https://api.businesscentral.dynamics.com';
export const API = '/v2.0/contoso/production/api/v2.0';
export const LOGIN = 'https://login.microsoftonline.com';
export const TOKEN_PATH = '/contoso/oauth2/v2.0/token';
export const COMPANY = 'f64eba74-dacd-4854-a584-1834f68cfc3a';

/** The accounting connector for the test tenant, with retries that do not wait. */
export function tenantConnector(retry: Partial<RetryPolicy> = {}): Connector {
  return businessCentral.create(
    {
      baseUrl: `${HOST}${API}`,
      companyId: COMPANY,
      credentials: { tokenUrl: `${LOGIN}${TOKEN_PATH}`, clientId: 'app', clientSecret: 'secret' },
    },
    { name: 'accounting', retry: { baseDelayMs: 1, ...retry } },
  );
}

/** One token request answered with `accessToken`. */
export function tokenOnce(accessToken = 'bc-token'): nock.Scope {
  return nock(LOGIN).post(TOKEN_PATH).reply(200, { expires_in: 3599, access_token: accessToken });
}

/**
 * nock for the tenant's API with the APIV2 manifest in the loop: every POST and PATCH body the
 * connector sends (those inside a `$batch` too) and every canned record answer is checked
 * (manifest.ts), and the violations are pushed to `into`.
 */
export function tenantApi(into: string[], options?: nock.Options): nock.Scope {
  return watchedByManifest(nock(HOST, options), into);
}
