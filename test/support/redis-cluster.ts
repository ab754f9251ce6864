/**
 * A local Redis Cluster of three masters (no replicas), from Debian's redis-server and redis-cli,
 * in a temporary directory: started for one suite and stopped by it, every process by its pid.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import IORedis from 'ioredis';
import { waitFor } from '../../src/util/net';

const run = promisify(execFile);

/** A cluster bus listens on its node's port plus this. */
const BUS_OFFSET = 10_000;

/** A running cluster. */
export interface LocalRedisCluster {
  /** The nodes as REDIS_URL takes them for a cluster: `redis://127.0.0.1:P1,redis://127.0.0.1:P2,...`. */
  url: string;
  ports: number[];
  /** A plain connection to one node (not following slots), for CLUSTER commands and per-node scans. */
  node(port: number): IORedis;
  stop(): Promise<void>;
}

/** Whether nothing listens on a loopback port now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `count` ports P, each with P + 10000 (its cluster bus) free as well, and none another's bus. */
async function clusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < count && tries < 200; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    const taken = ports.some((other) => Math.abs(other - port) === BUS_OFFSET || other === port);
    if (!taken && (await portFree(port)) && (await portFree(port + BUS_OFFSET))) ports.push(port);
  }
  if (ports.length < count) throw new Error('no free ports for a Redis Cluster');
  return ports;
}

/** Waits for a child to exit, killing it outright when it has not within `ms`. */
async function stopChild(child: ChildProcess, ms = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  }, ms);
  await exited;
  clearTimeout(timer);
}

/** A redis-server on `port` keeping nothing on disk; in cluster mode with `nodesFile` as its cluster config. */
function spawnRedis(port: number, dir: string, nodesFile?: string): ChildProcess {
  const cluster =
    nodesFile === undefined ? [] : ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, nodesFile)];
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    ...cluster,
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ];
  return spawn('redis-server', args, { stdio: 'ignore' });
}

/** What a node answers to a command, or null when it does not (yet). */
async function ask(port: number, ...command: string[]): Promise<string | null> {
  const client = new IORedis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return String(await client.call(command[0] as string, ...command.slice(1)));
  } catch {
    return null;
  } finally {
    client.disconnect();
  }
}

/** Starts three masters, joins them into one cluster and waits until every node says cluster_state:ok. */
export async function startLocalRedisCluster(timeoutMs = 30_000): Promise<LocalRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-redis-cluster-'));
  const children: ChildProcess[] = [];
  const clients = new Map<number, IORedis>();
  const stop = async () => {
    clients.forEach((client) => client.disconnect());
    await Promise.all(children.map((child) => stopChild(child)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ports = await clusterPorts(3);
    for (const [index, port] of ports.entries()) children.push(spawnRedis(port, dir, `nodes-${index + 1}.conf`));
    await waitFor(
      async () => (await Promise.all(ports.map((port) => ask(port, 'PING')))).every((pong) => pong === 'PONG'),
      10_000,
      50,
    );
    await run(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'],
      { timeout: timeoutMs },
    );
    await waitFor(
      async () =>
        (await Promise.all(ports.map((port) => ask(port, 'CLUSTER', 'INFO')))).every(
          (info) => info?.includes('cluster_state:ok') ?? false,
        ),
      timeoutMs,
      100,
    );
    return {
      url: ports.map((port) => `redis://127.0.0.1:${port}`).join(','),
      ports,
      node(port) {
        let client = clients.get(port);
        if (client === undefined) {
          client = new IORedis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
          clients.set(port, client);
        }
        return client;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * One more redis-server on a free port, outside any cluster: a plain one, or one in cluster mode
 * that was never joined (its cluster_state stays fail: no slot is served).
 */
export async function startLoneRedis(clusterMode: boolean): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-redis-lone-'));
  const [port] = (await clusterPorts(1)) as [number];
  const child = spawnRedis(port, dir, clusterMode ? 'nodes.conf' : undefined);
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => (await ask(port, 'PING')) === 'PONG', 10_000, 50);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis://127.0.0.1:${port}`, stop };
}
