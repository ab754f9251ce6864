/**
 * Redis connections, to one Redis or to a Redis Cluster. BullMQ workers need
 * `maxRetriesPerRequest: null`; the start-up probe must not retry at all, so an unreachable Redis
 * gives one clear line instead of a loop of stack traces.
 *
 * On a cluster every key carries one hash tag (keyPrefix), so that BullMQ's multi-key scripts and
 * tandem's fenced lock, which name several keys at once, find them all in one slot.
 */
import IORedis, { Cluster, type ClusterOptions, type Redis, type RedisOptions } from 'ioredis';
import { ConfigError } from '../config/load';

/** A connection to tandem's Redis: one server, or a Redis Cluster. */
export type RedisConnection = Redis | Cluster;

/** Where tandem's Redis is (REDIS_URL and REDIS_CLUSTER). */
export interface RedisTarget {
  /** One Redis URL; for a cluster, one or more of its nodes separated by commas (seed nodes). */
  readonly url: string;
  /** A Redis Cluster: connections follow its slots, and every key carries one hash tag. */
  readonly cluster: boolean;
}

/** The Redis URL in force: REDIS_URL, or the local default. */
export function redisUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.REDIS_URL && env.REDIS_URL.trim() !== '' ? env.REDIS_URL : 'redis://127.0.0.1:6379';
}

const YES = ['true', 'yes', '1'];
const NO = ['false', 'no', '0', ''];

/** Whether REDIS_CLUSTER says REDIS_URL is a Redis Cluster (default no); a value not meaning yes or no is refused. */
export function redisCluster(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.REDIS_CLUSTER ?? '').trim().toLowerCase();
  if (YES.includes(value)) return true;
  if (NO.includes(value)) return false;
  throw new ConfigError('REDIS_CLUSTER', [`'${env.REDIS_CLUSTER}' is neither true nor false`]);
}

/**
 * Checks a URL and a cluster flag and makes them a target; throws ConfigError naming REDIS_URL
 * when the URL cannot be used that way (a list of nodes without a cluster, a bad seed node).
 */
export function redisTarget(url: string, cluster = false): RedisTarget {
  if (!cluster && url.includes(',')) {
    throw new ConfigError('REDIS_URL', [
      `'${redactUrl(url)}' lists several nodes, which only a Redis Cluster has: set REDIS_CLUSTER=true`,
    ]);
  }
  // Read for its checks only: connections read it again, the target stays as given.
  if (cluster) seedNodes(url);
  return { url, cluster };
}

/**
 * The prefix of every key tandem and BullMQ use, from the configured `queue.prefix`. On a cluster
 * it is a hash tag, `{tandem}`: the cluster places a key by the tag alone, so the keys of a queue
 * (which BullMQ's scripts use together) and a contact's lock and fence counter (taken together,
 * see ./lock.ts) are in one slot. One master then serves all of one tandem's keys. A single Redis
 * keeps the prefix as it is, and with it the keys existing deployments have.
 */
export function keyPrefix(prefix: string, target: RedisTarget): string {
  return target.cluster ? `{${prefix}}` : prefix;
}

/** A URL with its password masked, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:@/,]*:)[^@/,]*@/g, '$1***@');
}

/** A cluster's seed nodes, and what every node of it is connected with (credentials, TLS). */
interface SeedNodes {
  nodes: Array<{ host: string; port: number }>;
  redisOptions: RedisOptions;
  tls: boolean;
}

const refuseUrl = (problem: string) => new ConfigError('REDIS_URL', [problem]);
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** One seed node of a cluster URL, and whether it was given bare (`host:port`). */
function seedNode(entry: string, first: boolean): { node: URL; bare: boolean } {
  const bare = !HAS_SCHEME.test(entry) && !first;
  let node: URL;
  try {
    node = new URL(bare ? `redis://${entry}` : entry);
  } catch {
    throw refuseUrl(`'${redactUrl(entry)}' is not a URL (redis://host:port or rediss://host:port)`);
  }
  if (node.protocol !== 'redis:' && node.protocol !== 'rediss:')
    throw refuseUrl(`'${redactUrl(entry)}' is not a redis:// or rediss:// URL`);
  if (node.pathname !== '' && node.pathname !== '/' && node.pathname !== '/0')
    throw refuseUrl(`'${redactUrl(entry)}' names a database; a Redis Cluster has database 0 only`);
  return { node, bare };
}

/**
 * Reads the seed nodes of a cluster URL: `redis://` or `rediss://` (TLS) URLs separated by commas.
 * Credentials and TLS are the cluster's, for every node it names, not only the seeds: they are
 * given once, in the first URL; the others may be bare `host:port`, or repeat them unchanged.
 */
function seedNodes(url: string): SeedNodes {
  const entries = url.split(',').map((entry) => entry.trim());
  if (entries.includes('')) throw refuseUrl(`'${redactUrl(url)}' has an empty entry`);
  const seeds = entries.map((entry, index) => seedNode(entry, index === 0));
  const first = (seeds[0] as { node: URL }).node;
  const differs = ({ node, bare }: { node: URL; bare: boolean }) =>
    !bare && (node.protocol !== first.protocol || node.username !== first.username || node.password !== first.password);
  if (seeds.some(differs))
    throw refuseUrl(`'${redactUrl(url)}' gives its nodes different credentials or TLS; a cluster has one of each`);
  const tls = first.protocol === 'rediss:';
  const redisOptions: RedisOptions = {
    ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
    ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
    ...(tls ? { tls: {} } : {}),
  };
  const nodes = seeds.map(({ node }) => ({
    host: node.hostname.replace(/^\[|\]$/g, ''),
    port: node.port === '' ? 6379 : Number(node.port),
  }));
  return { nodes, redisOptions, tls };
}

/**
 * The options of a cluster connection. With TLS, nodes are connected by the names they are known
 * by rather than by the addresses those resolve to, so each certificate matches its name (AWS
 * ElastiCache and MemoryDB announce names).
 */
function clusterOptions(seeds: SeedNodes, redisOptions: RedisOptions, options: ClusterOptions = {}): ClusterOptions {
  return {
    enableReadyCheck: true,
    ...(seeds.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
    ...options,
    redisOptions: { ...seeds.redisOptions, ...redisOptions },
  };
}

/** Redis could not be reached, or used as asked, at start. */
export class RedisUnavailableError extends Error {
  readonly code = 'REDIS_UNAVAILABLE';
  /** The URL, its password masked. */
  readonly url: string;
  /** `problem` says what is wrong with the Redis at a URL; `reason` why, in a few words. */
  constructor(
    url: string,
    reason: string,
    advice = DEFAULT_ADVICE,
    problem = (at: string) => `cannot reach Redis at ${at}`,
  ) {
    super(`${problem(redactUrl(url))} (${reason}). ${advice}`);
    this.name = 'RedisUnavailableError';
    this.url = redactUrl(url);
  }
}

const DEFAULT_ADVICE =
  `Start one with 'redis-server --port 6379 --save "" --appendonly no', ` + 'or point REDIS_URL at a running Redis.';
const CLUSTER_ADVICE =
  'Point REDIS_URL at one or more nodes of a running Redis Cluster, or unset REDIS_CLUSTER for a single Redis.';

/** Why a connection failed, in a few words. */
const reasonOf = (error: unknown) => (error as NodeJS.ErrnoException).code ?? (error as Error).message;

/**
 * Connects once, pings, and throws RedisUnavailableError when that fails within `timeoutMs`. A
 * URL string is a single Redis; on a cluster, also when the server is not in cluster mode, not
 * every slot is served, or a master cannot be reached at the address the cluster gives for it.
 */
export async function probeRedis(target: RedisTarget | string, timeoutMs = 2000): Promise<void> {
  if (typeof target !== 'string' && target.cluster) return probeCluster(target, timeoutMs);
  const url = typeof target === 'string' ? target : target.url;
  const probe = new IORedis(url, probeOptions(timeoutMs));
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    throw new RedisUnavailableError(url, reasonOf(error));
  } finally {
    probe.disconnect();
  }
}

/** A connection that tries once and never queues: a probe wants the answer now. */
function probeOptions(timeoutMs: number): RedisOptions {
  return {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    enableOfflineQueue: false,
  };
}

/** The cluster's own account of itself (CLUSTER INFO), from the first seed node that answers. */
async function clusterInfo(target: RedisTarget, seeds: SeedNodes, timeoutMs: number): Promise<string> {
  let reason = 'no seed node';
  for (const node of seeds.nodes) {
    const probe = new IORedis({ ...seeds.redisOptions, ...node, ...probeOptions(timeoutMs) });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      return (await probe.call('CLUSTER', 'INFO')) as string;
    } catch (error) {
      if (/cluster support disabled/i.test((error as Error).message)) {
        throw new RedisUnavailableError(
          target.url,
          `${node.host}:${node.port} has cluster support disabled`,
          'Unset REDIS_CLUSTER for a single Redis, or point REDIS_URL at the nodes of a Redis Cluster.',
          (at) => `Redis at ${at} is not a Redis Cluster`,
        );
      }
      reason = `${node.host}:${node.port}: ${reasonOf(error)}`;
    } finally {
      probe.disconnect();
    }
  }
  throw new RedisUnavailableError(target.url, reason, CLUSTER_ADVICE);
}

async function probeCluster(target: RedisTarget, timeoutMs: number): Promise<void> {
  const seeds = seedNodes(target.url);
  const info = await clusterInfo(target, seeds, timeoutMs);
  const state = /^cluster_state:(\w+)/m.exec(info)?.[1] ?? 'unknown';
  if (state !== 'ok') {
    throw new RedisUnavailableError(
      target.url,
      `cluster_state is ${state}`,
      'Wait until every slot is served by a reachable master (redis-cli cluster info), then start again.',
      (at) => `the Redis Cluster at ${at} is not ready`,
    );
  }
  // Connected as tandem connects: the masters at the addresses the cluster announces for them,
  // which a client outside the cluster's network (a container, NAT) may not reach.
  const cluster = new Cluster(
    seeds.nodes,
    clusterOptions(
      seeds,
      { connectTimeout: timeoutMs, maxRetriesPerRequest: 0 },
      { lazyConnect: true, clusterRetryStrategy: () => null, slotsRefreshTimeout: timeoutMs },
    ),
  );
  cluster.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs * 2);
  });
  try {
    await Promise.race([pingMasters(cluster), late]);
  } catch (error) {
    throw new RedisUnavailableError(target.url, reasonOf(error), CLUSTER_ADVICE);
  } finally {
    clearTimeout(timer);
    cluster.disconnect();
  }
}

/** Connects to a cluster and pings each of its masters; rejects naming the first that does not answer. */
async function pingMasters(cluster: Cluster): Promise<void> {
  await cluster.connect();
  await Promise.all(
    cluster.nodes('master').map((node) =>
      node.ping().catch((error: unknown) => {
        throw new Error(`master ${node.options.host}:${node.options.port}: ${reasonOf(error)}`);
      }),
    ),
  );
}

/**
 * A connection for queues, workers and locks. A URL string is a single Redis, as is a target that
 * is not a cluster; `options` are those of each server connection (for a cluster: its nodes').
 */
export function createRedis(url: string, options?: RedisOptions): Redis;
export function createRedis(target: RedisTarget, options?: RedisOptions): RedisConnection;
export function createRedis(target: RedisTarget | string, options: RedisOptions = {}): RedisConnection {
  const connection = open(typeof target === 'string' ? { url: target, cluster: false } : target, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    ...options,
  });
  // Errors are reported by BullMQ where they matter; an unhandled 'error' event would crash the process.
  connection.on('error', () => undefined);
  return connection;
}

function open(target: RedisTarget, options: RedisOptions): RedisConnection {
  if (!target.cluster) return new IORedis(target.url, options);
  const seeds = seedNodes(target.url);
  return new Cluster(seeds.nodes, clusterOptions(seeds, options));
}
