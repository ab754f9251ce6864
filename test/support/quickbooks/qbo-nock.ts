/**
 * nock for quickbooks.api.intuit.com with Intuit's schema in the loop: every request body the
 * connector sends and every canned answer is checked against the entity manifest (qbo-schema.ts).
 * Any violation fails `done()`.
 */
import nock from 'nock';
import { checkQboBody, checkQboEntity } from './qbo-schema';

/** QBO's API origin and the path below which a company's API lives. */
export const QBO_ORIGIN = 'https://quickbooks.api.intuit.com';
export const QBO_BASE_PATH = '/v3/company';

/** The entity a POST /<resource> writes. */
const ENTITY_OF: Readonly<Record<string, string>> = {
  customer: 'Customer',
  vendor: 'Vendor',
  account: 'Account',
  estimate: 'Estimate',
  purchaseorder: 'PurchaseOrder',
};

/** One request that reached an interceptor. */
export interface InterceptedRequest {
  method: string;
  /** Below the company (realm), with the query string. */
  path: string;
  query: URLSearchParams;
  body: unknown;
}

/** The violations of a request body: a batch envelope, or the bare entity of POST /<entity>. */
export function requestBodyViolations(method: string, path: string, body: unknown): string[] {
  if (method !== 'POST' || body === undefined) return [];
  const resource = path.split('?')[0]?.split('/').at(-1) ?? '';
  if (resource === 'batch') return checkQboBody(body, 'batch request');
  const entity = ENTITY_OF[resource];
  return entity === undefined ? [`POST ${path}: no entity is written there`] : checkQboEntity(entity, body);
}

/** A schema-checked nock scope for one QBO company. */
export interface QboNock {
  readonly violations: string[];
  readonly requests: InterceptedRequest[];
  /** Intercepts `method path` (below /v3/company/<realm>, any query) and answers with `status` and `body`. */
  intercept(method: string, path: string, times?: number): { reply(status: number, body?: unknown): QboNock };
  /** Asserts every interceptor was used and nothing broke the schema. */
  done(): void;
}

function parseBody(body: unknown): unknown {
  if (typeof body !== 'string' || body === '') return body === '' ? undefined : body;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

/** Creates a schema-checked scope for the company `realmId`. */
export function qboNock(realmId: string): QboNock {
  const scope = nock(QBO_ORIGIN);
  const below = `${QBO_BASE_PATH}/${realmId}`;
  const violations: string[] = [];
  const requests: InterceptedRequest[] = [];
  const self: QboNock = {
    violations,
    requests,
    intercept(method, path, times = 1) {
      return {
        reply(status, body) {
          scope
            .intercept(`${below}${path}`, method.toUpperCase())
            .query(true)
            .times(times)
            .reply(function (uri, requestBody) {
              const relative = uri.slice(below.length);
              const sent = {
                method: this.req.method,
                path: relative,
                query: new URL(uri, QBO_ORIGIN).searchParams,
                body: parseBody(requestBody),
              };
              requests.push(sent);
              violations.push(...requestBodyViolations(sent.method, relative, sent.body));
              if (body !== undefined) violations.push(...checkQboBody(body, `answer to ${sent.method} ${path}`));
              return [status, body === undefined ? '' : (body as nock.Body)];
            });
          return self;
        },
      };
    },
    done() {
      scope.done();
      if (violations.length > 0)
        throw new Error(`Requests or fixtures break Intuit's schema:\n- ${violations.join('\n- ')}`);
    },
  };
  return self;
}
