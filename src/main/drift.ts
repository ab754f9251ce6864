/**
 * The drift sweep in the daemon: on the configured schedule in the `all` and `scheduler` roles,
 * and on demand (the admin API, `tandem drift`) in any role. One sweep runs at a time across
 * every process (a Redis lock); its progress and its last report are kept in Redis, so any
 * process answers for it. Each side's reads are paced to the configured share of the provider's
 * request ceiling; repairs go to the intake queue as changes with source `drift`.
 */
import type { Logger } from 'pino';
import { withPriority } from '../../connectors/kit/priority';
import type { Connector } from '../../connectors/kit/types';
import { driftIntervalMs, pacer, sweepDrift } from '../app/drift';
import type { DriftControl, DriftProgress, DriftReport, DriftStatus } from '../app/ports/drift';
import type { Engine } from '../app/ports/index';
import type { TandemConfig } from '../config/schema';
import { CONNECTOR_SLOTS, type ConnectorSlot } from '../core/model';
import type { Metrics } from '../metrics/metrics';
import { type HeldLock, tryLock } from '../queue/lock';
import type { SyncQueues } from '../queue/queues';
import type { RedisConnection } from '../queue/redis';

/** What the sweeps run with. */
export interface DriftSetup {
  engine: Engine;
  config: TandemConfig;
  connectors: Record<ConnectorSlot, Connector>;
  queues: SyncQueues;
  redis: RedisConnection;
  /** The prefix of tandem's Redis keys (see keyPrefix in src/queue/redis.ts). */
  keyPrefix: string;
  metrics: Metrics;
  logger: Logger;
  /** Sweep on the configured schedule (otherwise only when asked). */
  onSchedule: boolean;
}

/** The daemon's sweeps: started on demand or on schedule, stopped with the daemon. */
export interface DaemonDrift extends DriftControl {
  /** Runs a sweep now and resolves with its report; null when another process is sweeping. */
  runNow(): Promise<DriftReport | null>;
  stop(): Promise<void>;
}

/** The Redis keys of the sweep's lock, progress and last report (read together: one slot on a cluster). */
const driftKeys = (prefix: string) => ({
  lock: `${prefix}:lock:drift`,
  running: `${prefix}:drift:running`,
  last: `${prefix}:drift:last`,
});

/** Reads the sweep's state as kept in Redis, whichever process runs it. */
export function redisDriftStatus(redis: RedisConnection, prefix: string): () => Promise<DriftStatus> {
  const keys = driftKeys(prefix);
  return async () => {
    const [running, last] = await redis.mget(keys.running, keys.last);
    return {
      running: running ? (JSON.parse(running) as DriftProgress) : null,
      last: last ? (JSON.parse(last) as DriftReport) : null,
    };
  };
}

/** How long the sweep's lock is held without renewal; renewed while it runs. */
const LOCK_LEASE_MS = 60_000;

/** Sets up the sweeps. */
export function startDrift(setup: DriftSetup): DaemonDrift {
  const { config, redis, logger } = setup;
  const prefix = setup.keyPrefix;
  const keys = driftKeys(prefix);
  const stopping = new AbortController();
  let current: Promise<DriftReport> | null = null;
  const status = redisDriftStatus(redis, prefix);

  async function sweep(lock: HeldLock, startedAt: string): Promise<DriftReport> {
    const share = config.drift.share;
    const pace = Object.fromEntries(
      CONNECTOR_SLOTS.map((slot) => [
        slot,
        pacer(driftIntervalMs(setup.connectors[slot], config.connectors[slot].rateLimit, share)),
      ]),
    ) as Record<ConnectorSlot, () => Promise<void>>;
    const progress = (done: number, total: number) => {
      const value: DriftProgress = { startedAt, done, total };
      // Expires on its own if this process dies mid-sweep.
      redis.set(keys.running, JSON.stringify(value), 'PX', LOCK_LEASE_MS * 2).catch(() => undefined);
    };
    try {
      const report = await sweepDrift(setup.engine, {
        pace,
        signal: stopping.signal,
        progress,
        repair: (contactIds) =>
          setup.queues.enqueueChanges(
            contactIds.map((id) => ({
              connector: 'crm' as const,
              entity: 'contact' as const,
              id,
              source: 'drift' as const,
              eventId: `drift-${startedAt}`,
            })),
          ),
      });
      await redis.set(keys.last, JSON.stringify(report));
      setup.metrics.driftSwept(report);
      return report;
    } finally {
      await redis.del(keys.running).catch(() => undefined);
      await lock.release();
    }
  }

  /** Takes the sweep's lock and starts a sweep in the background; null when one is running anywhere. */
  async function begin(): Promise<{ run: Promise<DriftReport> } | null> {
    if (current) return null;
    const lock = await tryLock(redis, keys.lock, LOCK_LEASE_MS);
    if (!lock) return null;
    const startedAt = new Date().toISOString();
    // Marked running before it starts, so a status read right after sees it.
    const progress: DriftProgress = { startedAt, done: 0, total: 0 };
    await redis.set(keys.running, JSON.stringify(progress), 'PX', LOCK_LEASE_MS * 2);
    // Bulk work, even when an admin asked for it: the sweep must not take interactive calls' turn.
    const run = withPriority('bulk', () => sweep(lock, startedAt)).finally(() => {
      current = null;
    });
    current = run;
    // Wrapped: an async function would wait for a promise it returns.
    return { run };
  }

  const runNow = async (): Promise<DriftReport | null> => {
    const begun = await begin();
    return begun ? await begun.run : null;
  };

  const every = config.drift.every;
  const timer =
    setup.onSchedule && every !== null
      ? setInterval(() => {
          runNow().catch((error: unknown) => logger.warn({ err: error }, 'drift sweep failed'));
        }, every)
      : undefined;
  timer?.unref();

  return {
    runNow,
    status,
    async start() {
      const begun = await begin();
      begun?.run.catch((error: unknown) => logger.warn({ err: error }, 'drift sweep failed'));
      return { started: begun !== null, status: await status() };
    },
    async stop() {
      clearInterval(timer);
      stopping.abort();
      if (current) await current.catch(() => undefined);
    },
  };
}
