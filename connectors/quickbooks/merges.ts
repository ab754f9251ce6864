/**
 * Merges of names told by webhooks. Merging two customers (or vendors) in QuickBooks removes one
 * of them; the webhook names the survivor with operation "Merge" and the removed one as
 * `deletedId`. The connector keeps the pair, so that reading the removed one answers it as merged
 * into the survivor and tandem moves its business relation there instead of dropping it.
 * Kept in memory: a merge told before a restart and not yet planned reads as a deleted record,
 * whose relation is removed (the contact stays), as it would be without a webhook.
 */
import type { Account, AccountKind } from '../../src/core/model';

/** The records merged away, by kind and id, with the id of the record each was merged into. */
export class MergedNames {
  private readonly into = new Map<string, string>();

  /** Notes that `from` was merged into `survivor`. */
  record(kind: AccountKind, from: string, survivor: string): void {
    if (from !== survivor) this.into.set(`${kind}:${from}`, survivor);
  }

  /** The record `id` was merged into, if a webhook told of it. */
  survivorOf(kind: AccountKind, id: string): string | undefined {
    return this.into.get(`${kind}:${id}`);
  }

  /** A merged-away record as tandem reads it: archived, pointing at the survivor, with no fields of its own. */
  mergedRecord(kind: AccountKind, id: string, now = new Date()): Account | null {
    const survivor = this.survivorOf(kind, id);
    return survivor === undefined
      ? null
      : {
          entity: kind,
          id,
          number: null,
          fields: {},
          modifiedAt: now.toISOString(),
          mergedInto: survivor,
          archived: true,
        };
  }
}
