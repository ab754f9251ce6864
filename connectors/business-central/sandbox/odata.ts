/**
 * The OData conventions the sandbox answers in: BC's error body, weak etags, and the query options
 * of a collection read. `$filter` is a subset: comparisons (eq, ne, gt, ge, lt, le) of a property
 * with a literal and the text functions contains, startswith and endswith, joined by `and` / `or`,
 * with parentheses; enough for what clients of BC's API v2.0 send for change tracking, lookups and
 * searches.
 */
import type { SandboxAnswer } from '../../kit/sandbox/rate-limits';
import { SandboxRefusal } from '../../kit/sandbox/server';

export const ODATA_JSON = 'application/json; odata.metadata=minimal';

type Row = Record<string, unknown>;
type Comparable = string | number | boolean | null;

/** BC's error body, `{ error: { code, message } }`. */
export function odataError(status: number, code: string, message: string): SandboxAnswer {
  return { status, headers: { 'content-type': ODATA_JSON }, body: { error: { code, message } } };
}

/** A failure thrown below a route, answered with BC's error body. */
export const refusal = (status: number, code: string, message: string) =>
  new SandboxRefusal(odataError(status, code, message));
export const badRequest = (message: string) => refusal(400, 'BadRequest', message);
export const notFound = (message: string) => refusal(404, 'BadRequest_NotFound', message);

/** BC-style weak etag: W/"<base64 of 'version;...;'>", new on every write. */
export function etagOf(version: number, id: string): string {
  return `W/"${Buffer.from(`'${version};${id.replace(/-/g, '').slice(0, 12)};00;'`).toString('base64')}"`;
}

/** Does an If-Match header accept the current etag? `*` accepts any. */
export function ifMatchAccepts(header: string, etag: unknown): boolean {
  return header.split(',').some((part) => part.trim() === '*' || part.trim() === etag);
}

/** A `$filter` the sandbox cannot read; answered with 400 like BC. */
export class FilterSyntaxError extends SandboxRefusal {
  constructor(message: string) {
    super(odataError(400, 'BadRequest', `Invalid $filter: ${message}`));
  }
}

// One token per match: a parenthesis, 'quoted text' ('' is a quote), a bare word, or a stray quote.
const TOKENS = /\s*(?:([()])|'((?:[^']|'')*)'|([^\s()']+)|(.))/g;

const COMPARISONS = new Map<string, (a: Comparable, b: Comparable) => boolean>([
  ['eq', (a, b) => a === b],
  ['ne', (a, b) => a !== b],
  ['gt', (a, b) => a !== null && b !== null && a > b],
  ['ge', (a, b) => a !== null && b !== null && a >= b],
  ['lt', (a, b) => a !== null && b !== null && a < b],
  ['le', (a, b) => a !== null && b !== null && a <= b],
]);

/** A value as text, the way BC compares code and text fields. */
function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

/** A literal, and how a property's value is read to compare with it. */
function literal(token: RegExpMatchArray | undefined): [Comparable, (value: unknown) => Comparable] {
  const [, , quoted, word, stray] = token ?? [];
  // BC compares code and text fields without case; GUIDs likewise.
  const lower = (value: unknown) => text(value).toLowerCase();
  const scalar = (value: unknown) => (typeof value === 'number' || typeof value === 'boolean' ? value : null);
  if (stray !== undefined) throw new FilterSyntaxError('unterminated string literal');
  if (quoted !== undefined) return [quoted.replace(/''/g, "'").toLowerCase(), lower];
  if (word === undefined) throw new FilterSyntaxError('expected a value');
  if (word === 'null') return [null, (value) => (value === undefined || value === null ? null : 'set')];
  if (word === 'true' || word === 'false') return [word === 'true', scalar];
  if (/^\d{4}-\d{2}-\d{2}T/.test(word) && !Number.isNaN(Date.parse(word)))
    return [Date.parse(word), (value) => (typeof value === 'string' ? Date.parse(value) : NaN)];
  if (/^-?\d+(\.\d+)?$/.test(word)) return [Number(word), scalar];
  // GUIDs are written unquoted in OData; compare them as text.
  if (/^[0-9a-fA-F-]{36}$/.test(word)) return [word.toLowerCase(), lower];
  throw new FilterSyntaxError(`cannot read the value '${word}'`);
}

/** The text functions, as BC reads them: like its comparisons, without case. */
const TEXT_FUNCTIONS = new Map<string, (value: string, part: string) => boolean>([
  ['contains', (value, part) => value.includes(part)],
  ['startswith', (value, part) => value.startsWith(part)],
  ['endswith', (value, part) => value.endsWith(part)],
]);

/** Compiles a `$filter` expression; throws FilterSyntaxError for anything outside the subset. */
export function compileFilter(expression: string): (row: Row) => boolean {
  const tokens = [...expression.matchAll(TOKENS)];
  let at = 0;
  const word = () => tokens[at]?.[3]?.toLowerCase();
  const joined = (joiner: 'and' | 'or', parse: () => (row: Row) => boolean): ((row: Row) => boolean) => {
    const parts = [parse()];
    while (word() === joiner) {
      at++;
      parts.push(parse());
    }
    return joiner === 'or' ? (row) => parts.some((part) => part(row)) : (row) => parts.every((part) => part(row));
  };
  const comparison = (): ((row: Row) => boolean) => {
    const [, parenthesis, , property] = tokens[at++] ?? [];
    if (parenthesis === '(') {
      const inner = joined('or', () => joined('and', comparison));
      if (tokens[at++]?.[1] !== ')') throw new FilterSyntaxError('missing )');
      return inner;
    }
    if (property === undefined) throw new FilterSyntaxError('expected a property name');
    const textFunction = TEXT_FUNCTIONS.get(property.toLowerCase());
    if (textFunction && tokens[at]?.[1] === '(') return call(property.toLowerCase(), textFunction);
    const compare = COMPARISONS.get(word() ?? '');
    if (compare === undefined) throw new FilterSyntaxError(`expected an operator after '${property}'`);
    at++;
    const [value, read] = literal(tokens[at++]);
    return (row) => compare(read(row[property]), value);
  };
  // name(property, 'text'): the property may carry the comma, or the comma stand alone.
  const call = (name: string, test: (value: string, part: string) => boolean): ((row: Row) => boolean) => {
    at++;
    let property = tokens[at++]?.[3];
    if (property === ',' || property === undefined) throw new FilterSyntaxError(`${name} expects a property name`);
    if (property.endsWith(',')) property = property.slice(0, -1);
    else if (tokens[at++]?.[3] !== ',') throw new FilterSyntaxError(`${name} expects a comma after '${property}'`);
    const [, , quoted, , stray] = tokens[at++] ?? [];
    if (stray !== undefined) throw new FilterSyntaxError('unterminated string literal');
    if (quoted === undefined) throw new FilterSyntaxError(`${name} compares text: quote its second argument`);
    if (tokens[at++]?.[1] !== ')') throw new FilterSyntaxError(`missing ) after ${name}`);
    const part = quoted.replace(/''/g, "'").toLowerCase();
    const read = property;
    return (row) => test(text(row[read]).toLowerCase(), part);
  };
  const predicate = joined('or', () => joined('and', comparison));
  if (at !== tokens.length) throw new FilterSyntaxError('unexpected text at the end of $filter');
  return predicate;
}

/** Sorts rows by an `$orderby` clause such as `lastModifiedDateTime asc, number desc`. */
export function compileOrderBy(expression: string): (a: Row, b: Row) => number {
  const keys = expression.split(',').map((part) => {
    const [property = '', direction = 'asc'] = part.trim().split(/\s+/);
    if (property === '' || !/^(asc|desc)$/i.test(direction)) throw badRequest(`Invalid $orderby '${expression}'.`);
    return { property, sign: direction.toLowerCase() === 'desc' ? -1 : 1 };
  });
  const key = (value: unknown) => (typeof value === 'number' ? value : text(value));
  return (a, b) => {
    for (const { property, sign } of keys) {
      const [x, y] = [key(a[property]), key(b[property])];
      if (x !== y) return x < y ? -sign : sign;
    }
    return 0;
  };
}

/** The rows a collection read pages through: `$filter`, then `$orderby`. */
export function selectRows(rows: Row[], query: URLSearchParams): Row[] {
  const filter = query.get('$filter');
  const orderBy = query.get('$orderby');
  const filtered = filter === null ? rows : rows.filter(compileFilter(filter));
  return orderBy === null ? filtered : [...filtered].sort(compileOrderBy(orderBy));
}

/**
 * A collection read: `$filter` and `$orderby` (see selectRows, or the rows they gave), then the `$skip` / `$top` window, `pageSize` rows at
 * a time with an `@odata.nextLink` that carries `$skiptoken`. `api` is the API base, `path` below it.
 */
export function readCollection(
  rows: Row[] | (() => Row[]),
  query: URLSearchParams,
  api: string,
  path: string,
  pageSize: number,
) {
  const ordered = typeof rows === 'function' ? rows() : selectRows(rows, query);
  const count = (name: string, fallback: number) => {
    const value = Number(query.get(name) ?? fallback);
    if (!Number.isInteger(value) || value < 0) throw badRequest(`Invalid ${name}.`);
    return value;
  };
  const skip = count('$skip', 0);
  const window = ordered.slice(skip, skip + count('$top', ordered.length));
  const offset = count('$skiptoken', 0);
  const next = new URLSearchParams(query);
  next.set('$skiptoken', String(offset + pageSize));
  const nextLink = `${api}/${path}?${next.toString().replace(/\+/g, '%20')}`;
  return {
    '@odata.context': `${api}/$metadata#${path}`,
    value: window.slice(offset, offset + pageSize),
    ...(offset + pageSize < window.length ? { '@odata.nextLink': nextLink } : {}),
  };
}
