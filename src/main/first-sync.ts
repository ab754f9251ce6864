/**
 * The first sync in the daemon: started on demand (the admin API, `tandem first-sync`) in any
 * role, and resumed at start in the `all` and `scheduler` roles when a run was left unfinished by
 * a stop or a crash. One run at a time across every process (a Redis lock); its progress and its
 * last report are kept in Redis, so any process answers for it, and its plan and items in the
 * store, so it survives the process. Each side's reads are paced to a share of the provider's
 * request ceiling; the links' writes go through the write queues like every other write.
 */
import type { Logger } from 'pino';
import type { Connector } from '../../connectors/kit/types';
import { driftIntervalMs, pacer } from '../app/drift';
import { checkFirstSyncOptions, runFirstSync } from '../app/first-sync';
import type {
  FirstSyncControl,
  FirstSyncOptions,
  FirstSyncProgress,
  FirstSyncReport,
  FirstSyncStatus,
} from '../app/ports/first-sync';
import type { Engine } from '../app/ports/index';
import type { TandemConfig } from '../config/schema';
import { CONNECTOR_SLOTS, type ConnectorSlot } from '../core/model';
import { type HeldLock, tryLock } from '../queue/lock';
import type { RedisConnection } from '../queue/redis';

/** What the runs work with. */
export interface FirstSyncSetup {
  engine: Engine;
  config: TandemConfig;
  connectors: Record<ConnectorSlot, Connector>;
  redis: RedisConnection;
  /** The prefix of tandem's Redis keys (see keyPrefix in src/queue/redis.ts). */
  keyPrefix: string;
  logger: Logger;
  /** Resume an unfinished run at start (otherwise only when asked). */
  resumeAtStart: boolean;
}

/** The daemon's first syncs: started on demand, stopped with the daemon. */
export interface DaemonFirstSync extends FirstSyncControl {
  /** Runs one now and resolves with its report; null when another process runs one. */
  runNow(options: FirstSyncOptions): Promise<FirstSyncReport | null>;
  stop(): Promise<void>;
}

/**
 * The share of each provider's request ceiling the run's reads may use. Larger than the drift
 * sweep's: the first sync is the work of the day when it runs, yet it leaves half to the sync.
 */
export const FIRST_SYNC_SHARE = 0.5;

/** The Redis keys of the run's lock, progress and last report (read together: one slot on a cluster). */
const firstSyncKeys = (prefix: string) => ({
  lock: `${prefix}:lock:first-sync`,
  running: `${prefix}:first-sync:running`,
  last: `${prefix}:first-sync:last`,
});

/** Reads the first sync's state as kept in Redis, whichever process runs it. */
export function redisFirstSyncStatus(redis: RedisConnection, prefix: string): () => Promise<FirstSyncStatus> {
  const keys = firstSyncKeys(prefix);
  return async () => {
    const [running, last] = await redis.mget(keys.running, keys.last);
    return {
      running: running ? (JSON.parse(running) as FirstSyncProgress) : null,
      last: last ? (JSON.parse(last) as FirstSyncReport) : null,
    };
  };
}

/** How long the run's lock is held without renewal; renewed while it runs. */
const LOCK_LEASE_MS = 60_000;

/** Sets up the first syncs. */
export function startFirstSync(setup: FirstSyncSetup): DaemonFirstSync {
  const { config, redis, logger, engine } = setup;
  const keys = firstSyncKeys(setup.keyPrefix);
  const stopping = new AbortController();
  let current: Promise<FirstSyncReport> | null = null;
  const status = redisFirstSyncStatus(redis, setup.keyPrefix);

  async function run(lock: HeldLock, options: FirstSyncOptions): Promise<FirstSyncReport> {
    const pace = Object.fromEntries(
      CONNECTOR_SLOTS.map((slot) => [
        slot,
        pacer(driftIntervalMs(setup.connectors[slot], config.connectors[slot].rateLimit, FIRST_SYNC_SHARE)),
      ]),
    ) as Record<ConnectorSlot, () => Promise<void>>;
    const progress = (value: FirstSyncProgress) => {
      // Expires on its own if this process dies mid-run.
      redis.set(keys.running, JSON.stringify(value), 'PX', LOCK_LEASE_MS * 2).catch(() => undefined);
    };
    try {
      const report = await runFirstSync(
        engine,
        { pace, progress, signal: stopping.signal, actor: { name: 'first-sync' } },
        options,
      );
      await redis.set(keys.last, JSON.stringify(report));
      return report;
    } finally {
      await redis.del(keys.running).catch(() => undefined);
      await lock.release();
    }
  }

  /** Takes the lock and starts a run in the background; null when one is running anywhere. */
  async function begin(options: FirstSyncOptions): Promise<{ run: Promise<FirstSyncReport> } | null> {
    // A bad option is refused here, to the caller, not found later in the background.
    checkFirstSyncOptions(engine, options);
    if (current) return null;
    const lock = await tryLock(redis, keys.lock, LOCK_LEASE_MS);
    if (!lock) return null;
    // Marked running before it starts, so a status read right after sees it.
    const progress: FirstSyncProgress = {
      startedAt: new Date().toISOString(),
      dryRun: options.dryRun,
      phase: 'reading',
      read: { crm: 0, accounting: 0 },
      done: 0,
      total: 0,
    };
    await redis.set(keys.running, JSON.stringify(progress), 'PX', LOCK_LEASE_MS * 2);
    const started = run(lock, options).finally(() => {
      current = null;
    });
    current = started;
    // Wrapped: an async function would wait for a promise it returns.
    return { run: started };
  }

  const runNow = async (options: FirstSyncOptions): Promise<FirstSyncReport | null> => {
    const begun = await begin(options);
    return begun ? await begun.run : null;
  };

  if (setup.resumeAtStart) {
    // The options of an unfinished run are its own: the stored plan is resumed as it is.
    engine.store
      .openFirstSyncRun()
      .then((open) => (open && !stopping.signal.aborted ? begin({ dryRun: false }) : null))
      .then((begun) => {
        begun?.run.catch((error: unknown) => logger.warn({ err: error }, 'first sync failed'));
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'could not resume the unfinished first sync'));
  }

  return {
    runNow,
    status,
    async start(options) {
      const begun = await begin(options);
      begun?.run.catch((error: unknown) => logger.warn({ err: error }, 'first sync failed'));
      return { started: begun !== null, status: await status() };
    },
    async stop() {
      stopping.abort();
      if (current) await current.catch(() => undefined);
    },
  };
}
