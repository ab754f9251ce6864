/**
 * Webhook subscriptions of the connectors that need them registered (Business Central): set up
 * when the API server starts and renewed before they expire; the console shows the next renewal.
 */
import type { Logger } from 'pino';
import type { Connector } from '../../connectors/kit/types';
import type { TandemConfig } from '../config/schema';
import { CONNECTOR_SLOTS, type ConnectorSlot } from '../core/model';
import { webhookPath } from '../http/webhooks';
import { recordSubscriptionRenewAt } from '../metrics/status-keys';
import type { RedisConnection } from '../queue/redis';

/** The renewals under way; stop() clears the pending ones. */
export interface Subscriptions {
  stop(): void;
}

/** Sets up the subscriptions of every connector with webhooks on that supports them. */
export async function keepSubscriptions(setup: {
  config: TandemConfig;
  connectors: Record<ConnectorSlot, Connector>;
  publicUrl: string;
  redis: RedisConnection;
  /** The prefix of tandem's Redis keys (see keyPrefix in src/queue/redis.ts). */
  keyPrefix: string;
  logger: Logger;
}): Promise<Subscriptions> {
  const { config, logger } = setup;
  const timers = new Set<NodeJS.Timeout>();
  const later = (delayMs: number, run: () => Promise<void>) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      void run();
    }, delayMs);
    timer.unref();
    timers.add(timer);
  };
  for (const slot of CONNECTOR_SLOTS) {
    const connector = setup.connectors[slot];
    const ensure = connector.ensureSubscriptions?.bind(connector);
    if (!ensure || !config.connectors[slot].webhooks) continue;
    const notificationUrl = new URL(webhookPath(slot), setup.publicUrl).toString();
    const renew = async () => {
      try {
        const { renewAt } = await ensure(notificationUrl);
        logger.info({ connector: connector.name, renewAt }, 'webhook subscriptions in place');
        if (renewAt) {
          await recordSubscriptionRenewAt(setup.redis, setup.keyPrefix, slot, renewAt).catch((error: unknown) =>
            logger.warn({ err: error }, 'could not record the subscription renewal time'),
          );
          later(Math.min(Math.max(Date.parse(renewAt) - Date.now(), 60_000), 2 ** 31 - 1), renew);
        }
      } catch (error) {
        // Polling still sees every change; retry the subscription in a few minutes.
        logger.warn(
          { connector: connector.name, err: error },
          'could not set up webhook subscriptions; relying on polling',
        );
        later(5 * 60_000, renew);
      }
    };
    await renew();
  }
  return {
    stop() {
      timers.forEach((timer) => clearTimeout(timer));
      timers.clear();
    },
  };
}
