/**
 * tandem on a Redis Cluster of three masters, started here from Debian's redis-server: the
 * start-up probe, the fenced contact lock, the config channel and a real sync through both
 * sandboxes, with every key tandem and BullMQ wrote in the one slot of the prefix's hash tag.
 */
import { randomUUID } from 'node:crypto';
import type IORedis from 'ioredis';
import { redisConfigChannel } from '../src/queue/config-channel';
import { contactLockKey, fenceHolds, tryContactLock, withContactLock } from '../src/queue/contact-lock';
import { tryLock } from '../src/queue/lock';
import {
  createRedis,
  keyPrefix,
  probeRedis,
  RedisUnavailableError,
  redisTarget,
  type RedisConnection,
  type RedisTarget,
} from '../src/queue/redis';
import { freePort, waitFor } from '../src/util/net';
import { startRig, type Rig } from './support/harness';
import { startLocalRedisCluster, startLoneRedis, type LocalRedisCluster } from './support/redis-cluster';
import { requireServers } from './support/servers';

let cluster: LocalRedisCluster;
let target: RedisTarget;
let redis: RedisConnection;

beforeAll(async () => {
  await requireServers(['redis_cluster']);
  cluster = await startLocalRedisCluster();
  target = redisTarget(cluster.url, true);
  redis = createRedis(target);
}, 60_000);
afterAll(async () => {
  redis?.disconnect();
  await cluster?.stop();
});

/** Every key on one node (the cluster is this suite's own). */
async function keysOn(node: IORedis): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, page] = await node.scan(cursor, 'COUNT', 1000);
    keys.push(...page);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/** The keys under a prefix, by the port of the node that holds them. */
async function keysByNode(prefix: string): Promise<Map<number, string[]>> {
  const byNode = new Map<number, string[]>();
  for (const port of cluster.ports) {
    const keys = (await keysOn(cluster.node(port))).filter((key) => key.startsWith(`${prefix}:`));
    if (keys.length > 0) byNode.set(port, keys);
  }
  return byNode;
}

const slotOf = async (key: string) => cluster.node(cluster.ports[0] as number).cluster('KEYSLOT', key);

test('the three masters each serve a share of the 16384 slots', async () => {
  // CLUSTER SLOTS: [first slot, last slot, [host, port, id] of the master, ...its replicas] per range.
  const ranges = await cluster.node(cluster.ports[0] as number).cluster('SLOTS');
  const slotsByPort = new Map<number, number>();
  for (const [from, to, master] of ranges) {
    const port = master?.[1] as number;
    slotsByPort.set(port, (slotsByPort.get(port) ?? 0) + to - from + 1);
  }
  expect([...slotsByPort.keys()].sort()).toEqual([...cluster.ports].sort());
  expect([...slotsByPort.values()].every((slots) => slots > 0)).toBe(true);
  expect([...slotsByPort.values()].reduce((sum, slots) => sum + slots, 0)).toBe(16384);
});

describe('the start-up probe', () => {
  test('accepts the cluster, given any of its nodes', async () => {
    await expect(probeRedis(target)).resolves.toBeUndefined();
    await expect(probeRedis(redisTarget(`redis://127.0.0.1:${cluster.ports[2]}`, true))).resolves.toBeUndefined();
  });

  test('says in one line that nothing answers', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const error: unknown = await probeRedis(redisTarget(url, true), 500).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect((error as Error).message).not.toContain('\n');
    expect((error as Error).message).toContain(url);
    expect((error as Error).message).toContain('REDIS_CLUSTER');
  });

  test('says in one line that a server is not in cluster mode, or that its cluster is not ok', async () => {
    const plain = await startLoneRedis(false);
    const unjoined = await startLoneRedis(true);
    try {
      const notCluster: unknown = await probeRedis(redisTarget(plain.url, true)).catch((caught: unknown) => caught);
      expect(notCluster).toBeInstanceOf(RedisUnavailableError);
      expect((notCluster as Error).message).toMatch(
        /^Redis at [^\n]* is not a Redis Cluster [^\n]*Unset REDIS_CLUSTER[^\n]*$/,
      );
      const failing: unknown = await probeRedis(redisTarget(unjoined.url, true)).catch((caught: unknown) => caught);
      expect(failing).toBeInstanceOf(RedisUnavailableError);
      expect((failing as Error).message).toMatch(
        /^the Redis Cluster at [^\n]* is not ready \(cluster_state is fail\)[^\n]*$/,
      );
    } finally {
      await Promise.all([plain.stop(), unjoined.stop()]);
    }
  });
});

describe('locks and the config channel', () => {
  const prefix = () => keyPrefix(`t${randomUUID().slice(0, 8)}`, target);

  test('the contact lock takes its lock and fence counter together: each holder a newer number', async () => {
    const keys = prefix();
    const first = await tryContactLock(redis, keys, 'c1');
    expect(first?.token).toBe('1');
    expect(await tryContactLock(redis, keys, 'c1')).toBeNull();
    expect(await fenceHolds(redis, keys, { contactId: 'c1', token: '1' })).toBe(true);
    await first?.release();
    const second = await withContactLock(redis, keys, 'c1', async () => {
      expect(await fenceHolds(redis, keys, { contactId: 'c1', token: '1' })).toBe(false);
      return redis.get(contactLockKey(keys, 'c1'));
    });
    expect(second).toBe('2');
    expect(await redis.get(contactLockKey(keys, 'c1'))).toBeNull();
    const byNode = await keysByNode(keys);
    expect([...byNode.values()]).toEqual([[`${keys}:fence:contact:c1`]]);
  });

  test('without the hash tag, the same two keys are in two slots and the cluster refuses the script', async () => {
    const plain = `t${randomUUID().slice(0, 8)}`;
    let id = 0;
    while ((await slotOf(`${plain}:lock:contact:${id}`)) === (await slotOf(`${plain}:fence:contact:${id}`))) id++;
    await expect(tryLock(redis, `${plain}:lock:contact:${id}`, 1000, `${plain}:fence:contact:${id}`)).rejects.toThrow(
      /CROSSSLOT/,
    );
  });

  test('a config version announced on the cluster is heard by a subscriber', async () => {
    const channel = redisConfigChannel({ redis: target, prefix: prefix(), publisher: redis });
    const heard: number[] = [];
    const subscription = await channel.subscribe((version) => heard.push(version));
    try {
      await channel.announce(7);
      await waitFor(() => heard.includes(7), 5000);
    } finally {
      await subscription.close();
    }
  });
});

describe('a sync end to end', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ redis: { url: cluster.url, cluster: true } });
  }, 60_000);
  afterAll(async () => {
    await rig?.stop();
  });

  test('a phone changed in the CRM reaches the linked customer, and back', async () => {
    const { hubspotId, accounts } = await rig.linkedCompany(
      { name: 'Cluster BV', city: 'Delft', phone: '+31 15 100 0000', email: 'info@cluster.example' },
      ['customer'],
    );
    rig.hubspot.updateCompany(hubspotId, { phone: '+31 15 555 0199' });
    await waitFor(() => rig.bc.getCustomer(accounts.customer as string)?.phoneNumber === '+31 15 555 0199', 10_000);
    rig.bc.updateCustomer(accounts.customer as string, { city: 'Leiden' });
    await waitFor(() => rig.hubspot.getCompany(hubspotId)?.properties.city === 'Leiden', 10_000);
  });

  test('a poll and a drift sweep run, with their locks and status keys', async () => {
    await rig.daemon.pollNow('accounting');
    const report = await rig.daemon.drift.runNow();
    expect(report).not.toBeNull();
    expect((await rig.daemon.drift.status()).last).toEqual(report);
  });

  test("every key tandem and BullMQ wrote has the prefix's hash tag, and so one slot on one master", async () => {
    const prefix = keyPrefix(rig.config.queue.prefix, target);
    expect(prefix).toBe(`{${rig.config.queue.prefix}}`);
    const byNode = await keysByNode(prefix);
    const keys = [...byNode.values()].flat();
    // BullMQ's queues and events, and tandem's own keys: fence counters, poll and drift status, webhooks.
    for (const part of [
      ':intake:',
      ':write-crm:',
      ':write-accounting:',
      ':fence:contact:',
      ':poll:last:accounting',
      ':drift:last',
      ':webhooks:renewAt:accounting',
    ])
      expect(keys.some((key) => key.includes(part))).toBe(true);
    expect(byNode.size).toBe(1);
    const slots = new Set(await Promise.all(keys.map(slotOf)));
    expect(slots).toEqual(new Set([await slotOf(rig.config.queue.prefix)]));
    // Nothing else in the cluster: no key of tandem's escaped the tag.
    const everything = (await Promise.all(cluster.ports.map((port) => keysOn(cluster.node(port))))).flat();
    expect(everything.filter((key) => key.startsWith(rig.config.queue.prefix))).toEqual([]);
  });
});
