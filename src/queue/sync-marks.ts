/**
 * Two marks in Redis that spare reads of changes tandem already knows the outcome of.
 *
 * - **Own writes.** The write worker notes the time of the record its write returned. A change
 *   report of that record carrying exactly that time (a webhook or poll of tandem's own write:
 *   Business Central's lastModifiedDateTime, HubSpot's hs_lastmodifieddate) is the echo of the
 *   write: the version it reports is the one tandem wrote, so it is dropped without a read. Any
 *   later edit has a time of its own and goes through.
 * - **Writes done.** With that note, the job that wrote is noted as done, for a while. A planner
 *   that dies after its writes leaves their audit staged; whoever plans the contact next records
 *   the entries whose jobs completed. BullMQ keeps only the newest finished jobs (queue
 *   keepCompleted), which under load is seconds' worth, so the recovery asks these notes first.
 * - **Plans done.** After a contact's plan succeeds, the time its reads began is noted. A change
 *   reported before that (still waiting in the queue while the plan ran) was read by that plan
 *   and needs no plan of its own: many reports of one record make one plan. A margin keeps the
 *   rule safe between processes whose clocks differ a little.
 */
import type { RedisConnection } from './redis';
import { Script } from './script';

/** How long a mark is kept: longer than any queue backlog a mark can still spare a read for. */
const MARK_TTL_MS = 30 * 60_000;
/**
 * A report is taken as covered by a plan only when it came in this much before the plan began to
 * read, so that clocks of different processes that disagree by less cannot make it skip a change.
 */
export const COVER_MARGIN_MS = 1000;

/**
 * How long a write job is noted as done: past the time a killed planner's intake job is taken up
 * again (BullMQ's stall check) and its staged audit recovered, with room for a backlog.
 */
const DONE_TTL_MS = 15 * 60_000;

const writtenKey = (prefix: string, slot: string, entity: string, id: string) =>
  `${prefix}:written:${slot}:${entity}:${id}`;
const doneKey = (prefix: string, jobId: string) => `${prefix}:done:${jobId}`;
const plannedKey = (prefix: string, contactId: string) => `${prefix}:planned:${contactId}`;

// Keeps the later of the stored and the given time.
const MAX_SET = new Script(`local current = tonumber(redis.call('get', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 1`);

/** What a change report says of its record, as far as the marks care. */
export interface ReportedChange {
  connector: string;
  entity: string;
  id: string;
  occurredAt?: string;
  deleted?: boolean;
}

/** The marks of one deployment (its key prefix). */
export class SyncMarks {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
  ) {}

  /** Notes the time of the record a write of tandem's returned, and the job that wrote it as done. */
  async written(
    slot: string,
    record: { entity: string; id: string; modifiedAt: string },
    jobId?: string,
  ): Promise<void> {
    const at = Date.parse(record.modifiedAt);
    const notes = this.redis.pipeline();
    if (Number.isFinite(at))
      notes.set(writtenKey(this.prefix, slot, record.entity, record.id), String(at), 'PX', MARK_TTL_MS);
    if (jobId !== undefined) notes.set(doneKey(this.prefix, jobId), '1', 'PX', DONE_TTL_MS);
    if (notes.length === 0) return;
    for (const [error] of (await notes.exec()) ?? []) if (error) throw error;
  }

  /** The write jobs among these noted as done (see written). */
  async doneJobs(jobIds: readonly string[]): Promise<Set<string>> {
    if (jobIds.length === 0) return new Set();
    const noted = await this.redis.mget(jobIds.map((id) => doneKey(this.prefix, id)));
    return new Set(jobIds.filter((_, index) => noted[index] === '1'));
  }

  /** True when the change reports exactly the version a write of tandem's made. */
  async isOwnWrite(change: ReportedChange): Promise<boolean> {
    const [own = false] = await this.ownWrites([change]);
    return own;
  }

  /** isOwnWrite of each change, in one round trip; a deletion is never an echo. */
  async ownWrites(changes: readonly ReportedChange[]): Promise<boolean[]> {
    const times = changes.map((change) =>
      change.deleted || change.occurredAt === undefined ? Number.NaN : Date.parse(change.occurredAt),
    );
    const asked = changes.flatMap((change, index) =>
      Number.isFinite(times[index]) ? [writtenKey(this.prefix, change.connector, change.entity, change.id)] : [],
    );
    // One key space per deployment (a hash tag on a cluster), so one MGET serves them all.
    const noted = asked.length > 0 ? await this.redis.mget(asked) : [];
    let next = 0;
    return times.map((at) => {
      if (!Number.isFinite(at)) return false;
      const value = noted[next++];
      return value !== null && value !== undefined && Number(value) === at;
    });
  }

  /** Notes that a plan of the contact, whose reads began at `readFrom` (epoch ms), succeeded. */
  async planned(contactId: string, readFrom: number): Promise<void> {
    await MAX_SET.run(this.redis, [plannedKey(this.prefix, contactId)], [readFrom, MARK_TTL_MS]);
  }

  /** True when a plan that succeeded began to read after the change was reported (with the margin). */
  async covers(contactId: string, reportedAt: number): Promise<boolean> {
    const noted = await this.redis.get(plannedKey(this.prefix, contactId));
    return noted !== null && reportedAt < Number(noted) - COVER_MARGIN_MS;
  }
}
