/**
 * Saved config versions announced on Redis (`<prefix>:config`): every process subscribes and
 * reloads the newest version from the store when it hears one (src/app/console/config-sync.ts).
 */
import type { Redis } from 'ioredis';
import type { ConfigVersionChannel } from '../app/ports/config-channel';
import { createRedis } from './redis';

/** The Redis channel a saved version is announced on. */
export const configChannelName = (prefix: string) => `${prefix}:config`;

/**
 * A channel over Redis pub/sub: announcements go out on `publisher`; each subscription opens a
 * connection of its own, since a subscribed connection can do nothing else.
 */
export function redisConfigChannel(options: {
  redisUrl: string;
  prefix: string;
  publisher: Redis;
}): ConfigVersionChannel {
  const channel = configChannelName(options.prefix);
  return {
    async announce(version) {
      await options.publisher.publish(channel, String(version));
    },
    async subscribe(onAnnounced) {
      const subscriber = createRedis(options.redisUrl);
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
