/**
 * Polling organizations and persons by `update_time`. Pipedrive's v2 times are to the second and
 * `updated_since` is inclusive, so a poll from a cursor gets that second's records again. The
 * cursor keeps, besides the second, a fingerprint of each record handed on at it: such a record is
 * handed on again only when it changed (a change within the same second alters the fingerprint).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Contact } from '../../src/core/model';
import { parseJsonCursor } from '../kit/parse';
import type { ChangedPage } from '../kit/types';
import type { PipedriveApi, PipedriveCollection, PipedriveRecord } from './client';

/** Where one collection's poll stands: the latest second handed on, and what was handed on at it. */
const positionSchema = z.object({ at: z.string(), seen: z.record(z.string(), z.string()) });
const cursorSchema = z.object({ organizations: positionSchema.optional(), persons: positionSchema.optional() });
/** The poll cursor, per collection. */
export type PollCursor = z.infer<typeof cursorSchema>;

/** What a record reads as, to tell a change within the same second from a record seen before. */
export function fingerprint(contact: Contact): string {
  return createHash('sha256')
    .update(JSON.stringify([contact.companyId, Object.entries(contact.fields).sort()]))
    .digest('base64url')
    .slice(0, 16);
}

/** A v2 time to the second, as `updated_since` takes it. */
const toSecond = (time: string | null | undefined): string | null => {
  const millis = Date.parse(time ?? '');
  return Number.isNaN(millis) ? null : new Date(Math.floor(millis / 1000) * 1000).toISOString().replace('.000Z', 'Z');
};

/**
 * The pages of changes since `cursor`: organizations first, then persons, each page with the
 * cursor valid after it.
 */
export async function* pollChanges(
  api: PipedriveApi,
  name: string,
  toContact: (collection: PipedriveCollection, record: PipedriveRecord) => Contact,
  cursor: string | null,
): AsyncGenerator<ChangedPage> {
  const state: PollCursor = parseJsonCursor(cursorSchema, cursor, `${name}: poll cursor`) ?? {};
  for (const collection of ['organizations', 'persons'] as const) {
    const start = state[collection];
    let pageCursor: string | undefined;
    do {
      const page = await api.listPage(collection, {
        ...(start !== undefined && start.at !== '' && { updatedSince: start.at }),
        ...(pageCursor !== undefined && { cursor: pageCursor }),
      });
      const records: Contact[] = [];
      let position = state[collection] ?? { at: '', seen: {} };
      for (const record of page.records) {
        const contact = toContact(collection, record);
        const at = toSecond(record.update_time) ?? '';
        const print = fingerprint(contact);
        const handedOn = at === position.at && position.seen[contact.id] === print;
        if (at < position.at || handedOn) continue;
        records.push(contact);
        position =
          at === position.at
            ? { at, seen: { ...position.seen, [contact.id]: print } }
            : { at, seen: { [contact.id]: print } };
      }
      // A collection with nothing changed yet keeps no position.
      if (position.at !== '') state[collection] = position;
      pageCursor = page.nextCursor ?? undefined;
      yield { records, cursor: JSON.stringify(state) };
    } while (pageCursor !== undefined);
  }
}
