import { Cluster } from 'ioredis';
import { ConfigError } from '../config/load';
import { createRedis, keyPrefix, redactUrl, redisCluster, redisTarget } from './redis';

describe('REDIS_CLUSTER', () => {
  it.each(['true', 'TRUE', 'yes', '1', ' true '])('%p means a cluster', (value) => {
    expect(redisCluster({ REDIS_CLUSTER: value })).toBe(true);
  });

  it.each([undefined, '', 'false', 'no', '0'])('%p means a single Redis', (value) => {
    expect(redisCluster({ REDIS_CLUSTER: value })).toBe(false);
  });

  it('refuses anything else, naming the variable and the value', () => {
    expect(() => redisCluster({ REDIS_CLUSTER: 'sometimes' })).toThrow(ConfigError);
    expect(() => redisCluster({ REDIS_CLUSTER: 'sometimes' })).toThrow(/REDIS_CLUSTER[\s\S]*'sometimes'/);
  });
});

describe('redisTarget', () => {
  it('keeps a single URL as it is', () => {
    expect(redisTarget('redis://:secret@redis:6379/2')).toEqual({
      url: 'redis://:secret@redis:6379/2',
      cluster: false,
    });
  });

  it('refuses a list of nodes for a single Redis, pointing at REDIS_CLUSTER', () => {
    expect(() => redisTarget('redis://a:7000,redis://b:7000')).toThrow(/REDIS_URL[\s\S]*REDIS_CLUSTER=true/);
  });

  it('takes seed nodes as URLs or bare host:port after the first', () => {
    expect(redisTarget('rediss://:pw@a:7000, b:7001,rediss://:pw@c', true)).toEqual({
      url: 'rediss://:pw@a:7000, b:7001,rediss://:pw@c',
      cluster: true,
    });
  });

  it.each([
    ['a:7000', /not a redis:\/\/ or rediss:\/\/ URL/],
    ['redis://a:7000,,redis://b:7000', /empty entry/],
    ['redis://a:7000/3', /database 0 only/],
    ['redis://a:7000,rediss://b:7000', /different credentials or TLS/],
    ['redis://:one@a:7000,redis://:two@b:7000', /different credentials or TLS/],
    ['http://a:7000', /not a redis:\/\/ or rediss:\/\/ URL/],
  ])('refuses the cluster URL %p', (url, problem) => {
    expect(() => redisTarget(url, true)).toThrow(ConfigError);
    expect(() => redisTarget(url, true)).toThrow(problem);
  });

  it('never shows the password in a message', () => {
    expect(() => redisTarget('redis://:hunter2@a:1,redis://:hunter2@b:2')).toThrow(/redis:\/\/:\*\*\*@a:1/);
    expect(() => redisTarget('redis://:hunter2@a:1,redis://:hunter2@b:2')).not.toThrow(/hunter2/);
  });
});

describe('keyPrefix', () => {
  it('is the configured prefix on a single Redis, so existing keys stay where they are', () => {
    expect(keyPrefix('tandem', { url: 'redis://127.0.0.1:6379', cluster: false })).toBe('tandem');
  });

  it('is the configured prefix as a hash tag on a cluster', () => {
    expect(keyPrefix('tandem', { url: 'redis://127.0.0.1:7000', cluster: true })).toBe('{tandem}');
  });
});

describe('redactUrl', () => {
  it('masks the password of each node, and leaves URLs without one alone', () => {
    expect(redactUrl('rediss://user:pw@a:1,rediss://user:pw@b:2')).toBe('rediss://user:***@a:1,rediss://user:***@b:2');
    expect(redactUrl('redis://127.0.0.1:6379,b:7000')).toBe('redis://127.0.0.1:6379,b:7000');
  });
});

describe('a cluster connection', () => {
  it('carries the credentials, TLS and blocking-safe retries to every node, and names TLS nodes as given', () => {
    const cluster = createRedis(
      { url: 'rediss://app:pw@clustercfg.example:6379', cluster: true },
      { lazyConnect: true },
    );
    try {
      expect(cluster).toBeInstanceOf(Cluster);
      const { options } = cluster as Cluster;
      expect(options.redisOptions).toMatchObject({
        username: 'app',
        password: 'pw',
        tls: {},
        maxRetriesPerRequest: null,
      });
      const lookedUp = jest.fn();
      options.dnsLookup?.('clustercfg.example', lookedUp);
      expect(lookedUp).toHaveBeenCalledWith(null, 'clustercfg.example');
    } finally {
      cluster.disconnect();
    }
  });
});
