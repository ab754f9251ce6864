/**
 * Parse, never cast: provider answers, caller input and a connector's own cursors go through zod, a
 * mismatch becomes one named error: `<what>: unexpected <answer|input|cursor> (<path>: <issue>; ...)`.
 */
import type { z } from 'zod';
import { InvalidRequestError, InvalidResponseError } from './errors';

function parseWith<T>(schema: z.ZodType<T>, data: unknown, fail: (issues: string) => Error): T {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 3);
  throw fail(issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; '));
}

/** Parses a provider's answer; a mismatch is an InvalidResponseError naming what was read. */
export function parseResponse<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  return parseWith(schema, data, (issues) => new InvalidResponseError(`${what}: unexpected answer (${issues})`));
}

/** Parses input a caller passed (a create's `extra`); a mismatch is an InvalidRequestError. */
export function parseRequest<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  return parseWith(schema, data, (issues) => new InvalidRequestError(`${what}: unexpected input (${issues})`));
}

/** Reads a JSON cursor the connector wrote itself; null and '' mean "from the beginning". */
export function parseJsonCursor<T>(schema: z.ZodType<T>, cursor: string | null, what: string): T | null {
  if (cursor === null || cursor === '') return null;
  const fail = (issues: string) => new InvalidRequestError(`${what}: unexpected cursor (${issues})`);
  let json: unknown;
  try {
    json = JSON.parse(cursor);
  } catch {
    throw fail(`not JSON: ${cursor.slice(0, 80)}`);
  }
  return parseWith(schema, json, fail);
}
