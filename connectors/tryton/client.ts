/**
 * The models of one trytond 6.0 database as the connector reads and writes them: searches read in
 * pages, lookups of the ids canonical codes stand for, creates, and the changed-since domain.
 * Every call goes through TrytonRpc (session, retries, errors).
 */
import { z } from 'zod';
import type { Account, FieldValue } from '../../src/core/model';
import { InvalidRequestError } from '../kit/errors';
import { parseResponse } from '../kit/parse';
import type { TrytonContext, TrytonRpc } from './rpc';
import { idRowSchema } from './schemas';
import { trytonFromIso } from './schemas';

export type Domain = unknown[];

/** What a search adds to its fields: a domain, an order (default by id) and context keys. */
export interface Query {
  domain?: Domain[];
  order?: unknown[];
  context?: TrytonContext;
}

/** search_read answers at most this many rows per call here; larger sets are read in pages. */
const SEARCH_LIMIT = 500;

const TRYTON_ID = /^[1-9]\d{0,15}$/;

/** A canonical id as a Tryton record id; anything else names no record. */
export function parseId(id: string): number | null {
  return TRYTON_ID.test(id) ? Number(id) : null;
}

/** The Tryton ids of canonical ids, the ones that cannot be Tryton ids left out. */
export function parseIds(ids: readonly string[]): number[] {
  return ids.map(parseId).filter((id) => id !== null);
}

/** A create's `extra`, as the connector reads it: '' and null are "not given". */
const given = (value: unknown) => (value === '' || value === null ? undefined : value);
const recordId = z.union([z.number().int().positive(), z.string().regex(TRYTON_ID).transform(Number)]);
export const createExtraSchema = z.object({
  /** The party code: a create with a code that exists returns that party. */
  number: z.preprocess(given, z.string().optional()),
  /** A new bank account's bank and owner party. */
  bank: z.preprocess(given, recordId.optional()),
  owner: z.preprocess(given, recordId.optional()),
});
export type CreateExtra = z.infer<typeof createExtraSchema>;

/**
 * One kind of account as stored in Tryton: how its records are read, found changed, mapped,
 * written and created. `Data` is a record with the child rows it is mapped from, and the
 * `_timestamp` a write is checked against.
 */
export interface AccountTable<Data extends { id: number; _timestamp?: string | null }> {
  model: 'party.party' | 'bank.account';
  /** The child records (`addresses`, ...) whose changes count as the record's. */
  children: string[];
  /** The records (of the kind) that match `domain`. */
  search(domain: Domain[]): Promise<Data[]>;
  toAccount(data: Data): Account;
  /** The `write` values that bring the record to `fields`; may write related records first. */
  plan(data: Data, fields: Record<string, FieldValue>): Promise<Record<string, unknown>>;
  /** Creates a record, or finds the one an earlier create with the same key made; its id. */
  create(fields: Record<string, FieldValue>, extra: CreateExtra): Promise<number>;
}

/** The models of one database, over one JSON-RPC session. */
export class TrytonApi {
  constructor(readonly rpc: TrytonRpc) {}

  /** Every row matching the query, read SEARCH_LIMIT at a time. */
  async search<T>(model: string, schema: z.ZodType<T>, fields: string[], query: Query = {}): Promise<T[]> {
    const { domain = [], order = [['id', 'ASC']], context = {} } = query;
    const rows: T[] = [];
    for (let offset = 0; ; offset += SEARCH_LIMIT) {
      const answer = await this.rpc.model(model, 'search_read', [domain, offset, SEARCH_LIMIT, order, fields], context);
      const page = parseResponse(z.array(schema), answer, `tryton: ${model}.search_read`);
      rows.push(...page);
      if (page.length < SEARCH_LIMIT) return rows;
    }
  }

  /** The id of the first row matching `domain`; refused, naming `what`, when there is none. */
  async lookupId(model: string, domain: Domain[], what: string, context?: TrytonContext): Promise<number> {
    const [row] = await this.search(model, idRowSchema, ['id'], { domain, context });
    if (row === undefined) throw new InvalidRequestError(`tryton: no ${what} in ${model}`);
    return row.id;
  }

  /** Creates one record; its id. */
  async create(model: string, values: Record<string, unknown>): Promise<number> {
    const answer = await this.rpc.model(model, 'create', [[values]]);
    return parseResponse(z.tuple([z.number().int()]), answer, `tryton: ${model}.create`)[0];
  }
}

/**
 * The domain of records whose own write or create date, or that of a child record (`children`:
 * `addresses`, ...), is after `since`: a child edited on its own list does not touch its parent.
 */
export function changedSince(since: string, children: string[]): Domain[] {
  const after = trytonFromIso(since);
  const dates = ['', ...children.map((child) => `${child}.`)].flatMap((prefix) => [
    [`${prefix}write_date`, '>', after],
    [`${prefix}create_date`, '>', after],
  ]);
  return [['OR', ...dates]];
}
