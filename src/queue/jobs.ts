/**
 * Job payloads and their deterministic ids. A payload is parsed when a worker picks it up, so a
 * job written by an older or foreign producer fails with a clear reason instead of misbehaving.
 * A change job's payload is the app's reported change (src/app/ports/changes.ts).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { connectorSlot, entity, type ChangeJob } from '../app/ports/changes';

/** One record's field writes. */
export const writeJob = z.object({
  connector: connectorSlot,
  entity,
  id: z.string().min(1),
  ifMatch: z.string().optional(),
  fields: z.record(z.string(), z.string().nullable()),
  /**
   * Where the target has no etag (no `ifMatch`): the values the plan read for the fields it
   * changes. The worker reads them again just before writing and refuses on a difference.
   */
  expected: z.record(z.string(), z.string().nullable()).optional(),
  /** When each written value was edited on the side it comes from (see Store.recordCarried). */
  sources: z.record(z.string(), z.string()).optional(),
  planId: z.string(),
  /**
   * The planner's fencing token (see contact-lock.ts). A job without one, or with one that is no
   * longer the contact's newest, is refused unwritten and the contact planned again.
   */
  fence: z.object({ contactId: z.string().min(1), token: z.string().min(1) }).optional(),
  /** The request id of the change that planned this write, for the write worker's log lines. */
  requestId: z.string().optional(),
  /** Planned for someone waiting (an admin's link or undo): its provider calls go ahead of bulk work. */
  priority: z.enum(['interactive', 'bulk']).optional(),
});
export type WriteJob = z.infer<typeof writeJob>;

/** BullMQ reserves ':' in custom ids; long ids are hashed to keep Redis keys short. */
function safeId(prefix: string, parts: string[]): string {
  const joined = parts.join('-').replace(/[^A-Za-z0-9._-]/g, '_');
  if (joined.length <= 160) return `${prefix}-${joined}`;
  return `${prefix}-${createHash('sha256').update(joined).digest('hex').slice(0, 40)}`;
}

/**
 * The same change reported twice (by a webhook and a poll, or a provider's retry) gets the same
 * id, so BullMQ keeps one job. The modification time identifies the change; without one, the
 * provider's event id does.
 */
export function changeJobId(change: ChangeJob): string {
  // A time that does not parse would give every such change the same id ('NaN'), dropping all but the first.
  const time = change.occurredAt ? Date.parse(change.occurredAt) : Number.NaN;
  const stamp = Number.isFinite(time) ? String(time) : change.eventId ? `e${change.eventId}` : `t${Date.now()}`;
  const kind = change.mergedInto !== undefined ? `m${change.mergedInto}` : change.deleted ? 'del' : '';
  return safeId('chg', [change.connector, change.entity, change.id, kind, stamp]);
}

/**
 * One write per target record and plan execution. The fencing token is part of it: a plan run
 * again after its process was killed (a stalled job keeps its attempt count, so its plan id) gets
 * a new token, and must not take the earlier run's finished write job, which wrote what the
 * earlier run planned, for the confirmation of its own.
 */
export function writeJobId(write: WriteJob): string {
  return safeId('w', [
    write.planId,
    ...(write.fence ? [`f${write.fence.token}`] : []),
    write.connector,
    write.entity,
    write.id,
  ]);
}
