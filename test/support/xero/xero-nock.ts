/**
 * nock for api.xero.com with the OpenAPI document in the loop: every intercepted request is checked
 * against xero_accounting.yaml (the connector sent what Xero documents) and every canned answer is
 * checked too (the fixture is something Xero could send). Any violation fails `done()`.
 */
import nock from 'nock';
import { ACCOUNTING_BASE_PATH, accountingValidator } from './openapi-validator';

/** Xero's API origin. */
export const XERO_ORIGIN = 'https://api.xero.com';

/** One request that reached an interceptor. */
export interface InterceptedRequest {
  method: string;
  /** Below the API base, with the query string. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** What an interceptor matches on besides method and path. */
export interface InterceptOptions {
  /** nock's query matcher; `true` accepts any query. Without it, only a request with no query matches. */
  query?: Record<string, string | number | boolean> | true;
  /** Headers the request must carry (exact value or pattern). */
  headers?: Record<string, string | RegExp>;
  /** nock's request body matcher. */
  body?: nock.RequestBodyMatcher;
  times?: number;
  /** Holds the answer back this long. */
  delayMs?: number;
}

/** A spec-checked nock scope for Xero's Accounting API. */
export interface XeroNock {
  readonly scope: nock.Scope;
  /** Spec violations of requests and canned answers, in order. */
  readonly violations: string[];
  /** Every request that reached an interceptor. */
  readonly requests: InterceptedRequest[];
  /** Intercepts `method path` (path below /api.xro/2.0) and answers with `status`, `body`, `headers`. */
  intercept(
    method: string,
    path: string,
    options?: InterceptOptions,
  ): { reply(status: number, body?: unknown, headers?: Record<string, string>): XeroNock };
  /** Asserts every interceptor was used and nothing broke the document. */
  done(): void;
}

function parseBody(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  if (body === '') return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

/** Creates a spec-checked scope. */
export function xeroNock(): XeroNock {
  const validator = accountingValidator();
  const scope = nock(XERO_ORIGIN);
  const violations: string[] = [];
  const requests: InterceptedRequest[] = [];

  const self: XeroNock = {
    scope,
    violations,
    requests,
    intercept(method, path, options = {}) {
      return {
        reply(status, body, headers = {}) {
          let interceptor = scope.intercept(`${ACCOUNTING_BASE_PATH}${path}`, method.toUpperCase(), options.body);
          if (options.query !== undefined) interceptor = interceptor.query(options.query);
          for (const [name, value] of Object.entries(options.headers ?? {}))
            interceptor = interceptor.matchHeader(name, value);
          if (options.times !== undefined) interceptor = interceptor.times(options.times);
          if (options.delayMs !== undefined) interceptor = interceptor.delay(options.delayMs);
          interceptor.reply(function (uri, requestBody) {
            const relative = uri.startsWith(ACCOUNTING_BASE_PATH) ? uri.slice(ACCOUNTING_BASE_PATH.length) : uri;
            const sent: InterceptedRequest = {
              method: this.req.method,
              path: relative,
              headers: { ...this.req.headers },
              body: parseBody(requestBody),
            };
            requests.push(sent);
            violations.push(...validator.validateRequest(sent));
            violations.push(...validator.validateResponse({ method: sent.method, path: relative, status, body }));
            return [status, body === undefined ? '' : (body as nock.Body), headers];
          });
          return self;
        },
      };
    },
    done() {
      scope.done();
      if (violations.length > 0)
        throw new Error(`Requests or fixtures break xero_accounting.yaml:\n- ${violations.join('\n- ')}`);
    },
  };
  return self;
}
