/**
 * The sandbox's CRM search: filter groups (OR of ANDs), sorts, limit and `after` paging, with the
 * 10,000-result paging cap of the real API.
 * https://developers.hubspot.com/docs/api/crm/search
 */
import { z } from 'zod';
import { SandboxFailure } from '../../kit/sandbox/server';
import { DATE_PROPERTIES, NUMBER_PROPERTIES, type PortalProperties, type SandboxObjectType } from './properties';

/** The most results a search may page through. */
const SEARCH_PAGING_CAP = 10_000;
/** The largest `limit` a search accepts. */
const SEARCH_MAX_LIMIT = 200;

const filterSchema = z.object({
  propertyName: z.string(),
  operator: z.enum([
    'EQ',
    'NEQ',
    'GT',
    'GTE',
    'LT',
    'LTE',
    'HAS_PROPERTY',
    'NOT_HAS_PROPERTY',
    'IN',
    'NOT_IN',
    'CONTAINS_TOKEN',
    'NOT_CONTAINS_TOKEN',
  ]),
  value: z.union([z.string(), z.number(), z.boolean()]).optional(),
  values: z.array(z.union([z.string(), z.number()])).default([]),
});

const sortSchema = z.union([
  z.string().transform((propertyName) => ({ propertyName, direction: 'ASCENDING' as const })),
  z.object({ propertyName: z.string(), direction: z.enum(['ASCENDING', 'DESCENDING']).default('ASCENDING') }),
]);

/** The body of POST /crm/v3/objects/{type}/search. */
export const searchBodySchema = z.object({
  filterGroups: z
    .array(z.object({ filters: z.array(filterSchema).max(10) }))
    .max(5)
    .default([]),
  sorts: z.array(sortSchema).default([]),
  properties: z.array(z.string()).optional(),
  limit: z.number().int().min(0).default(10),
  after: z.union([z.string(), z.number()]).optional(),
  query: z.string().optional(),
});
type Filter = z.infer<typeof filterSchema>;
/** What a search looks at: a record's id and every property it has. */
type Searched = { id: string; properties: Record<string, string> };

/** Runs a search; refuses with HubSpot's 400 what HubSpot refuses. */
export function runSearch<T extends Searched>(
  objectType: SandboxObjectType,
  objects: T[],
  body: z.infer<typeof searchBodySchema>,
  portal: PortalProperties,
): { total: number; page: T[]; nextAfter?: string } {
  const refuse = (message: string) => new SandboxFailure(400, message);
  if (body.limit > SEARCH_MAX_LIMIT) throw refuse(`limit must be at most ${SEARCH_MAX_LIMIT}`);
  const named = [
    ...body.filterGroups.flatMap((group) => group.filters.map((filter) => filter.propertyName)),
    ...body.sorts.map((sort) => sort.propertyName),
  ];
  const unknown = named.find((name) => !portal.isKnown(objectType, name));
  if (unknown !== undefined) throw refuse(`Property "${unknown}" does not exist on ${objectType}`);
  const offset = body.after === undefined ? 0 : Number(body.after);
  if (!Number.isInteger(offset) || offset < 0) throw refuse(`after must be a number, got ${String(body.after)}`);
  if (offset >= SEARCH_PAGING_CAP)
    throw refuse(`paging is limited to ${SEARCH_PAGING_CAP} results; narrow the filters instead`);

  const matches = objects.filter(
    (object) =>
      body.filterGroups.length === 0 ||
      body.filterGroups.some((group) => group.filters.every((filter) => matchesFilter(object, filter))),
  );
  matches.sort((a, b) => {
    for (const sort of body.sorts) {
      const order = compareValues(sort.propertyName, a.properties[sort.propertyName], b.properties[sort.propertyName]);
      if (order !== 0) return sort.direction === 'ASCENDING' ? order : -order;
    }
    return Number(a.id) - Number(b.id);
  });
  const page = matches.slice(offset, offset + body.limit);
  const next = offset + body.limit;
  return { total: matches.length, page, ...(next < matches.length ? { nextAfter: String(next) } : {}) };
}

/**
 * CONTAINS_TOKEN: the value, or one of its words, matches the token without regard to case; `*`
 * stands for any characters ("*@hubspot.com" finds every address at hubspot.com).
 */
function containsToken(actual: string, token: string): boolean {
  const pattern = new RegExp(
    `^${token
      .toLowerCase()
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    's',
  );
  const value = actual.toLowerCase();
  return pattern.test(value) || value.split(/\s+/).some((word) => pattern.test(word));
}

const ORDERS: Record<'EQ' | 'GT' | 'GTE' | 'LT' | 'LTE', (order: number) => boolean> = {
  EQ: (order) => order === 0,
  GT: (order) => order > 0,
  GTE: (order) => order >= 0,
  LT: (order) => order < 0,
  LTE: (order) => order <= 0,
};

function matchesFilter({ properties }: Searched, { propertyName, operator, value, values }: Filter): boolean {
  const actual = properties[propertyName];
  const order = (other: string | number | boolean) => compareValues(propertyName, actual, String(other));
  const equals = (other: string | number | boolean) => actual !== undefined && order(other) === 0;
  if (operator === 'HAS_PROPERTY' || operator === 'NOT_HAS_PROPERTY')
    return (actual !== undefined) === (operator === 'HAS_PROPERTY');
  if (operator === 'IN' || operator === 'NOT_IN') return values.some(equals) === (operator === 'IN');
  if (value === undefined) return false;
  if (operator === 'CONTAINS_TOKEN' || operator === 'NOT_CONTAINS_TOKEN')
    return (actual !== undefined && containsToken(actual, String(value))) === (operator === 'CONTAINS_TOKEN');
  // A record without the property is not equal to any value, and neither greater nor less.
  if (operator === 'NEQ') return !equals(value);
  return actual !== undefined && ORDERS[operator](order(value));
}

/** Compares two property values as HubSpot would: dates as instants, numbers as numbers, text without case. */
function compareValues(property: string, a: string | undefined, b: string | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
  if (DATE_PROPERTIES.has(property)) return toInstant(a) - toInstant(b);
  if (NUMBER_PROPERTIES.has(property)) return Number(a) - Number(b);
  return a.toLowerCase().localeCompare(b.toLowerCase());
}

// Date filter values may be epoch milliseconds or ISO 8601 strings.
function toInstant(value: string): number {
  return /^\d+$/.test(value) ? Number(value) : Date.parse(value);
}
