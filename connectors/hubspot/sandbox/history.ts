/**
 * The sandbox's per-property history, as HubSpot keeps it: every value a property took, when and
 * by what, newest first, answered under `propertiesWithHistory` when a read asks for it.
 * https://developers.hubspot.com/docs/api/crm/understanding-the-crm#retrieve-records
 */
import { z } from 'zod';
import type { ChangedBy } from '../../kit/sandbox/records';
import { SANDBOX_APP_ID } from './webhooks';

/** The most values the sandbox keeps per property; older ones are dropped. */
export const MAX_HISTORY_ENTRIES = 20;

/** HubSpot's limit on a batch read that asks for `propertiesWithHistory`. */
export const MAX_HISTORY_BATCH_INPUTS = 50;

// The sandbox's one UI user; API writes come from the app its webhooks name.
const SANDBOX_USER_ID = 1_000_001;

const entrySchema = z.object({
  value: z.string(),
  /** Epoch ms: the record's modification time of the change. */
  timestamp: z.number(),
  sourceType: z.string(),
  sourceId: z.string().optional(),
  updatedByUserId: z.number().optional(),
});

/** One value of a property, as stored. */
export type HistoryEntry = z.infer<typeof entrySchema>;

/** A stored company or contact: its properties without the system ones, and their history. */
export const portalFieldsSchema = z.object({
  properties: z.record(z.string(), z.string()),
  history: z.record(z.string(), z.array(entrySchema)),
});
export type PortalFields = z.infer<typeof portalFieldsSchema>;

/** Where a change came from, as HubSpot's history reports it. */
function sourceOf(by: ChangedBy): Omit<HistoryEntry, 'value' | 'timestamp'> {
  return by === 'user'
    ? { sourceType: 'CRM_UI', sourceId: `userId:${SANDBOX_USER_ID}`, updatedByUserId: SANDBOX_USER_ID }
    : { sourceType: 'INTEGRATION', sourceId: String(SANDBOX_APP_ID) };
}

/**
 * The history after a change at `at` (epoch ms): a new newest entry for each property whose value
 * differs from `before` ('' for a cleared one), at most MAX_HISTORY_ENTRIES per property.
 */
export function withChanges(
  history: PortalFields['history'],
  before: Record<string, string>,
  written: Record<string, string>,
  at: number,
  by: ChangedBy,
): PortalFields['history'] {
  const next = { ...history };
  for (const [name, value] of Object.entries(written)) {
    if ((before[name] ?? '') === value) continue;
    const entry: HistoryEntry = { value, timestamp: at, ...sourceOf(by) };
    next[name] = [entry, ...(history[name] ?? [])].slice(0, MAX_HISTORY_ENTRIES);
  }
  return next;
}

/** The history of the requested properties as HubSpot answers it; properties never set have none. */
export function historyView(history: PortalFields['history'], requested: readonly string[]) {
  const answer: Record<string, Array<Omit<HistoryEntry, 'timestamp'> & { timestamp: string }>> = {};
  for (const name of requested) {
    const entries = history[name];
    if (entries && entries.length > 0)
      answer[name] = entries.map((entry) => ({ ...entry, timestamp: new Date(entry.timestamp).toISOString() }));
  }
  return answer;
}

const flatRecordSchema = z.looseObject({ updatedAt: z.number(), fields: z.record(z.string(), z.string()) });
const stateFileSchema = z.looseObject({ collections: z.record(z.string(), z.array(z.unknown())) });

/**
 * Turns a state file written before the sandbox kept history (fields were the properties alone)
 * into this shape: each property gets one entry at the record's modification time. Records
 * already in this shape, and files the store will refuse anyway, are left as they are.
 */
export function upgradeState(saved: unknown): unknown {
  const file = stateFileSchema.safeParse(saved);
  if (!file.success) return saved;
  const upgrade = (record: unknown): unknown => {
    const flat = flatRecordSchema.safeParse(record);
    if (!flat.success) return record;
    const { fields, updatedAt } = flat.data;
    // Who made those changes is not known: HubSpot reports data it moved in as MIGRATION.
    const history = Object.fromEntries(
      Object.entries(fields).map(([name, value]) => [name, [{ value, timestamp: updatedAt, sourceType: 'MIGRATION' }]]),
    );
    return { ...flat.data, fields: { properties: fields, history } };
  };
  const collections = Object.fromEntries(
    Object.entries(file.data.collections).map(([name, records]) => [name, records.map(upgrade)]),
  );
  return { ...file.data, collections };
}
