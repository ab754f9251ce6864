/**
 * HubSpot's own models as the judge of what tandem sends and what its fixtures answer: the
 * `@hubspot/api-client` package is generated from HubSpot's OpenAPI documents, and each model
 * class carries its JSON properties and their types (`attributeTypeMap`). `exchangeViolations`
 * checks one request and its answer by route: a property a model does not have, a wrong nesting,
 * a wrong type or an operator outside the enum is a violation.
 *
 * One documented difference is allowed: the generated search request types `sorts` as strings,
 * while HubSpot's search guide sends objects (`{ "propertyName": ..., "direction": "DESCENDING" }`,
 * https://developers.hubspot.com/docs/api/crm/search#sorting), which tandem uses.
 */
import { watchExchanges, type WatchedScope } from '../nock-exchanges';
import * as companies from '@hubspot/api-client/lib/codegen/crm/companies/models/all';
import * as properties from '@hubspot/api-client/lib/codegen/crm/properties/models/all';

type Attribute = { name: string; baseName: string; type: string; format: string };
type ModelClass = { getAttributeTypeMap(): Attribute[] };

const isModel = (value: unknown): value is ModelClass =>
  typeof value === 'function' && typeof (value as Partial<ModelClass>).getAttributeTypeMap === 'function';
const isEnum = (value: unknown): value is Record<string, string> =>
  typeof value === 'object' && value !== null && Object.values(value).every((entry) => typeof entry === 'string');

/** Every model and enum of the two generated APIs tandem calls (companies and contacts share their models). */
function catalogue(): { models: Map<string, Attribute[]>; enums: Map<string, Set<string>> } {
  const models = new Map<string, Attribute[]>();
  const enums = new Map<string, Set<string>>();
  for (const module of [companies, properties] as Record<string, unknown>[]) {
    for (const [name, value] of Object.entries(module)) {
      if (isModel(value)) models.set(name, value.getAttributeTypeMap());
      else if (name.endsWith('Enum') && isEnum(value)) enums.set(name, new Set(Object.values(value)));
    }
  }
  return { models, enums };
}

const { models, enums } = catalogue();

/** The search guide's sort object (see above). */
const SORT_OBJECT = new Set(['propertyName', 'direction']);

/** Violations of `value` against a type of the generated client (`Array<X>`, `{ [key: string]: X; }`, a model, an enum, a scalar). */
export function typeViolations(type: string, value: unknown, path: string): string[] {
  const trimmed = type.trim();
  if (value === null) return trimmed.split('|').some((part) => part.trim() === 'null') ? [] : [`${path}: null`];
  const union = splitTop(trimmed, '|');
  if (union.length > 1) {
    const each = union.map((part) => typeViolations(part, value, path));
    return each.some((found) => found.length === 0) ? [] : (each[0] ?? []);
  }
  const array = /^Array<(.+)>$/.exec(trimmed);
  if (array) {
    if (!Array.isArray(value)) return [`${path}: expected an array`];
    return value.flatMap((item, index) => typeViolations(array[1] as string, item, `${path}[${index}]`));
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(trimmed);
  if (map) {
    if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected an object`];
    return Object.entries(value as Record<string, unknown>).flatMap(([key, item]) =>
      typeViolations(map[1] as string, item, `${path}.${key}`),
    );
  }
  switch (trimmed) {
    case 'any':
      return [];
    case 'null':
      return [`${path}: expected null`];
    case 'string':
      return typeof value === 'string' ? [] : [`${path}: expected a string, got ${typeof value}`];
    case 'number':
      return typeof value === 'number' ? [] : [`${path}: expected a number, got ${typeof value}`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${path}: expected a boolean, got ${typeof value}`];
    case 'Date':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? [] : [`${path}: expected a date-time`];
  }
  const allowed = enums.get(trimmed);
  if (allowed)
    return typeof value === 'string' && allowed.has(value)
      ? []
      : [`${path}: ${JSON.stringify(value)} is not one of ${trimmed}`];
  return modelViolations(trimmed, value, path);
}

/** Violations of `value` against the model `name`: unknown properties and wrong types. */
export function modelViolations(name: string, value: unknown, path = name): string[] {
  const attributes = models.get(name);
  if (!attributes) throw new Error(`no model ${name} in @hubspot/api-client`);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [`${path}: expected a ${name} object`];
  const byName = new Map(attributes.map((attribute) => [attribute.baseName, attribute]));
  return Object.entries(value as Record<string, unknown>).flatMap(([key, item]) => {
    const attribute = byName.get(key);
    if (!attribute) return [`${path}.${key}: not a property of ${name}`];
    if (name === 'PublicObjectSearchRequest' && key === 'sorts') return sortViolations(item, `${path}.sorts`);
    return item === undefined ? [] : typeViolations(attribute.type, item, `${path}.${key}`);
  });
}

function sortViolations(sorts: unknown, path: string): string[] {
  if (!Array.isArray(sorts)) return [`${path}: expected an array`];
  return sorts.flatMap((sort, index) => {
    if (typeof sort === 'string') return [];
    if (typeof sort !== 'object' || sort === null) return [`${path}[${index}]: expected a string or a sort object`];
    const unknown = Object.keys(sort).filter((key) => !SORT_OBJECT.has(key));
    const direction = (sort as { direction?: unknown }).direction;
    return [
      ...unknown.map((key) => `${path}[${index}].${key}: not a property of a sort`),
      ...(direction === undefined || direction === 'ASCENDING' || direction === 'DESCENDING'
        ? []
        : [`${path}[${index}].direction: ${JSON.stringify(direction)} is not ASCENDING or DESCENDING`]),
    ];
  });
}

/** Splits at `separator` outside angle brackets and braces. */
function splitTop(type: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let at = 0; at < type.length; at++) {
    const char = type[at];
    if (char === '<' || char === '{') depth++;
    else if (char === '>' || char === '}') depth--;
    else if (char === separator && depth === 0) {
      parts.push(type.slice(start, at));
      start = at + 1;
    }
  }
  parts.push(type.slice(start));
  return parts.map((part) => part.trim()).filter(Boolean);
}

/** The models of a route: what the request body is, and what a 2xx answer is. */
interface RouteModels {
  request?: string;
  response?: string | ((status: number) => string);
}

const OBJECTS = '/crm/v3/objects/(?:companies|contacts)';
const batchAnswer = (status: number) =>
  status === 207 ? 'BatchResponseSimplePublicObjectWithErrors' : 'BatchResponseSimplePublicObject';
const ROUTES: [string, RegExp, RouteModels][] = [
  [
    'POST',
    new RegExp(`^${OBJECTS}/search$`),
    {
      request: 'PublicObjectSearchRequest',
      response: 'CollectionResponseWithTotalSimplePublicObjectForwardPaging',
    },
  ],
  [
    'POST',
    new RegExp(`^${OBJECTS}/batch/read$`),
    { request: 'BatchReadInputSimplePublicObjectId', response: batchAnswer },
  ],
  [
    'POST',
    new RegExp(`^${OBJECTS}/batch/update$`),
    {
      request: 'BatchInputSimplePublicObjectBatchInput',
      response: batchAnswer,
    },
  ],
  ['POST', new RegExp(`^${OBJECTS}$`), { request: 'SimplePublicObjectInputForCreate', response: 'SimplePublicObject' }],
  ['PATCH', new RegExp(`^${OBJECTS}/[^/]+$`), { request: 'SimplePublicObjectInput', response: 'SimplePublicObject' }],
  ['GET', new RegExp(`^${OBJECTS}/[^/]+$`), { response: 'SimplePublicObjectWithAssociations' }],
  [
    'GET',
    new RegExp(`^${OBJECTS}$`),
    { response: 'CollectionResponseSimplePublicObjectWithAssociationsForwardPaging' },
  ],
  ['GET', /^\/crm\/v3\/properties\/(?:companies|contacts)$/, { response: 'CollectionResponsePropertyNoPaging' }],
];

/** The routes tandem calls, by method and path (without the query). */
export function routeModels(method: string, path: string): RouteModels | null {
  const bare = path.split('?')[0] ?? path;
  const found = ROUTES.find(([verb, pattern]) => verb === method.toUpperCase() && pattern.test(bare));
  return found ? found[2] : null;
}

/**
 * Violations of one exchange: the request body against the route's request model, a 2xx answer
 * against its answer model. Error answers are not checked: HubSpot's own 429 body carries
 * properties (`policyName`, `errorType`) its generated Error model lacks. A route tandem does not
 * call is itself a violation.
 */
export function exchangeViolations(exchange: {
  method: string;
  path: string;
  requestBody?: unknown;
  status: number;
  responseBody?: unknown;
}): string[] {
  const { method, path, requestBody, status, responseBody } = exchange;
  const route = routeModels(method, path);
  const where = `${method.toUpperCase()} ${path.split('?')[0]}`;
  if (!route) return [`${where}: not a route the models cover`];
  const request =
    route.request && requestBody !== undefined && requestBody !== '' ? modelViolations(route.request, requestBody) : [];
  const answerModel = typeof route.response === 'function' ? route.response(status) : route.response;
  const answer =
    status >= 200 && status < 300 && answerModel && responseBody !== undefined && responseBody !== ''
      ? modelViolations(answerModel, responseBody)
      : [];
  return [...request, ...answer].map((violation) => `${where}: ${violation}`);
}

/**
 * Holds every exchange of a nock scope to the models: what the connector sent and the canned
 * answer it got; violations are pushed to `into`. Returns the scope.
 */
export function watchedByModels<S extends WatchedScope>(scope: S, into: string[]): S {
  return watchExchanges(scope, into, exchangeViolations);
}
