/**
 * The demo's Redis: the one at REDIS_URL when it answers, else a private redis-server on a free
 * port (no persistence), stopped when the demo exits.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { probeRedis, RedisUnavailableError } from '../queue/redis';
import { freePort, waitFor } from '../util/net';

/** A Redis the demo can use. */
export interface DemoRedis {
  url: string;
  /** Whether the demo started it (and so stops it). */
  private: boolean;
  stop(): Promise<void>;
}

/** Finds or starts a Redis; throws RedisUnavailableError with advice when neither works. */
export async function demoRedis(url: string): Promise<DemoRedis> {
  try {
    await probeRedis(url, 1000);
    return { url, private: false, stop: () => Promise.resolve() };
  } catch (error) {
    if (!(error instanceof RedisUnavailableError)) throw error;
    if (spawnSync('redis-server', ['--version']).error) {
      throw new RedisUnavailableError(
        url,
        'nothing answers and no redis-server is on the PATH; install Redis (apt-get install redis-server) or set REDIS_URL',
      );
    }
  }
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const privateUrl = `redis://127.0.0.1:${port}`;
  await waitFor(
    async () =>
      probeRedis(privateUrl, 500).then(
        () => true,
        () => false,
      ),
    10_000,
    100,
  );
  return {
    url: privateUrl,
    private: true,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}
