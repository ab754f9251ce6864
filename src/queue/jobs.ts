/**
 * Job payloads and their deterministic ids. A payload is parsed when a worker picks it up, so a
 * job written by an older or foreign producer fails with a clear reason instead of misbehaving.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CONNECTOR_SLOTS } from '../core/model';

/** Which configured connector a job concerns. */
export const connectorSlot = z.enum(CONNECTOR_SLOTS);

const entity = z.enum(['contact', 'customer', 'vendor', 'bankAccount']);

/** A change reported by a poll, a webhook or an operator: "this record may have changed". */
export const changeJob = z.object({
  connector: connectorSlot,
  entity,
  id: z.string().min(1),
  /** The provider's modification time of the change, when known (ISO 8601). */
  occurredAt: z.string().optional(),
  /** The provider's event id, when the change came from a webhook. */
  eventId: z.string().optional(),
  deleted: z.boolean().optional(),
  source: z.enum(['poll', 'webhook', 'manual']),
  /**
   * Reported by a connector's first poll (no cursor yet), which lists every existing record:
   * those are not new, so no automatic contact is created for them; link them by matching.
   */
  initial: z.boolean().optional(),
  /** The id of the HTTP request (webhook) that reported the change, carried into every log line of its jobs. */
  requestId: z.string().optional(),
});
export type ChangeJob = z.infer<typeof changeJob>;

/** One record's field writes. */
export const writeJob = z.object({
  connector: connectorSlot,
  entity,
  id: z.string().min(1),
  ifMatch: z.string().optional(),
  fields: z.record(z.string(), z.string().nullable()),
  planId: z.string(),
  /** The request id of the change that planned this write, for the write worker's log lines. */
  requestId: z.string().optional(),
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
  return safeId('chg', [change.connector, change.entity, change.id, change.deleted ? 'del' : '', stamp]);
}

/** One write per target record and plan. */
export function writeJobId(write: WriteJob): string {
  return safeId('w', [write.planId, write.connector, write.entity, write.id]);
}
