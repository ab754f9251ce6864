/**
 * The sandbox's CRM search: filter groups (OR of ANDs), sorts, limit and `after` paging, with the
 * 10,000-result paging cap of the real API.
 * https://developers.hubspot.com/docs/api/crm/search
 */
import { z } from 'zod';
import { DATE_PROPERTIES, NUMBER_PROPERTIES, type SandboxObjectType, isKnownProperty } from './properties';
import type { StoredObject } from './store';

/** The most results a search may page through. */
export const SEARCH_PAGING_CAP = 10_000;
/** The largest `limit` a search accepts. */
export const SEARCH_MAX_LIMIT = 200;

const filterSchema = z.object({
  propertyName: z.string(),
  operator: z.enum(['EQ', 'NEQ', 'GT', 'GTE', 'LT', 'LTE', 'HAS_PROPERTY', 'NOT_HAS_PROPERTY', 'IN', 'NOT_IN']),
  value: z.union([z.string(), z.number(), z.boolean()]).optional(),
  values: z.array(z.union([z.string(), z.number()])).optional(),
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
/** The body of POST /crm/v3/objects/{type}/search. */
export type SearchBody = z.infer<typeof searchBodySchema>;
type Filter = z.infer<typeof filterSchema>;

/** A search the sandbox refuses with HubSpot's message; the kit answers it as HubSpot's 400. */
export class SearchRefusedError extends Error {
  readonly code = 'HUBSPOT_SEARCH_REFUSED';
  readonly statusCode = 400;
}

/** Runs a search; throws SearchRefusedError for what HubSpot answers 400 to. */
export function runSearch(
  objectType: SandboxObjectType,
  objects: StoredObject[],
  body: SearchBody,
): { total: number; page: StoredObject[]; nextAfter?: string } {
  if (body.limit > SEARCH_MAX_LIMIT) throw new SearchRefusedError(`limit must be at most ${SEARCH_MAX_LIMIT}`);
  const named = [
    ...body.filterGroups.flatMap((group) => group.filters.map((filter) => filter.propertyName)),
    ...body.sorts.map((sort) => sort.propertyName),
  ];
  for (const name of named) {
    if (!isKnownProperty(objectType, name))
      throw new SearchRefusedError(`Property "${name}" does not exist on ${objectType}`);
  }
  const offset = body.after === undefined ? 0 : Number(body.after);
  if (!Number.isInteger(offset) || offset < 0)
    throw new SearchRefusedError(`after must be a number, got ${String(body.after)}`);
  if (offset >= SEARCH_PAGING_CAP)
    throw new SearchRefusedError(`paging is limited to ${SEARCH_PAGING_CAP} results; narrow the filters instead`);

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

const ORDERS: Record<'EQ' | 'GT' | 'GTE' | 'LT' | 'LTE', (order: number) => boolean> = {
  EQ: (order) => order === 0,
  GT: (order) => order > 0,
  GTE: (order) => order >= 0,
  LT: (order) => order < 0,
  LTE: (order) => order <= 0,
};

function matchesFilter(object: StoredObject, filter: Filter): boolean {
  const actual = object.properties[filter.propertyName];
  const equals = (value: string | number | boolean) =>
    actual !== undefined && compareValues(filter.propertyName, actual, String(value)) === 0;
  switch (filter.operator) {
    case 'HAS_PROPERTY':
      return actual !== undefined;
    case 'NOT_HAS_PROPERTY':
      return actual === undefined;
    case 'IN':
      return (filter.values ?? []).some(equals);
    case 'NOT_IN':
      return !(filter.values ?? []).some(equals);
    case 'NEQ':
      // A record without the property is not equal to any value.
      return filter.value !== undefined && !equals(filter.value);
    default:
      if (filter.value === undefined || actual === undefined) return false;
      return ORDERS[filter.operator](compareValues(filter.propertyName, actual, String(filter.value)));
  }
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
