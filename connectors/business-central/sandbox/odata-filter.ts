/**
 * The subset of OData `$filter` the sandbox understands: comparisons (eq, ne, gt, ge, lt, le) of a
 * property with a literal, joined by `and` / `or`, with parentheses. Enough for what clients of
 * BC's API v2.0 send for change tracking and lookups.
 */

/** A row the filter is evaluated against. */
export type FilterRow = Record<string, unknown>;
/** A compiled filter. */
export type FilterPredicate = (row: FilterRow) => boolean;

/** A `$filter` the sandbox cannot read; answered with 400 like BC. */
export class FilterSyntaxError extends Error {
  override readonly name = 'FilterSyntaxError';
}

type Token = { kind: 'word'; value: string } | { kind: 'string'; value: string } | { kind: 'open' } | { kind: 'close' };

// One token per match: ( ) 'quoted text' ('' is a quote) or a bare word; a stray quote falls to the last group.
const TOKENS = /\s*(?:(\()|(\))|'((?:[^']|'')*)'|([^\s()']+)|(.))/g;

function tokenize(input: string): Token[] {
  return [...input.matchAll(TOKENS)].map(([, open, close, quoted, word, stray]): Token => {
    if (stray !== undefined) throw new FilterSyntaxError('unterminated string literal');
    if (open !== undefined) return { kind: 'open' };
    if (close !== undefined) return { kind: 'close' };
    if (quoted !== undefined) return { kind: 'string', value: quoted.replace(/''/g, "'") };
    return { kind: 'word', value: word ?? '' };
  });
}

/** A value as text, the way BC compares code and text fields. */
function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

const OPERATORS = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'] as const;
type Operator = (typeof OPERATORS)[number];
const isOperator = (word: string | undefined): word is Operator => OPERATORS.some((operator) => operator === word);

type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'date'; value: number }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' };

function literal(token: Token | undefined): Literal {
  if (token === undefined) throw new FilterSyntaxError('expected a value');
  if (token.kind === 'string') return { kind: 'string', value: token.value };
  if (token.kind !== 'word') throw new FilterSyntaxError('expected a value');
  const word = token.value;
  if (word === 'null') return { kind: 'null' };
  if (word === 'true' || word === 'false') return { kind: 'boolean', value: word === 'true' };
  if (/^\d{4}-\d{2}-\d{2}T/.test(word) && !Number.isNaN(Date.parse(word)))
    return { kind: 'date', value: Date.parse(word) };
  if (/^-?\d+(\.\d+)?$/.test(word)) return { kind: 'number', value: Number(word) };
  // GUIDs are written unquoted in OData; compare them as text.
  if (/^[0-9a-fA-F-]{36}$/.test(word)) return { kind: 'string', value: word };
  throw new FilterSyntaxError(`cannot read the value '${word}'`);
}

function compare(left: unknown, operator: Operator, right: Literal): boolean {
  let a: string | number | boolean | null;
  let b: string | number | boolean | null;
  if (right.kind === 'null') {
    a = left === undefined || left === null ? null : 'set';
    b = null;
  } else if (right.kind === 'date') {
    a = typeof left === 'string' ? Date.parse(left) : NaN;
    b = right.value;
  } else if (right.kind === 'string') {
    // BC compares code and text fields without case; GUIDs likewise.
    a = text(left).toLowerCase();
    b = right.value.toLowerCase();
  } else {
    a = typeof left === 'number' || typeof left === 'boolean' ? left : null;
    b = right.value;
  }
  switch (operator) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'gt':
      return a !== null && b !== null && a > b;
    case 'ge':
      return a !== null && b !== null && a >= b;
    case 'lt':
      return a !== null && b !== null && a < b;
    case 'le':
      return a !== null && b !== null && a <= b;
  }
}

/** Compiles a `$filter` expression; throws FilterSyntaxError for anything outside the subset. */
export function compileFilter(expression: string): FilterPredicate {
  const tokens = tokenize(expression);
  let position = 0;
  const peekWord = () => {
    const token = tokens[position];
    return token?.kind === 'word' ? token.value.toLowerCase() : undefined;
  };

  const parseOr = (): FilterPredicate => {
    const parts = [parseAnd()];
    while (peekWord() === 'or') {
      position++;
      parts.push(parseAnd());
    }
    return parts.length === 1 && parts[0] ? parts[0] : (row) => parts.some((part) => part(row));
  };
  const parseAnd = (): FilterPredicate => {
    const parts = [parseComparison()];
    while (peekWord() === 'and') {
      position++;
      parts.push(parseComparison());
    }
    return parts.length === 1 && parts[0] ? parts[0] : (row) => parts.every((part) => part(row));
  };
  const parseComparison = (): FilterPredicate => {
    const token = tokens[position];
    if (token?.kind === 'open') {
      position++;
      const inner = parseOr();
      if (tokens[position]?.kind !== 'close') throw new FilterSyntaxError('missing )');
      position++;
      return inner;
    }
    if (token?.kind !== 'word') throw new FilterSyntaxError('expected a property name');
    const property = token.value;
    position++;
    const operator = peekWord();
    if (!isOperator(operator)) throw new FilterSyntaxError(`expected an operator after '${property}'`);
    position++;
    const value = literal(tokens[position]);
    position++;
    return (row) => compare(row[property], operator, value);
  };

  const predicate = parseOr();
  if (position !== tokens.length) throw new FilterSyntaxError('unexpected text at the end of $filter');
  return predicate;
}

/** Sorts rows by an `$orderby` clause such as `lastModifiedDateTime asc, number desc`. */
export function compileOrderBy(expression: string): (a: FilterRow, b: FilterRow) => number {
  const keys = expression.split(',').map((part) => {
    const [property, direction] = part.trim().split(/\s+/);
    if (property === undefined || property === '' || (direction !== undefined && !/^(asc|desc)$/i.test(direction))) {
      throw new FilterSyntaxError(`cannot read $orderby '${expression}'`);
    }
    return { property, sign: direction?.toLowerCase() === 'desc' ? -1 : 1 };
  });
  return (a, b) => {
    for (const { property, sign } of keys) {
      const left = a[property];
      const right = b[property];
      const x = typeof left === 'number' ? left : text(left);
      const y = typeof right === 'number' ? right : text(right);
      if (x < y) return -sign;
      if (x > y) return sign;
    }
    return 0;
  };
}
