/**
 * What the pollers and the webhook subscriptions record for the console's overview: when each
 * connector last polled without error, and when its subscriptions are renewed next (kept in
 * Redis by the daemon: src/metrics/status-keys.ts).
 */
import type { ConnectorSlot } from '../../core/model';

/** Reads what the pollers and the subscriptions recorded. */
export interface ConnectorActivity {
  /** When the connector last polled every entity without error (stored as ISO text or epoch milliseconds), or null. */
  lastSuccessfulPoll(slot: ConnectorSlot): Promise<string | null>;
  /** When the connector's webhook subscriptions are renewed next, or null when unknown. */
  subscriptionRenewAt(slot: ConnectorSlot): Promise<string | null>;
}
