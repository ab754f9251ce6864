import type { PoolClient } from 'pg';
import { StoreUnavailableError } from '../app/ports/store';
import { PostgresExecutor, type ConnectionPool } from './postgres-executor';
import {
  endpointOf,
  isConnectionFailure,
  isReadOnly,
  retryDelay,
  retrySafe,
  shortReason,
  validRetryPolicy,
} from './postgres-retry';

/** A driver error as pg makes them: a message and a code (errno or SQLSTATE). */
function driverError(message: string, code?: string): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

const refused = () => driverError('connect ECONNREFUSED 127.0.0.1:5439', 'ECONNREFUSED');
const terminated = () => new Error('Connection terminated unexpectedly');
const adminShutdown = () => driverError('terminating connection due to administrator command', '57P01');

describe('which errors are connection failures', () => {
  it.each([
    ['a refused connection', refused()],
    ['a reset connection', driverError('read ECONNRESET', 'ECONNRESET')],
    ['a broken pipe', driverError('write EPIPE', 'EPIPE')],
    ['an unreachable host', driverError('connect EHOSTUNREACH', 'EHOSTUNREACH')],
    ['a connection ended by the server', terminated()],
    ['a connect timeout of the client', new Error('Connection terminated due to connection timeout')],
    ['a connect timeout of the pool', new Error('timeout exceeded when trying to connect')],
    ['admin_shutdown', adminShutdown()],
    ['crash_shutdown', driverError('terminating connection because of crash of another server process', '57P02')],
    ['cannot_connect_now', driverError('the database system is starting up', '57P03')],
    ['connection_failure (class 08)', driverError('connection failure', '08006')],
    ['sqlclient_unable_to_establish_sqlconnection', driverError('could not connect', '08001')],
    ['an AggregateError of refused addresses', new AggregateError([refused(), refused()], 'connect failed')],
  ])('%s is retried', (_name, error) => {
    expect(isConnectionFailure(error)).toBe(true);
  });

  it.each([
    ['a unique violation', driverError('duplicate key value violates unique constraint', '23505')],
    ['a syntax error', driverError('syntax error at or near "SELEC"', '42601')],
    ['a missing table', driverError('relation "nope" does not exist', '42P01')],
    ['a serialization failure', driverError('could not serialize access', '40001')],
    ['a query cancelled by statement_timeout', driverError('canceling statement due to statement timeout', '57014')],
    ['a wrong password', driverError('password authentication failed for user "tandem"', '28P01')],
    ['a closed pool', new Error('Cannot use a pool after calling end on the pool')],
    ['a plain error', new Error('boom')],
    ['a string', 'ECONNREFUSED'],
  ])('%s is not', (_name, error) => {
    expect(isConnectionFailure(error)).toBe(false);
  });
});

describe('when running a call again is safe', () => {
  it('always before a statement was sent, and inside a transaction before COMMIT', () => {
    expect(retrySafe('connect', refused(), false)).toBe(true);
    expect(retrySafe('transaction', terminated(), false)).toBe(true);
  });

  it('for a single statement: a read, or one the server aborted itself', () => {
    expect(retrySafe('statement', terminated(), true)).toBe(true);
    expect(retrySafe('statement', adminShutdown(), false)).toBe(true);
    expect(retrySafe('statement', terminated(), false)).toBe(false);
  });

  it('never once COMMIT was sent', () => {
    expect(retrySafe('commit', terminated(), false)).toBe(false);
    expect(retrySafe('commit', adminShutdown(), false)).toBe(false);
  });

  it('takes only SELECT for a read', () => {
    expect(isReadOnly('  select cursor FROM connector_cursor')).toBe(true);
    expect(isReadOnly('SELECT 1')).toBe(true);
    expect(isReadOnly('WITH pruned AS (DELETE FROM processed_event RETURNING 1) SELECT count(*) FROM pruned')).toBe(
      false,
    );
    expect(isReadOnly('INSERT INTO processed_event VALUES ($1, $2)')).toBe(false);
  });
});

describe('retry policy and messages', () => {
  it('waits exponentially, capped, with jitter', () => {
    const policy = { totalMs: 20_000, initialDelayMs: 100, maxDelayMs: 2000 };
    expect([0, 1, 2, 3, 4, 5, 10].map((retry) => retryDelay(policy, retry, () => 0.5))).toEqual([
      100, 200, 400, 800, 1600, 2000, 2000,
    ]);
    expect(retryDelay(policy, 0, () => 0)).toBe(80);
    expect(retryDelay(policy, 0, () => 1)).toBe(120);
  });

  it('refuses a policy that makes no sense', () => {
    expect(() => validRetryPolicy({ totalMs: -1, initialDelayMs: 1, maxDelayMs: 1 })).toThrow(/totalMs/);
    expect(() => validRetryPolicy({ totalMs: 1, initialDelayMs: 5, maxDelayMs: 1 })).toThrow(/must not exceed/);
    expect(() => validRetryPolicy({ totalMs: 1, initialDelayMs: Number.NaN, maxDelayMs: 1 })).toThrow(/initialDelayMs/);
  });

  it('names host:port, never the user or password', () => {
    expect(endpointOf('postgres://tandem:s3cret@db.internal:6543/tandem')).toBe('db.internal:6543');
    expect(endpointOf('postgres://tandem:s3cret@db.internal/tandem')).toBe('db.internal:5432');
    expect(endpointOf('postgresql:///tandem?host=/run/postgresql')).toBe('/run/postgresql:5432');
    expect(endpointOf('not a url with s3cret')).toBe('the configured server');
  });

  it('says the cause in a few words', () => {
    expect(shortReason(refused())).toBe('ECONNREFUSED');
    expect(shortReason(new AggregateError([refused()], 'x'))).toBe('ECONNREFUSED');
    expect(shortReason(adminShutdown())).toBe('57P01: terminating connection due to administrator command');
    expect(shortReason(terminated())).toBe('Connection terminated unexpectedly');
  });
});

/**
 * A pool whose clients answer from a script: each statement text is looked up in `answers`
 * (by its first word); a function answer may throw. Records every statement sent, per client.
 */
function scriptedPool(options: {
  connect?: () => void;
  answer: (statement: string, attempt: number) => unknown;
}): ConnectionPool & { sent: string[][]; released: Array<Error | boolean | undefined> } {
  const sent: string[][] = [];
  const released: Array<Error | boolean | undefined> = [];
  const pool = {
    sent,
    released,
    async connect() {
      options.connect?.();
      const statements: string[] = [];
      sent.push(statements);
      const attempt = sent.length;
      const client = {
        query: (text: string) => {
          statements.push(text);
          try {
            return Promise.resolve({ rows: options.answer(text, attempt) ?? [] });
          } catch (error) {
            return Promise.reject(error as Error);
          }
        },
        release: (error?: Error | boolean) => {
          released.push(error);
        },
      };
      return Promise.resolve(client as unknown as PoolClient);
    },
    end: () => Promise.resolve(),
  };
  return pool as unknown as ConnectionPool & typeof pool;
}

const FAST = { totalMs: 500, initialDelayMs: 1, maxDelayMs: 5 };
const ENDPOINT = '127.0.0.1:5439';

describe('the executor', () => {
  it('retries a statement while connections are refused, then answers', async () => {
    let refusals = 3;
    const retries: string[] = [];
    const pool = scriptedPool({
      connect: () => {
        if (refusals-- > 0) throw refused();
      },
      answer: () => [{ one: 1 }],
    });
    const executor = new PostgresExecutor(pool, ENDPOINT, FAST, (event) => retries.push(event.reason));
    await expect(executor.query('INSERT INTO t VALUES (1) RETURNING 1 AS one')).resolves.toEqual([{ one: 1 }]);
    expect(retries).toEqual(['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED']);
  });

  it('gives up after the total bound with a StoreUnavailableError naming host:port, time and cause', async () => {
    const pool = scriptedPool({
      connect: () => {
        throw refused();
      },
      answer: () => [],
    });
    const executor = new PostgresExecutor(pool, ENDPOINT, { totalMs: 50, initialDelayMs: 5, maxDelayMs: 10 });
    const started = Date.now();
    const error = await executor.query('SELECT 1').catch((caught: unknown) => caught);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    const unavailable = error as StoreUnavailableError;
    expect(unavailable.code).toBe('STORE_UNAVAILABLE');
    expect(unavailable.message).toMatch(
      /^PostgreSQL unreachable at 127\.0\.0\.1:5439 since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(ECONNREFUSED\); gave up after retrying for \d+ s$/,
    );
    expect(unavailable.details).toMatchObject({ endpoint: ENDPOINT, reason: 'ECONNREFUSED', outcomeUnknown: false });
  });

  it('never retries a statement error', async () => {
    const pool = scriptedPool({
      answer: () => {
        throw driverError('duplicate key value violates unique constraint', '23505');
      },
    });
    const executor = new PostgresExecutor(pool, ENDPOINT, FAST);
    await expect(executor.query('INSERT INTO t VALUES (1)')).rejects.toMatchObject({ code: '23505' });
    expect(pool.sent).toHaveLength(1);
  });

  it('retries a read whose connection broke, but not a write (its outcome is unknown)', async () => {
    const breakOnce = () => {
      let broken = false;
      return () => {
        if (broken) return [{ ok: true }];
        broken = true;
        throw terminated();
      };
    };
    const reads = scriptedPool({ answer: breakOnce() });
    await expect(new PostgresExecutor(reads, ENDPOINT, FAST).query('SELECT 1')).resolves.toEqual([{ ok: true }]);
    expect(reads.sent).toHaveLength(2);
    // The broken client is dropped, not put back in the pool.
    expect(reads.released[0]).toBeInstanceOf(Error);

    const writes = scriptedPool({ answer: breakOnce() });
    const error = await new PostgresExecutor(writes, ENDPOINT, FAST)
      .query('INSERT INTO processed_event VALUES ($1, $2)', ['crm', 'e1'])
      .catch((caught: unknown) => caught);
    expect(writes.sent).toHaveLength(1);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as StoreUnavailableError).details.outcomeUnknown).toBe(true);
    expect((error as StoreUnavailableError).message).toMatch(/may or may not have been/);
  });

  it('retries a write the server aborted with admin_shutdown', async () => {
    let aborted = false;
    const pool = scriptedPool({
      answer: () => {
        if (aborted) return [];
        aborted = true;
        throw adminShutdown();
      },
    });
    await new PostgresExecutor(pool, ENDPOINT, FAST).query('INSERT INTO t VALUES (1)');
    expect(pool.sent).toHaveLength(2);
  });
});

describe('the transaction rule', () => {
  it('runs a transaction whole again when the connection broke before COMMIT was sent', async () => {
    const pool = scriptedPool({
      answer: (statement, attempt) => {
        if (statement.startsWith('UPDATE') && attempt === 1) throw terminated();
        return [];
      },
    });
    let runs = 0;
    const result = await new PostgresExecutor(pool, ENDPOINT, FAST).transaction(async (tx) => {
      runs += 1;
      await tx.query('INSERT INTO a VALUES (1)');
      await tx.query('UPDATE b SET x = 1');
      return 'done';
    });
    expect(result).toBe('done');
    expect(runs).toBe(2);
    expect(pool.sent).toEqual([
      ['BEGIN', 'INSERT INTO a VALUES (1)', 'UPDATE b SET x = 1'],
      ['BEGIN', 'INSERT INTO a VALUES (1)', 'UPDATE b SET x = 1', 'COMMIT'],
    ]);
  });

  it('retries even when the transaction body turned the lost connection into another error', async () => {
    const pool = scriptedPool({
      answer: (statement, attempt) => {
        if (statement.startsWith('UPDATE') && attempt === 1) throw terminated();
        return [];
      },
    });
    let runs = 0;
    await new PostgresExecutor(pool, ENDPOINT, FAST).transaction(async (tx) => {
      runs += 1;
      await tx.query('UPDATE b SET x = 1').catch(() => {
        throw new Error('wrapped');
      });
    });
    expect(runs).toBe(2);
  });

  it('does not retry a connection lost during COMMIT: the caller learns the outcome is unknown', async () => {
    const pool = scriptedPool({
      answer: (statement) => {
        if (statement === 'COMMIT') throw terminated();
        return [];
      },
    });
    let runs = 0;
    const error = await new PostgresExecutor(pool, ENDPOINT, FAST)
      .transaction(async (tx) => {
        runs += 1;
        await tx.query('INSERT INTO a VALUES (1)');
      })
      .catch((caught: unknown) => caught);
    expect(runs).toBe(1);
    expect(pool.sent).toEqual([['BEGIN', 'INSERT INTO a VALUES (1)', 'COMMIT']]);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as StoreUnavailableError).details.outcomeUnknown).toBe(true);
  });

  it('rolls back and rethrows a statement error without retrying', async () => {
    const pool = scriptedPool({
      answer: (statement) => {
        if (statement.startsWith('INSERT')) throw driverError('duplicate key', '23505');
        return [];
      },
    });
    await expect(
      new PostgresExecutor(pool, ENDPOINT, FAST).transaction((tx) => tx.query('INSERT INTO a VALUES (1)')),
    ).rejects.toMatchObject({ code: '23505' });
    expect(pool.sent).toEqual([['BEGIN', 'INSERT INTO a VALUES (1)', 'ROLLBACK']]);
    expect(pool.released).toEqual([undefined]);
  });
});

describe('checkReachable', () => {
  it('tries once and says since when and why the store is unreachable; clears once it answers', async () => {
    let down = true;
    const pool = scriptedPool({
      connect: () => {
        if (down) throw refused();
      },
      answer: () => [{ one: 1 }],
    });
    const executor = new PostgresExecutor(pool, ENDPOINT, FAST);
    const first = await executor.checkReachable().catch((caught: unknown) => caught);
    expect((first as Error).message).toMatch(
      /^PostgreSQL unreachable at 127\.0\.0\.1:5439 since \S+Z \(ECONNREFUSED\)$/,
    );
    const second = await executor.checkReachable().catch((caught: unknown) => caught);
    // The same outage: the same start time.
    expect((second as StoreUnavailableError).details.since).toBe((first as StoreUnavailableError).details.since);
    down = false;
    await expect(executor.checkReachable()).resolves.toBeUndefined();
  });
});
