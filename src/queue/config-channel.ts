/**
 * Saved config versions announced on Redis (`<prefix>:config`): every process subscribes and
 * reloads the newest version from the store when it hears one (src/app/console/config-sync.ts).
 */
import type { ConfigVersionChannel } from '../app/ports/config-channel';
import { createRedis, type RedisConnection, type RedisTarget } from './redis';

/** The Redis channel a saved version is announced on. */
export const configChannelName = (prefix: string) => `${prefix}:config`;

/**
 * A channel over Redis pub/sub: announcements go out on `publisher`; each subscription opens a
 * connection of its own, since a subscribed connection can do nothing else. On a cluster a message
 * published on any node reaches the subscribers on every node, so the channel works there as is.
 */
export function redisConfigChannel(options: {
  redis: RedisTarget;
  /** The key prefix (see keyPrefix in ./redis.ts). */
  prefix: string;
  publisher: RedisConnection;
}): ConfigVersionChannel {
  const channel = configChannelName(options.prefix);
  return {
    async announce(version) {
      await options.publisher.publish(channel, String(version));
    },
    async subscribe(onAnnounced) {
      const subscriber = createRedis(options.redis);
      subscriber.on('message', (_channel: string, message: string) => onAnnounced(Number(message)));
      try {
        await subscriber.subscribe(channel);
      } catch (error) {
        subscriber.disconnect();
        throw error;
      }
      return {
        close() {
          subscriber.disconnect();
          return Promise.resolve();
        },
      };
    },
  };
}
