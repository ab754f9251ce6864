/**
 * The sandbox's reading of QBO's query language: `select * from <Entity> [where <condition> (and
 * <condition>)*] [orderby <property> [asc|desc]] [startposition <n>] [maxresults <n>]`, with the
 * operators QBO documents (=, <, >, <=, >=, in, like with % as the wildcard) and string literals in
 * single quotes, a quote inside written as \'. QBO has no `or`. Without a condition on Active, only
 * active names and accounts are returned, as in QBO.
 * https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/data-queries
 */

/** A parsed query. */
export interface ParsedQuery {
  entity: string;
  conditions: Condition[];
  orderBy?: { property: string; descending: boolean };
  startPosition: number;
  maxResults: number;
}

type Literal = string | boolean | number;

const OPERATORS = ['=', '<', '>', '<=', '>=', 'in', 'like'] as const;

/** One condition: a property (a dotted path such as MetaData.LastUpdatedTime), an operator and its value(s). */
export interface Condition {
  property: string;
  operator: (typeof OPERATORS)[number];
  values: Literal[];
}

/** The most a query returns at once, and what it returns without maxresults. */
export const QUERY_MAX_RESULTS = 1000;
const DEFAULT_MAX_RESULTS = 100;

/** A query the sandbox cannot read: QBO answers a QueryParserError. */
export class QuerySyntaxError extends Error {}

const TOKEN = /\s*(?:'((?:[^'\\]|\\.)*)'|(<=|>=|[=<>(),*])|([A-Za-z_][\w.]*)|(-?\d+(?:\.\d+)?))/y;

/** Parses a query; QuerySyntaxError names what it could not read. */
export function parseQuery(text: string): ParsedQuery {
  const tokens: { text?: string; symbol?: string; word?: string; number?: string }[] = [];
  for (let position = 0; text.slice(position).trim() !== ''; position = TOKEN.lastIndex) {
    TOKEN.lastIndex = position;
    const match = TOKEN.exec(text);
    if (match === null) throw new QuerySyntaxError(`cannot read the query at: ${text.slice(position, position + 20)}`);
    const [, literal, symbol, word, number] = match;
    tokens.push(literal === undefined ? { symbol, word, number } : { text: literal.replace(/\\(.)/g, '$1') });
  }
  let at = 0;
  const peekWord = () => tokens[at]?.word?.toLowerCase();
  const next = () => tokens[at++] ?? {};
  const keyword = (expected: string) => {
    if (next().word?.toLowerCase() !== expected) throw new QuerySyntaxError(`expected ${expected}`);
  };
  const symbol = (expected: string) => {
    if (next().symbol !== expected) throw new QuerySyntaxError(`expected ${expected}`);
  };
  const literal = (): Literal => {
    const token = next();
    if (token.text !== undefined) return token.text;
    if (token.number !== undefined) return Number(token.number);
    const word = token.word?.toLowerCase();
    if (word === 'true' || word === 'false') return word === 'true';
    throw new QuerySyntaxError('expected a value');
  };
  const count = () => {
    const token = next();
    if (token.number === undefined) throw new QuerySyntaxError('expected a number');
    return Number(token.number);
  };

  keyword('select');
  symbol('*');
  keyword('from');
  const entity = next().word;
  if (entity === undefined) throw new QuerySyntaxError('expected an entity');
  const conditions: Condition[] = [];
  if (peekWord() === 'where') {
    at++;
    do {
      const property = next().word;
      if (property === undefined) throw new QuerySyntaxError('expected a property');
      const operatorToken = next();
      const operator = OPERATORS.find(
        (candidate) => candidate === (operatorToken.symbol ?? operatorToken.word?.toLowerCase()),
      );
      if (operator === undefined) throw new QuerySyntaxError('expected an operator');
      const values: Literal[] = [];
      if (operator === 'in') {
        symbol('(');
        values.push(literal());
        while (tokens[at]?.symbol === ',') {
          at++;
          values.push(literal());
        }
        symbol(')');
      } else values.push(literal());
      conditions.push({ property, operator, values });
      if (peekWord() === 'or') throw new QuerySyntaxError('QBO queries have no OR');
    } while (peekWord() === 'and' && ++at);
  }
  let orderBy: ParsedQuery['orderBy'];
  if (peekWord() === 'orderby') {
    at++;
    const property = next().word;
    if (property === undefined) throw new QuerySyntaxError('expected a property to order by');
    const direction = peekWord();
    if (direction === 'asc' || direction === 'desc') at++;
    orderBy = { property, descending: direction === 'desc' };
  }
  let startPosition = 1;
  let maxResults = DEFAULT_MAX_RESULTS;
  if (peekWord() === 'startposition') {
    at++;
    startPosition = count();
  }
  if (peekWord() === 'maxresults') {
    at++;
    maxResults = count();
  }
  if (at !== tokens.length) throw new QuerySyntaxError('unexpected text after the query');
  if (maxResults < 1 || maxResults > QUERY_MAX_RESULTS)
    throw new QuerySyntaxError(`maxresults must be 1 to ${QUERY_MAX_RESULTS}`);
  return { entity, conditions, ...(orderBy && { orderBy }), startPosition, maxResults };
}

/** A property's value by its dotted path. */
export function propertyAt(item: Record<string, unknown>, path: string): unknown {
  let value: unknown = item;
  for (const part of path.split('.'))
    value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined;
  return value;
}

/** Compares two values as QBO does: times as times, numbers as numbers, text without case. */
function compare(actual: unknown, wanted: Literal): number | null {
  if (typeof actual === 'boolean' || typeof wanted === 'boolean') return actual === wanted ? 0 : null;
  if (typeof actual === 'number' || typeof wanted === 'number') return Number(actual) - Number(wanted);
  if (typeof actual !== 'string') return null;
  const [left, right] = [Date.parse(actual), Date.parse(wanted)];
  if (/^\d{4}-\d{2}-\d{2}/.test(wanted) && !Number.isNaN(left) && !Number.isNaN(right)) return left - right;
  return actual.toLowerCase().localeCompare(wanted.toLowerCase());
}

/** Whether an item meets a condition. */
function meets(item: Record<string, unknown>, { property, operator, values }: Condition): boolean {
  const actual = propertyAt(item, property);
  const [wanted] = values;
  if (wanted === undefined) return false;
  switch (operator) {
    case 'in':
      return values.some((value) => compare(actual, value) === 0);
    case 'like': {
      if (typeof actual !== 'string' || typeof wanted !== 'string') return false;
      const pattern = wanted
        .split('%')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*');
      return new RegExp(`^${pattern}$`, 'is').test(actual);
    }
    default: {
      const order = compare(actual, wanted);
      if (order === null) return false;
      return { '=': order === 0, '<': order < 0, '>': order > 0, '<=': order <= 0, '>=': order >= 0 }[operator];
    }
  }
}

/** The items a query selects, in its order and window, and how many matched in all. */
export function runQuery(query: ParsedQuery, items: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  const onActive = query.conditions.some((condition) => condition.property === 'Active');
  const selected = items.filter(
    (item) => (onActive || item.Active !== false) && query.conditions.every((condition) => meets(item, condition)),
  );
  if (query.orderBy !== undefined) {
    const { property, descending } = query.orderBy;
    selected.sort((a, b) => {
      const other = propertyAt(b, property);
      const order =
        compare(propertyAt(a, property), typeof other === 'number' ? other : typeof other === 'string' ? other : '') ??
        0;
      return descending ? -order : order;
    });
  }
  return selected.slice(query.startPosition - 1, query.startPosition - 1 + query.maxResults);
}
