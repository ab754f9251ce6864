/**
 * Keeps every process on the config version in force. The stored version of the editable
 * sections wins over the file's once one is saved: applied at start (applyStoredConfig), and
 * again whenever a console saves a new one, announced on the config channel (Redis pub/sub in
 * the daemon). Every process reloads the newest version from the store, so a missed message is
 * caught up by the next one or by the periodic check.
 */
import type { Logger } from 'pino';
import { ConfigError } from '../../config/load';
import { mergeEditable } from '../../config/editable';
import type { TandemConfig } from '../../config/schema';
import { unsupportedMappings } from '../check-mappings';
import type { ConfigVersionChannel } from '../ports/config-channel';
import type { Engine } from '../ports/index';

const applied = new WeakMap<Engine, number>();

/** The stored version this engine runs with, or null while it runs the file's sections. */
export function appliedVersion(engine: Engine): number | null {
  return applied.get(engine) ?? null;
}

/** Puts a merged config in force in this process (never an older version over a newer one). */
export function applyConfig(engine: Engine, config: TandemConfig, version: number): boolean {
  if ((applied.get(engine) ?? 0) >= version) return false;
  engine.config = config;
  applied.set(engine, version);
  return true;
}

/** Applies the newest stored version, if any; a version these connectors cannot serve stops the start. */
export async function applyStoredConfig(engine: Engine): Promise<number | null> {
  const latest = await engine.store.latestConfigVersion();
  if (latest === null) return null;
  const where = `config version ${latest.version} (saved from the console by ${latest.savedBy})`;
  const merged = mergeEditable(engine.config, latest.yaml);
  if (!merged.ok)
    throw new ConfigError(
      where,
      merged.problems.map((problem) => `${problem.path}: ${problem.message}`),
    );
  const unsupported = unsupportedMappings(merged.config, engine.crm, engine.accounting);
  if (unsupported.length > 0) throw new ConfigError(where, unsupported);
  applyConfig(engine, merged.config, latest.version);
  return latest.version;
}

/** Reloads the newest stored version into the engine when it is newer than the one in force. */
export async function reloadStoredConfig(engine: Engine, logger: Logger = engine.logger): Promise<void> {
  const latest = await engine.store.latestConfigVersion();
  if (latest === null || latest.version <= (applied.get(engine) ?? 0)) return;
  const merged = mergeEditable(engine.config, latest.yaml);
  if (!merged.ok) {
    logger.error(
      { version: latest.version, problems: merged.problems },
      'stored config version is not valid here; keeping the one in force',
    );
    return;
  }
  if (applyConfig(engine, merged.config, latest.version))
    logger.info({ version: latest.version }, 'config version applied');
}

/** A running subscription. */
export interface ConfigSync {
  stop(): Promise<void>;
}

/** Subscribes to saved versions and swaps the engine's config; checks the store every `checkEveryMs` too. */
export async function startConfigSync(
  engine: Engine,
  channel: ConfigVersionChannel,
  options: { checkEveryMs?: number } = {},
): Promise<ConfigSync> {
  let running: Promise<void> = Promise.resolve();
  // One reload at a time, in order of the messages.
  const reload = () => {
    running = running
      .then(() => reloadStoredConfig(engine))
      .catch((error: unknown) => engine.logger.warn({ err: error }, 'could not reload the stored config'));
  };
  const subscription = await channel.subscribe(reload);
  const timer = setInterval(reload, options.checkEveryMs ?? 30_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await subscription.close();
      await running;
    },
  };
}
