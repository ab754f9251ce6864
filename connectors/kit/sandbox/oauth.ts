/**
 * Bearer tokens and the OAuth2 token endpoint of the sandboxes: the client-credentials grant
 * (Business Central, through Microsoft identity) and the refresh-token grant with a refresh token
 * that rotates on every use (Xero). https://www.rfc-editor.org/rfc/rfc6749#section-5
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

/** The access tokens a sandbox accepts: the ones it issued and has not revoked, or one fixed token. */
export class BearerTokens {
  private readonly expiries = new Map<string, number>();

  /** `fixed`: the one token a private app is given (HubSpot), valid for ever. */
  constructor(private readonly fixed?: string) {}

  /** A new random token, valid for `ttlSeconds`. */
  issue(ttlSeconds: number): string {
    const token = randomBytes(24).toString('base64url');
    this.expiries.set(token, Date.now() + ttlSeconds * 1000);
    return token;
  }

  /** Whether an Authorization header carries a token that is valid now. */
  accepts(authorization: string | undefined): boolean {
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (token === undefined) return false;
    return token === this.fixed || (this.expiries.get(token) ?? 0) > Date.now();
  }

  /** Makes every issued token invalid, as if it had expired. */
  revoke(): void {
    this.expiries.clear();
  }
}

/** How a sandbox's token endpoint grants tokens. */
export interface TokenEndpointOptions {
  /** The endpoint's path; a tenant segment before it is accepted too (login.microsoftonline.com/<tenant>/...). */
  path: string;
  clientId: string;
  clientSecret: string;
  /** The one grant the provider offers tandem. */
  grant: 'client_credentials' | 'refresh_token';
  ttlSeconds: number;
  /** For the refresh-token grant: the refresh token the first refresh must present. */
  refreshToken?: string;
  /** Fields the provider adds to every token answer. */
  extra?: Record<string, unknown>;
  /** The provider's error_description per OAuth error. */
  descriptions?: Partial<Record<'invalid_client' | 'invalid_grant' | 'unsupported_grant_type', string>>;
}

const formSchema = z.record(z.string(), z.string()).catch({});

/**
 * Adds the token endpoint. The client authenticates with HTTP Basic or with client_id and
 * client_secret in the form; errors are the RFC's codes (invalid_client 401, the others 400).
 * Returns the refresh token the next refresh must present.
 */
export function addTokenEndpoint(
  app: FastifyInstance,
  tokens: BearerTokens,
  options: TokenEndpointOptions,
): { readonly refreshToken: string } {
  const state = { refreshToken: options.refreshToken ?? '' };
  const refuse = (error: keyof NonNullable<TokenEndpointOptions['descriptions']>) => {
    const description = options.descriptions?.[error];
    return { error, ...(description === undefined ? {} : { error_description: description }) };
  };
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const form = formSchema.parse(request.body);
    const basic = /^Basic (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const [clientId, clientSecret] =
      basic === undefined
        ? [form.client_id, form.client_secret]
        : Buffer.from(basic, 'base64').toString('utf8').split(/:(.*)/s);
    const send = (status: number, body: unknown) => reply.code(status).send(body);
    if (clientId !== options.clientId || clientSecret !== options.clientSecret)
      return send(401, refuse('invalid_client'));
    if (form.grant_type !== options.grant) return send(400, refuse('unsupported_grant_type'));
    if (options.grant === 'refresh_token' && form.refresh_token !== state.refreshToken)
      return send(400, refuse('invalid_grant'));
    const refresh =
      options.grant === 'refresh_token'
        ? { refresh_token: (state.refreshToken = randomBytes(16).toString('hex')) }
        : {};
    return send(200, {
      token_type: 'Bearer',
      expires_in: options.ttlSeconds,
      access_token: tokens.issue(options.ttlSeconds),
      ...refresh,
      ...options.extra,
    });
  };
  app.post(options.path, handler);
  app.post(`/:tenant${options.path}`, handler);
  return state;
}
