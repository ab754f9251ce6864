/**
 * Business Central's API v2.0 entities as the judge of what tandem sends and what its sandbox
 * answers: the manifest in ./spec, derived from the AL pages of Microsoft's APIV2 extension
 * (microsoft/BCApps, MIT; see spec/README.md). A write body may name only the entity's editable
 * fields (an `insertOnly` one on POST only), and only on an entity whose page allows the write;
 * a record answered by a GET carries exactly the entity's fields, plus `@odata.etag` (parts only
 * with `$expand`). `companies` is not an AL page: its documented property names (Microsoft Learn)
 * are all there is, and it is read-only. `subscriptions` is neither, so it is not judged here.
 */
import { watchExchanges, type WatchedScope } from '../nock-exchanges';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';

/** The vendored manifest: Microsoft-derived JSON byte for byte, gzipped (sha256 in ./spec/SOURCE.md). */
export const APIV2_MANIFEST_FILE = join(__dirname, 'spec', 'apiv2-entities.json.gz');

const fieldSchema = z.object({
  name: z.string(),
  type: z.string(),
  edmType: z.string(),
  caption: z.string(),
  editable: z.boolean(),
  insertOnly: z.boolean().optional(),
  maxLength: z.number().optional(),
  enumMembers: z.array(z.string()).optional(),
});
const entitySchema = z.object({
  entitySetName: z.string(),
  insertAllowed: z.boolean(),
  modifyAllowed: z.boolean(),
  deleteAllowed: z.boolean(),
  fields: z.array(fieldSchema),
  parts: z.array(z.object({ name: z.string(), entitySetName: z.string() })),
});
const manifestSchema = z.object({
  entities: z.record(z.string(), entitySchema),
  notInSource: z.object({
    companies: z.object({ documentedProperties: z.array(z.string()), documentedMethods: z.array(z.string()) }),
  }),
});
/** One field of an entity, as the manifest has it. */
export type ManifestField = z.infer<typeof fieldSchema>;
/** One entity set, as the manifest has it. */
export type ManifestEntity = z.infer<typeof entitySchema>;

let loaded: z.infer<typeof manifestSchema> | undefined;
/** The manifest, read once per process. */
export function apiv2Manifest(): z.infer<typeof manifestSchema> {
  loaded ??= manifestSchema.parse(JSON.parse(gunzipSync(readFileSync(APIV2_MANIFEST_FILE)).toString('utf8')));
  return loaded;
}

/** An entity set of the manifest; throws for one it does not describe. */
export function manifestEntity(entitySet: string): ManifestEntity {
  const entity = apiv2Manifest().entities[entitySet];
  if (entity === undefined) throw new Error(`business-central manifest: no entity set '${entitySet}'`);
  return entity;
}

/**
 * Entity sets the connector or the sandbox use that no APIV2 AL page defines, and why they are not
 * held to the manifest. `companies` is checked against its documented property names instead.
 */
export const UNJUDGED_ENTITY_SETS: Readonly<Record<string, string>> = {
  subscriptions:
    'webhook subscriptions are a platform endpoint, not an APIV2 page: the manifest says nothing of their properties',
};

/** OData instance annotations (`@odata.etag`, ...) are not properties; a body may carry them. */
const isAnnotation = (key: string) => key.startsWith('@');

/**
 * Why a POST or PATCH of `body` to `entitySet` would be refused, per the manifest: the page does
 * not allow the write, a property is not on the entity (a part is a deep insert, which tandem
 * never sends), is not editable, or is insert-only on a PATCH. Empty when BC's page takes it.
 */
export function bodyViolations(entitySet: string, method: 'POST' | 'PATCH', body: unknown): string[] {
  const where = `${method} ${entitySet}`;
  if (entitySet === 'companies') return [`${where}: companies are read-only (documented: GET only)`];
  const entity = manifestEntity(entitySet);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return [`${where}: the body is not an object`];
  const refused =
    method === 'POST' && !entity.insertAllowed
      ? [`${where}: the page does not allow inserts`]
      : method === 'PATCH' && !entity.modifyAllowed
        ? [`${where}: the page does not allow modifications`]
        : [];
  const fields = new Map(entity.fields.map((field) => [field.name, field]));
  const parts = new Set(entity.parts.map((part) => part.name));
  return [
    ...refused,
    ...Object.keys(body).flatMap((key) => {
      if (isAnnotation(key)) return [];
      const field = fields.get(key);
      if (field === undefined)
        return [
          parts.has(key)
            ? `${where}: '${key}' is a part (a deep insert), not a field`
            : `${where}: '${key}' is not a property of ${entitySet}`,
        ];
      if (!field.editable) return [`${where}: '${key}' is not editable`];
      if (method === 'PATCH' && field.insertOnly === true) return [`${where}: '${key}' may only be set on insert`];
      return [];
    }),
  ];
}

/**
 * Why `record`, answered for `entitySet`, is not what BC's GET answers: a property the entity does
 * not have, or one of its fields missing. `@odata.etag` may be there; a part only when `expand`
 * names it. With `exact: false` (canned answers that name only what a test needs) missing fields
 * are allowed.
 */
export function getViolations(
  entitySet: string,
  record: unknown,
  options: { expand?: readonly string[]; exact?: boolean } = {},
): string[] {
  const where = `GET ${entitySet}`;
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return [`${where}: not a record`];
  const expected =
    entitySet === 'companies'
      ? apiv2Manifest().notInSource.companies.documentedProperties
      : manifestEntity(entitySet).fields.map((field) => field.name);
  const parts = new Set(entitySet === 'companies' ? [] : manifestEntity(entitySet).parts.map((part) => part.name));
  const expanded = new Set(options.expand ?? []);
  const allowed = new Set([...expected, '@odata.etag', ...[...parts].filter((part) => expanded.has(part))]);
  const keys = Object.keys(record);
  const missing = options.exact === false ? [] : expected.filter((name) => !keys.includes(name));
  return [
    ...keys
      .filter((key) => !allowed.has(key))
      .map((key) =>
        parts.has(key)
          ? `${where}: part '${key}' without $expand`
          : `${where}: '${key}' is not a property of ${entitySet}`,
      ),
    ...missing.map((name) => `${where}: '${name}' is missing`),
  ];
}

/** Where a request below the API goes: the entity set its last segment names, and whether it names one record. */
export function entitySetOf(path: string): { entitySet: string; single: boolean } | null {
  const bare = decodeURIComponent(path.split('?')[0] ?? '').replace(/^.*\/api\/v2\.0\//, '');
  const last = /(?:^|\/)([A-Za-z]+)(\([^)]*\))?$/.exec(bare);
  return last === null ? null : { entitySet: last[1] ?? '', single: last[2] !== undefined };
}

/** The `$expand` of a query string, as names. */
function expandOf(path: string): string[] {
  const query = new URLSearchParams(path.split('?')[1] ?? '');
  return (query.get('$expand') ?? '').split(',').flatMap((name) => (name.trim() === '' ? [] : [name.trim()]));
}

/** One HTTP exchange with BC's API, as a request log or nock sees it. */
export interface BcExchange {
  method: string;
  /** Below the API base or the whole path, with the query. */
  path: string;
  requestBody?: unknown;
  status: number;
  responseBody?: unknown;
}

/** The requests inside a JSON `$batch` body, and the answers inside its response. */
const batchRequests = z.object({
  requests: z.array(z.object({ id: z.string(), method: z.string(), url: z.string(), body: z.unknown().optional() })),
});
const batchResponses = z.object({
  responses: z.array(z.object({ id: z.string(), status: z.number(), body: z.unknown().optional() })),
});

/**
 * Violations of one exchange: its write body (and every write inside a `$batch`) by bodyViolations,
 * and every record a 2xx answer carries (a record, a page's `value`, a `$batch` item's body) by
 * getViolations, exact unless `exact: false`. Token calls and the unjudged entity sets are skipped.
 */
export function exchangeViolations(
  exchange: BcExchange,
  options: {
    exact?: boolean;
    /** Judge a body only where it was accepted (2xx): for tests that send refused bodies on purpose. */
    acceptedBodiesOnly?: boolean;
  } = {},
): string[] {
  const { method, path, requestBody, status, responseBody } = exchange;
  if (path === 'token') return [];
  if (path.split('?')[0]?.endsWith('$batch')) {
    const inner = batchRequests.safeParse(requestBody);
    if (!inner.success) return [`POST $batch: not a JSON batch body`];
    const answers = new Map(
      (batchResponses.safeParse(responseBody).data?.responses ?? []).map((answer) => [answer.id, answer]),
    );
    return inner.data.requests.flatMap((request) => {
      const answer = answers.get(request.id);
      return exchangeViolations(
        {
          method: request.method,
          path: request.url,
          requestBody: request.body,
          status: answer?.status ?? 0,
          responseBody: answer?.body,
        },
        options,
      ).map((violation) => `$batch ${request.id}: ${violation}`);
    });
  }
  const target = entitySetOf(path);
  if (target === null) return [`${method} ${path}: no entity set`];
  if (UNJUDGED_ENTITY_SETS[target.entitySet] !== undefined) return [];
  if (target.entitySet !== 'companies' && apiv2Manifest().entities[target.entitySet] === undefined)
    return [`${method} ${path}: '${target.entitySet}' is not an entity set of the manifest`];
  const verb = method.toUpperCase();
  const accepted = status >= 200 && status < 300;
  const sent =
    (verb === 'POST' || verb === 'PATCH') && requestBody !== undefined && (accepted || !options.acceptedBodiesOnly)
      ? bodyViolations(target.entitySet, verb, requestBody).map((violation) =>
          accepted ? violation : `${violation} (answered ${status})`,
        )
      : [];
  const answered =
    accepted && typeof responseBody === 'object' && responseBody !== null
      ? recordsOf(responseBody, target.single).flatMap((record) =>
          getViolations(target.entitySet, record, { expand: expandOf(path), exact: options.exact }),
        )
      : [];
  return [...sent, ...answered];
}

/** The records of an answer: the answer itself for one record, its `value` for a collection. */
function recordsOf(body: object, single: boolean): unknown[] {
  if (single) return [body];
  const value = (body as { value?: unknown }).value;
  return Array.isArray(value) ? value : [body];
}

/**
 * Holds every exchange of a nock scope to the manifest: each body the connector sends exactly, each
 * canned record answer for unknown properties only (fixtures name what a test needs). Violations
 * are pushed to `into`. Returns the scope.
 */
export function watchedByManifest<S extends WatchedScope>(scope: S, into: string[]): S {
  return watchExchanges(scope, into, (exchange) => exchangeViolations(exchange, { exact: false }));
}

/** The parts of a sandbox's request log this needs. */
interface LoggedExchange extends BcExchange {
  query?: string;
}

/**
 * Violations of a sandbox's request log: every body it was sent (with `acceptedBodiesOnly`, every
 * body it accepted) and every record it answered, exactly.
 */
export function requestLogViolations(
  requests: readonly LoggedExchange[],
  options: { acceptedBodiesOnly?: boolean } = {},
): string[] {
  return requests.flatMap((entry) =>
    exchangeViolations({ ...entry, path: `${entry.path}${entry.query ?? ''}` }, options).map(
      (violation) => `${entry.method} ${entry.path}: ${violation}`,
    ),
  );
}
