/**
 * Redis keys the console's overview reads: when each connector last polled without error, and
 * when its webhook subscriptions are due for renewal. Written by the poller and the daemon.
 */
import type { RedisConnection } from '../queue/redis';
import type { ConnectorActivity } from '../app/ports/connector-activity';
import type { ConnectorSlot } from '../core/model';

/** The key holding the ISO time of a connector's last successful poll. */
export const lastPollKey = (prefix: string, slot: ConnectorSlot) => `${prefix}:poll:last:${slot}`;

/** The key holding the ISO time a connector's webhook subscriptions are renewed next. */
export const subscriptionRenewKey = (prefix: string, slot: ConnectorSlot) => `${prefix}:webhooks:renewAt:${slot}`;

/** Records that a poll of the connector completed without error. */
export async function recordSuccessfulPoll(
  redis: RedisConnection,
  prefix: string,
  slot: ConnectorSlot,
  at: Date = new Date(),
): Promise<void> {
  await redis.set(lastPollKey(prefix, slot), at.toISOString());
}

/** When the connector last polled without error (ISO 8601), or null if never. */
export async function lastSuccessfulPoll(
  redis: RedisConnection,
  prefix: string,
  slot: ConnectorSlot,
): Promise<string | null> {
  return redis.get(lastPollKey(prefix, slot));
}

/** Records when the connector's webhook subscriptions are renewed next. */
export async function recordSubscriptionRenewAt(
  redis: RedisConnection,
  prefix: string,
  slot: ConnectorSlot,
  renewAt: string,
): Promise<void> {
  await redis.set(subscriptionRenewKey(prefix, slot), renewAt);
}

/** When the connector's webhook subscriptions are renewed next (ISO 8601), or null if unknown. */
export async function subscriptionRenewAt(
  redis: RedisConnection,
  prefix: string,
  slot: ConnectorSlot,
): Promise<string | null> {
  return redis.get(subscriptionRenewKey(prefix, slot));
}

/** The keys as the console's ConnectorActivity port. */
export function redisConnectorActivity(redis: RedisConnection, prefix: string): ConnectorActivity {
  return {
    lastSuccessfulPoll: (slot) => lastSuccessfulPoll(redis, prefix, slot),
    subscriptionRenewAt: (slot) => subscriptionRenewAt(redis, prefix, slot),
  };
}
