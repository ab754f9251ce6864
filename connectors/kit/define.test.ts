import nock from 'nock';
import { z } from 'zod';
import type { Account, Contact } from '../../src/core/model';
import { batches, defineConnector } from './define';
import {
  EntityNotServedError,
  InvalidIdError,
  InvalidRequestError,
  InvalidResponseError,
  NotFoundError,
  RateLimitedError,
} from './errors';
import type { RequestLimits } from './limiter';
import type { RecordUpdate } from './types';
import { longestWord, SEARCH_MAX_LENGTH, SEARCH_MAX_RESULTS, SEARCH_OVERFETCH } from './search';
import { webhookAdapter } from './webhook';

/** An in-memory provider behind the definition below; it records every batch call it gets. */
class Ledger {
  readonly records = new Map<string, Account>();
  readonly reads: string[][] = [];
  readonly writes: string[][] = [];
  readonly searches: { text: string; limit: number }[] = [];
  health: 'ok' | 'busy' | 'down' = 'ok';

  constructor(ids: string[]) {
    for (const id of ids) this.records.set(id, this.record(id, id));
  }

  record(id: string, name: string | null): Account {
    return { entity: 'customer', id, number: null, fields: { name }, modifiedAt: '2024-05-01T00:00:00.000Z' };
  }

  write(update: RecordUpdate): Account {
    if (!this.records.has(update.id)) throw new NotFoundError(`${update.id} does not exist`);
    const record = this.record(update.id, update.fields.name ?? null);
    this.records.set(update.id, record);
    return record;
  }
}

const ledgerKind = defineConnector({
  name: 'ledger',
  side: 'accounting',
  config: z.object({ ledger: z.instanceof(Ledger), webhookSecret: z.string().optional() }),
  limits: { batchSize: { read: 2, write: 2 } },
  connect: (settings) => settings,
  entities: {
    customer: {
      fields: () => ['name', 'city'],
      get: async ({ ledger }, id) => ledger.records.get(id) ?? null,
      batchGet: async ({ ledger }, ids) => {
        ledger.reads.push(ids);
        return ids.flatMap((id) => ledger.records.get(id) ?? []);
      },
      update: async ({ ledger }, update) => ledger.write(update),
      batchUpdate: async ({ ledger }, updates) => {
        ledger.writes.push(updates.map((update) => update.id));
        if (updates.some((update) => update.fields.name === 'refused')) throw new InvalidRequestError('one bad input');
        if (updates.some((update) => update.fields.name === 'throttled')) throw new RateLimitedError('slow down', 5000);
        // Like a 207 answer: ids the provider does not know are missing from it.
        return updates.flatMap((update) =>
          ledger.records.has(update.id) ? [{ id: update.id, ok: true as const, record: ledger.write(update) }] : [],
        );
      },
      create: async ({ ledger }, fields, options) => {
        const record = ledger.record(options.idempotencyKey, fields.name ?? null);
        ledger.records.set(record.id, record);
        return record;
      },
      // Like a token search: any record holding the longest word, in the provider's own order.
      search: async ({ ledger }, text, limit) => {
        ledger.searches.push({ text, limit });
        const word = longestWord(text).toLowerCase();
        return [...ledger.records.values()]
          .filter((record) => (record.fields.name ?? '').toLowerCase().includes(word))
          .slice(0, limit);
      },
      // Ids starting with "x" live in another collection of the provider.
      batchKey: (id) => id.slice(0, 1),
      id: { pattern: /^[a-z]+\d*$/, means: 'a ledger id (letters, then digits)' },
    },
    // Vendors can only be read and written one at a time.
    vendor: {
      fields: () => ['name'],
      get: async ({ ledger }, id) => ledger.records.get(id) ?? null,
      update: async ({ ledger }, update) => ledger.write(update),
    },
  },
  webhook: ({ webhookSecret }) =>
    webhookSecret === undefined
      ? undefined
      : webhookAdapter({
          body: z.array(z.string()),
          bodyName: 'a list of ids',
          events: { of: (json) => json, max: 100 },
          read: () => [],
        }),
  subscribe: async () => ({ renewAt: '2024-06-01T00:00:00.000Z' }),
  documents: {
    types: ['salesOrder'],
    start: async (_session, type, input) => ({
      type,
      id: 'so-1',
      number: null,
      accountId: input.accountId,
      date: null,
      status: null,
    }),
    refused: { purchaseQuote: 'the ledger has no purchase quotes' },
  },
  health: async ({ ledger }) => {
    if (ledger.health === 'down') throw new InvalidRequestError('refused');
    if (ledger.health === 'busy') throw new RateLimitedError('busy', 1000);
  },
});

function setup(webhookSecret?: string) {
  const ledger = new Ledger(['c1', 'c2', 'c3', 'c4', 'x1', 'x2']);
  const connector = ledgerKind.create(
    { baseUrl: 'http://ledger.invalid', ledger, ...(webhookSecret === undefined ? {} : { webhookSecret }) },
    { name: 'accounting' },
  );
  return { ledger, connector };
}

const names = (updates: string[]) => updates.map((id) => ({ id, fields: { name: `new ${id}` } }));

describe('defineConnector', () => {
  describe('search', () => {
    const named = (ledger: Ledger, entries: [string, string, Partial<Account>?][]) => {
      for (const [id, name, extra] of entries) ledger.records.set(id, { ...ledger.record(id, name), ...extra });
    };

    it('keeps the records every word occurs in, best first, and asks the provider for more than it shows', async () => {
      const { ledger, connector } = setup();
      named(ledger, [
        ['a1', 'Bakery Müller'],
        ['a2', 'Müller Brothers Bakery'],
        ['a3', 'Müller Metals'],
        ['a4', 'Bakery'],
      ]);
      const found = await connector.search!('customer', '  müller bakery ', 3);
      // "Müller Metals" holds the longest word but not both: the provider returned it, the kit drops it.
      expect(found.map((record) => record.id)).toEqual(['a1', 'a2']);
      expect(ledger.searches).toEqual([{ text: 'müller bakery', limit: 3 * SEARCH_OVERFETCH }]);
      // Case does not matter; an exact number beats a name that starts with the text, which beats one holding it.
      named(ledger, [['a5', 'Zeta Müller', { number: 'müller' }]]);
      const ranked = await connector.search!('customer', 'MÜLLER', 10);
      expect(ranked.map((record) => record.id)).toEqual(['a5', 'a2', 'a3', 'a1']);
    });

    it('finds a record by its id, and caps the results', async () => {
      const { ledger, connector } = setup();
      named(ledger, [['c7', 'Zeta']]);
      expect((await connector.search!('customer', 'c7', 5)).map((record) => record.id)).toEqual(['c7']);
      expect(await connector.search!('customer', 'c', 2)).toHaveLength(2);
      expect(ledger.searches.at(-1)).toEqual({ text: 'c', limit: 2 * SEARCH_OVERFETCH });
      expect(ledger.searches.length).toBe(2);
      await connector.search!('customer', 'c', 1000);
      expect(ledger.searches.at(-1)?.limit).toBe(SEARCH_MAX_RESULTS * SEARCH_OVERFETCH);
    });

    it('refuses an empty, overlong or control-character search before any call, and an entity without search', async () => {
      const { ledger, connector } = setup();
      for (const text of ['', '   ', 'x'.repeat(SEARCH_MAX_LENGTH + 1), 'a\u0000b', 'a\nb'])
        await expect(connector.search!('customer', text, 5)).rejects.toBeInstanceOf(InvalidRequestError);
      await expect(connector.search!('vendor', 'acme', 5)).rejects.toThrow('ledger cannot search vendor');
      await expect(connector.search!('contact', 'acme', 5)).rejects.toBeInstanceOf(EntityNotServedError);
      expect(ledger.searches).toEqual([]);
    });
  });

  it('sends single reads made together as batch reads of the declared size, each caller getting its own', async () => {
    const { ledger, connector } = setup();
    const read = await Promise.all(['c1', 'c2', 'c3', 'nope'].map((id) => connector.get('customer', id)));
    expect(read.map((record) => record?.id ?? null)).toEqual(['c1', 'c2', 'c3', null]);
    // A full batch goes out at once; what is left of a key's group (c3; nope has a key of its
    // own) is a single get, as before.
    expect(ledger.reads).toEqual([['c1', 'c2']]);
    await connector.get('customer', 'c4');
    expect(ledger.reads).toHaveLength(1);
  });

  it('refuses an id not of the declared form before any call, without spoiling the batch it would share', async () => {
    const { ledger, connector } = setup();
    const [first, bad, second] = await Promise.allSettled(
      ['c1', '../../etc/passwd', 'c2'].map((id) => connector.get('customer', id)),
    );
    expect(first).toMatchObject({ status: 'fulfilled', value: { id: 'c1' } });
    expect(second).toMatchObject({ status: 'fulfilled', value: { id: 'c2' } });
    expect(bad).toMatchObject({ status: 'rejected', reason: expect.any(InvalidIdError) as unknown });
    expect((bad as PromiseRejectedResult).reason).toMatchObject({
      code: 'INVALID_REQUEST',
      message: "accounting: '../../etc/passwd' is not a ledger id (letters, then digits)",
    });
    expect(ledger.reads).toEqual([['c1', 'c2']]);
    await expect(connector.batchGet?.('customer', ['c3', 'C-3'])).rejects.toBeInstanceOf(InvalidIdError);
    await expect(connector.update?.('customer', { id: 'c 4', fields: { name: 'n' } })).rejects.toBeInstanceOf(
      InvalidIdError,
    );
    expect(ledger.reads).toHaveLength(1);
  });

  it('derives entities, fields and the methods present from what is defined', () => {
    const { connector } = setup();
    expect(ledgerKind).toMatchObject({ name: 'ledger', side: 'accounting' });
    expect({ name: connector.name, system: connector.system }).toEqual({ name: 'accounting', system: 'accounting' });
    expect(connector.entities).toEqual(['customer', 'vendor']);
    expect(connector.fields).toEqual({ customer: ['name', 'city'], vendor: ['name'] });
    for (const method of [
      'get',
      'batchGet',
      'create',
      'update',
      'batchUpdate',
      'createDocument',
      'checkHealth',
    ] as const)
      expect({ method, type: typeof connector[method] }).toEqual({ method, type: 'function' });
    // No entity lists changes and nothing needs closing: those methods are absent, not stubs.
    expect(['listChanged' in connector, 'close' in connector]).toEqual([false, false]);
    // Webhooks, and their subscriptions, only when the session has what they need.
    expect([connector.webhook, connector.ensureSubscriptions]).toEqual([undefined, undefined]);
    const withWebhook = setup('secret').connector;
    expect(withWebhook.webhook).toBeDefined();
    expect(typeof withWebhook.ensureSubscriptions).toBe('function');
  });

  it('refuses an entity it does not serve with one error, and an operation an entity lacks', async () => {
    const { connector } = setup();
    await expect(connector.get('contact', 'c1')).rejects.toBeInstanceOf(EntityNotServedError);
    await expect(connector.get('bankAccount', 'c1')).rejects.toThrow(
      "accounting: entity 'bankAccount' is not served (it serves customer, vendor)",
    );
    await expect(connector.create?.('vendor', {}, { idempotencyKey: 'k' })).rejects.toThrow(
      'accounting: ledger cannot create vendor',
    );
    await expect(connector.get('customer', 'c2')).resolves.toMatchObject({ id: 'c2' });
  });

  it('reads in calls of the declared size, one key per call, each id once, in the order asked', async () => {
    const { connector, ledger } = setup();
    const records = await connector.batchGet?.('customer', ['c3', 'x1', 'c1', 'missing', 'c3', 'c2', 'x2']);
    expect(records?.map((record) => record.id)).toEqual(['c3', 'x1', 'c1', 'c2', 'x2']);
    expect(ledger.reads).toEqual([['c3', 'c1'], ['x1', 'x2'], ['missing'], ['c2']]);
  });

  it('reads an entity without batchGet one get per id', async () => {
    const { connector, ledger } = setup();
    const records = await connector.batchGet?.('vendor', ['c2', 'nope', 'c1', 'c2']);
    expect(records?.map((record) => record.id)).toEqual(['c2', 'c1']);
    expect(ledger.reads).toEqual([]);
  });

  it('writes in calls of the declared size and fails the items the answer left out', async () => {
    const { connector, ledger } = setup();
    const results = await connector.batchUpdate?.('customer', names(['c1', 'x1', 'c2', 'gone', 'c3']));
    expect(results?.map((result) => [result.id, result.ok])).toEqual([
      ['c1', true],
      ['x1', true],
      ['c2', true],
      ['gone', false],
      ['c3', true],
    ]);
    const gone = results?.[3];
    expect(gone?.ok === false && gone.error).toBeInstanceOf(InvalidResponseError);
    expect(ledger.writes).toEqual([['c1', 'c2'], ['x1'], ['gone'], ['c3']]);
    await expect(connector.get('customer', 'c3')).resolves.toMatchObject({ fields: { name: 'new c3' } });
  });

  it('never sends one id twice in a call, so two writes of a record land in order', async () => {
    const { connector, ledger } = setup();
    const results = await connector.batchUpdate?.('customer', [
      { id: 'c1', fields: { name: 'first' } },
      { id: 'c1', fields: { name: 'second' } },
    ]);
    expect(results?.map((result) => result.ok)).toEqual([true, true]);
    expect(ledger.writes).toEqual([['c1'], ['c1']]);
    await expect(connector.get('customer', 'c1')).resolves.toMatchObject({ fields: { name: 'second' } });
  });

  it('writes a refused call again one by one to find the bad item, and stops on throttling', async () => {
    const { connector, ledger } = setup();
    const results = await connector.batchUpdate?.('customer', [
      { id: 'c1', fields: { name: 'refused' } },
      { id: 'cX', fields: { name: 'x' } },
    ]);
    expect(results?.map((result) => [result.id, result.ok])).toEqual([
      ['c1', true],
      ['cX', false],
    ]);
    const unknown = results?.[1];
    expect(unknown?.ok === false && unknown.error).toBeInstanceOf(NotFoundError);
    expect(ledger.records.get('c1')?.fields.name).toBe('refused');
    await expect(
      connector.batchUpdate?.('customer', [{ id: 'c2', fields: { name: 'throttled' } }]),
    ).rejects.toBeInstanceOf(RateLimitedError);
  });

  it('writes an entity without batchUpdate one record at a time', async () => {
    const { connector, ledger } = setup();
    const results = await connector.batchUpdate?.('vendor', names(['c4', 'none']));
    expect(results?.map((result) => [result.id, result.ok])).toEqual([
      ['c4', true],
      ['none', false],
    ]);
    expect(ledger.writes).toEqual([]);
  });

  it('starts listed documents only', async () => {
    const { connector } = setup();
    expect(connector.documents).toEqual(['salesOrder']);
    await expect(
      connector.createDocument?.('salesOrder', { accountId: 'c1', idempotencyKey: 'k' }),
    ).resolves.toMatchObject({ id: 'so-1', accountId: 'c1' });
    await expect(connector.createDocument?.('purchaseOrder', { accountId: 'c1', idempotencyKey: 'k' })).rejects.toThrow(
      'accounting: ledger cannot start a purchaseOrder',
    );
    await expect(connector.createDocument?.('purchaseQuote', { accountId: 'c1', idempotencyKey: 'k' })).rejects.toThrow(
      new InvalidRequestError('accounting: ledger cannot start a purchaseQuote: the ledger has no purchase quotes'),
    );
  });

  it('counts a 429 from the health probe as healthy, and any other failure as not', async () => {
    const { connector, ledger } = setup();
    await expect(connector.checkHealth?.()).resolves.toBeUndefined();
    ledger.health = 'busy';
    await expect(connector.checkHealth?.()).resolves.toBeUndefined();
    ledger.health = 'down';
    await expect(connector.checkHealth?.()).rejects.toThrow('refused');
  });
});

describe('batches', () => {
  it('chunks by size and key, keeping a repeated id for a later chunk', () => {
    const ids = ['a1', 'a2', 'a1', 'b1', 'a3', 'a4'];
    expect(
      batches(
        ids,
        (id) => id,
        2,
        (id) => id.slice(0, 1),
      ),
    ).toEqual([['a1', 'a2'], ['a1', 'a3'], ['b1'], ['a4']]);
    expect(batches(ids, (id) => id)).toEqual([['a1', 'a2', 'b1', 'a3', 'a4'], ['a1']]);
  });
});

describe('the HTTP client a definition connects with', () => {
  const API = 'https://limits.example';
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  afterAll(() => nock.enableNetConnect());

  const limitedBy = (limits: RequestLimits) =>
    defineConnector({
      name: 'limited',
      side: 'crm',
      config: z.object({ region: z.string().optional() }),
      limits,
      connect: (settings, tools) => tools.http({ baseURL: settings.baseUrl }),
      entities: {
        contact: {
          fields: () => ['name'],
          get: async (http, id): Promise<Contact> => {
            const body = await http.json(z.object({ id: z.string() }), { url: `/records/${id}` });
            return { entity: 'contact', id: body.id, type: 'company', companyId: null, fields: {}, modifiedAt: '' };
          },
        },
      },
    });
  const limited = limitedBy({ concurrency: 1 });

  it('uses the context retry policy and observer, and keeps the declared concurrency', async () => {
    const statuses: number[] = [];
    const connector = limited.create(
      { baseUrl: API },
      { name: 'crm', retry: { attempts: 2, baseDelayMs: 1 }, observe: (event) => statuses.push(event.status) },
    );
    const scope = nock(API)
      .get('/records/1')
      .reply(503)
      .get(/^\/records\/\d$/)
      .times(3)
      .delay(60)
      .reply(200, (uri) => ({ id: uri.slice('/records/'.length) }));
    const started = Date.now();
    const records = await Promise.all(['1', '2', '3'].map((id) => connector.get('contact', id)));
    expect(records.map((record) => record?.id)).toEqual(['1', '2', '3']);
    expect(statuses).toEqual([503, 200, 200, 200]);
    // One request at a time: three answers of 60 ms each take at least 180 ms in all.
    expect(Date.now() - started).toBeGreaterThanOrEqual(175);
    scope.done();
  });

  it('reports an answer outside the schema as an InvalidResponseError naming the request', async () => {
    const connector = limited.create({ baseUrl: API }, { name: 'crm' });
    const scope = nock(API).get('/records/9').reply(200, { id: 9 });
    await expect(connector.get('contact', '9')).rejects.toThrow(
      new InvalidResponseError(
        'crm: GET /records/9: unexpected answer (id: Invalid input: expected string, received number)',
      ),
    );
    scope.done();
  });
  it('reads the declared remaining header of each answer, and hands a long wait to the queue without a request', async () => {
    const windowed = limitedBy({ requests: { max: 100, perMs: 60_000, remainingHeader: 'X-Left' }, maxWaitMs: 1000 });
    let now = 0;
    const limiterClock = { now: () => now, sleep: async (ms: number) => void (now += ms) };
    const connector = windowed.create({ baseUrl: API }, { name: 'crm', limiterClock });
    const scope = nock(API).get('/records/1').reply(200, { id: '1' }, { 'X-Left': '0' });
    expect((await connector.get('contact', '1'))?.id).toBe('1');
    const refused = await connector.get('contact', '2').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect((refused as RateLimitedError).message).toMatch(/^crm: GET \/records\/2: the limit of 100 requests per 60 s/);
    expect((refused as RateLimitedError).retryAfterMs).toBe(60_000);
    scope.done();
  });
});
