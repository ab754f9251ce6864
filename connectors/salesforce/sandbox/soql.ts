/**
 * The subset of SOQL the connector sends, parsed and run over the sandbox's records as Salesforce
 * runs it: SELECT fields FROM object [WHERE ...] [ORDER BY ...] [LIMIT n], with =, !=, <, <=, >,
 * >=, LIKE and IN, AND / OR / NOT and parentheses; string comparisons ignore case. String literals
 * take Salesforce's escape sequences, and LIKE's \% and \_ match those characters themselves.
 * https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_quotedstringescapes.htm
 */

/** A value as a query compares it. */
type Value = string | number | boolean | null;

/** A literal of the query: a string (its raw text between the quotes, escapes kept), a date and time, or another value. */
type Literal = { kind: 'string'; raw: string } | { kind: 'datetime'; millis: number } | { kind: 'value'; value: Value };

type Condition =
  | { kind: 'compare'; field: string; operator: '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE'; literal: Literal }
  | { kind: 'in'; field: string; negated: boolean; literals: Literal[] }
  | { kind: 'and' | 'or'; left: Condition; right: Condition }
  | { kind: 'not'; inner: Condition };

/** A parsed query. */
export interface SoqlQuery {
  fields: string[];
  object: string;
  where?: Condition;
  orderBy: { field: string; descending: boolean }[];
  limit?: number;
}

/** A query Salesforce would refuse: MALFORMED_QUERY, INVALID_FIELD or INVALID_TYPE, with its message. */
export class SoqlError extends Error {
  constructor(
    readonly errorCode: 'MALFORMED_QUERY' | 'INVALID_FIELD' | 'INVALID_TYPE',
    message: string,
  ) {
    super(message);
  }
}

const TOKEN =
  /\s*(?:'((?:[^'\\]|\\.)*)'|(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2}))|(-?\d+(?:\.\d+)?)(?![\w-])|([A-Za-z_][\w.]*)|(!=|<=|>=|[=<>(),]))/y;

type Token = { string?: string; datetime?: string; number?: string; word?: string; symbol?: string };

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let position = 0;
  while (query.slice(position).trim() !== '') {
    TOKEN.lastIndex = position;
    const match = TOKEN.exec(query);
    if (match === null)
      throw new SoqlError('MALFORMED_QUERY', `unexpected token: '${query.slice(position).trim().slice(0, 20)}'`);
    const [, string, datetime, number, word, symbol] = match;
    tokens.push({ string, datetime, number, word, symbol });
    position = TOKEN.lastIndex;
  }
  return tokens;
}

/** The escape sequences SOQL accepts in a string literal, and what they stand for outside LIKE. */
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '"': '"', "'": "'", '\\': '\\' };

/** Walks a literal's raw text: each character, and whether it came escaped. Unknown escapes are refused, as Salesforce does. */
function* characters(raw: string, like: boolean): Generator<{ char: string; escaped: boolean }> {
  for (let index = 0; index < raw.length; index++) {
    const char = raw[index] as string;
    if (char !== '\\') {
      yield { char, escaped: false };
      continue;
    }
    const next = raw[++index] ?? '';
    if (like && (next === '%' || next === '_')) yield { char: next, escaped: true };
    else if (next in ESCAPES) yield { char: ESCAPES[next] as string, escaped: true };
    else
      throw new SoqlError('MALFORMED_QUERY', `Invalid string literal '${raw}'. Illegal character sequence '\\${next}'`);
  }
}

function stringOf(raw: string): string {
  return [...characters(raw, false)].map(({ char }) => char).join('');
}

function likePattern(raw: string): RegExp {
  const source = [...characters(raw, true)]
    .map(({ char, escaped }) =>
      escaped
        ? char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        : char === '%'
          ? '.*'
          : char === '_'
            ? '.'
            : char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`, 'is');
}

const KEYWORDS = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'ORDER',
  'BY',
  'LIMIT',
  'AND',
  'OR',
  'NOT',
  'IN',
  'LIKE',
  'ASC',
  'DESC',
]);
const isKeyword = (token: Token | undefined, keyword: string) => token?.word?.toUpperCase() === keyword;

/** Parses a query of the subset; anything else is MALFORMED_QUERY. */
export function parseSoql(query: string): SoqlQuery {
  const tokens = tokenize(query);
  let at = 0;
  const peek = () => tokens[at];
  const next = () => tokens[at++];
  const fail = (what: string): never => {
    throw new SoqlError('MALFORMED_QUERY', `unexpected token: '${what}'`);
  };
  const expectKeyword = (keyword: string) => {
    const token = next();
    if (!isKeyword(token, keyword)) fail(token?.word ?? token?.symbol ?? keyword);
  };
  const name = () => {
    const token = next();
    if (token?.word === undefined || KEYWORDS.has(token.word.toUpperCase())) return fail(token?.symbol ?? 'end');
    return token.word;
  };
  const literal = (): Literal => {
    const token = next();
    if (token?.string !== undefined) return { kind: 'string', raw: token.string };
    if (token?.datetime !== undefined) return { kind: 'datetime', millis: Date.parse(token.datetime) };
    if (token?.number !== undefined) return { kind: 'value', value: Number(token.number) };
    const word = token?.word?.toLowerCase();
    if (word === 'null') return { kind: 'value', value: null };
    if (word === 'true' || word === 'false') return { kind: 'value', value: word === 'true' };
    return fail(token?.word ?? token?.symbol ?? 'end');
  };
  const atom = (): Condition => {
    if (peek()?.symbol === '(') {
      next();
      const inner = either();
      if (next()?.symbol !== ')') fail('(');
      return inner;
    }
    if (isKeyword(peek(), 'NOT')) {
      next();
      return { kind: 'not', inner: atom() };
    }
    const field = name();
    const negated = isKeyword(peek(), 'NOT');
    if (negated) next();
    if (isKeyword(peek(), 'IN')) {
      next();
      if (next()?.symbol !== '(') fail('IN');
      const literals = [literal()];
      while (peek()?.symbol === ',') {
        next();
        literals.push(literal());
      }
      if (next()?.symbol !== ')') fail('IN');
      return { kind: 'in', field, negated, literals };
    }
    if (negated) fail('NOT');
    const token = next();
    const operator = isKeyword(token, 'LIKE') ? 'LIKE' : token?.symbol;
    if (
      operator !== '=' &&
      operator !== '!=' &&
      operator !== '<' &&
      operator !== '<=' &&
      operator !== '>' &&
      operator !== '>=' &&
      operator !== 'LIKE'
    )
      return fail(token?.word ?? token?.symbol ?? 'end');
    return { kind: 'compare', field, operator, literal: literal() };
  };
  const both = (): Condition => {
    let condition = atom();
    while (isKeyword(peek(), 'AND')) {
      next();
      condition = { kind: 'and', left: condition, right: atom() };
    }
    return condition;
  };
  const either = (): Condition => {
    let condition = both();
    while (isKeyword(peek(), 'OR')) {
      next();
      condition = { kind: 'or', left: condition, right: both() };
    }
    return condition;
  };

  expectKeyword('SELECT');
  const fields = [name()];
  while (peek()?.symbol === ',') {
    next();
    fields.push(name());
  }
  expectKeyword('FROM');
  const object = name();
  const parsed: SoqlQuery = { fields, object, orderBy: [] };
  if (isKeyword(peek(), 'WHERE')) {
    next();
    parsed.where = either();
  }
  if (isKeyword(peek(), 'ORDER')) {
    next();
    expectKeyword('BY');
    do {
      if (peek()?.symbol === ',') next();
      const field = name();
      const direction = peek();
      const descending = isKeyword(direction, 'DESC');
      if (descending || isKeyword(direction, 'ASC')) next();
      parsed.orderBy.push({ field, descending });
    } while (peek()?.symbol === ',');
  }
  if (isKeyword(peek(), 'LIMIT')) {
    next();
    const token = next();
    const limit = Number(token?.number);
    if (!Number.isInteger(limit) || limit < 0) fail(token?.word ?? 'LIMIT');
    parsed.limit = limit;
  }
  if (at !== tokens.length) fail(peek()?.word ?? peek()?.symbol ?? 'end');
  return parsed;
}

/** A record as a query reads it: field name -> value, names compared without case. */
export type QueriedRecord = Readonly<Record<string, Value>>;

function valueOf(record: QueriedRecord, field: string): Value {
  const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === field.toLowerCase());
  return key === undefined ? null : (record[key] ?? null);
}

/** Datetime fields hold Salesforce's times; a datetime literal compares with them by instant. */
function compare(actual: Value, literal: Literal): number | null {
  if (literal.kind === 'datetime') {
    const millis = typeof actual === 'string' ? Date.parse(actual.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')) : Number.NaN;
    return Number.isNaN(millis) ? null : millis - literal.millis;
  }
  const expected = literal.kind === 'string' ? stringOf(literal.raw) : literal.value;
  if (actual === null || expected === null) return actual === expected ? 0 : null;
  if (typeof actual === 'string' && typeof expected === 'string')
    return actual.toLowerCase().localeCompare(expected.toLowerCase());
  if (typeof actual === 'number' && typeof expected === 'number') return actual - expected;
  return actual === expected ? 0 : null;
}

function matches(record: QueriedRecord, condition: Condition): boolean {
  switch (condition.kind) {
    case 'and':
      return matches(record, condition.left) && matches(record, condition.right);
    case 'or':
      return matches(record, condition.left) || matches(record, condition.right);
    case 'not':
      return !matches(record, condition.inner);
    case 'in':
      return (
        condition.literals.some((literal) => compare(valueOf(record, condition.field), literal) === 0) !==
        condition.negated
      );
    case 'compare': {
      const actual = valueOf(record, condition.field);
      if (condition.operator === 'LIKE') {
        if (condition.literal.kind !== 'string') throw new SoqlError('MALFORMED_QUERY', 'LIKE takes a string');
        return typeof actual === 'string' && likePattern(condition.literal.raw).test(actual);
      }
      const order = compare(actual, condition.literal);
      if (condition.operator === '!=') return order !== 0;
      if (order === null) return false;
      return { '=': order === 0, '<': order < 0, '<=': order <= 0, '>': order > 0, '>=': order >= 0 }[
        condition.operator
      ];
    }
  }
}

/** The fields a condition names. */
function fieldsOf(condition: Condition | undefined): string[] {
  if (condition === undefined) return [];
  switch (condition.kind) {
    case 'and':
    case 'or':
      return [...fieldsOf(condition.left), ...fieldsOf(condition.right)];
    case 'not':
      return fieldsOf(condition.inner);
    default:
      return [condition.field];
  }
}

/**
 * Runs a parsed query over an object's records; `known` are the object's field names (any other
 * named in the query is INVALID_FIELD, as Salesforce refuses it).
 */
export function runSoql(
  query: SoqlQuery,
  records: readonly QueriedRecord[],
  known: readonly string[],
): QueriedRecord[] {
  const knownLower = new Set(known.map((field) => field.toLowerCase()));
  for (const field of [...query.fields, ...fieldsOf(query.where), ...query.orderBy.map((order) => order.field)])
    if (!knownLower.has(field.toLowerCase()))
      throw new SoqlError(
        'INVALID_FIELD',
        `No such column '${field}' on entity '${query.object}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.`,
      );
  const found = records.filter((record) => query.where === undefined || matches(record, query.where));
  const sorted = [...found].sort((a, b) => {
    for (const { field, descending } of query.orderBy) {
      const [x, y] = [valueOf(a, field), valueOf(b, field)];
      // Nulls first in ascending order, as Salesforce sorts them by default.
      const order =
        x === y ? 0 : x === null ? -1 : y === null ? 1 : String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0;
      if (order !== 0) return descending ? -order : order;
    }
    return 0;
  });
  const limited = query.limit === undefined ? sorted : sorted.slice(0, query.limit);
  return limited.map((record) =>
    Object.fromEntries(query.fields.map((field) => [knownName(field, known), valueOf(record, field)])),
  );
}

/** A field as the object spells it (queries may use any case). */
function knownName(field: string, known: readonly string[]): string {
  return known.find((candidate) => candidate.toLowerCase() === field.toLowerCase()) ?? field;
}
