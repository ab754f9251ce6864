/**
 * A change reported by a poll, a webhook or an operator, as the intake queue carries it and the
 * intake use case (src/app/intake.ts) takes it. Parsed when a worker picks it up, so a job written
 * by an older or foreign producer fails with a clear reason instead of misbehaving.
 */
import { z } from 'zod';
import { CONNECTOR_SLOTS } from '../../core/model';

/** Which configured connector a job concerns. */
export const connectorSlot = z.enum(CONNECTOR_SLOTS);

/** The entity a change or a write concerns. */
export const entity = z.enum(['contact', 'customer', 'vendor', 'bankAccount']);

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
/** A change job's payload. */
export type ChangeJob = z.infer<typeof changeJob>;
