import nock from 'nock';
import { z } from 'zod';
import { ProviderClock } from './clock';
import { defineConnector } from './define';
import { webhookAdapter } from './webhook';

/** A seeded generator, so a failure can be repeated. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

/**
 * Answers sent at random local times with random round trips, by a provider whose clock is off by
 * `offsetMs`: each carries that clock's time, truncated to the second, as an HTTP date.
 */
function answer(clock: ProviderClock, offsetMs: number, at: number, roundTripMs: number, rnd: () => number) {
  const serverAt = at + rnd() * roundTripMs + offsetMs;
  clock.observe(new Date(Math.floor(serverAt / 1000) * 1000).toUTCString(), at, at + roundTripMs);
}

describe('ProviderClock', () => {
  it('leaves a provider whose clock agrees with ours alone', () => {
    const clock = new ProviderClock();
    const rnd = random(1);
    for (let call = 0, at = 1_700_000_000_000; call < 200; call++, at += 137 + rnd() * 900)
      answer(clock, 0, at, 5 + rnd() * 80, rnd);
    expect(clock.offsetMs()).toBe(0);
    expect(clock.toLocal('2026-12-01T10:00:00.000Z')).toBe('2026-12-01T10:00:00.000Z');
  });

  it.each([150_000, -150_000, 3_250, -700_400])(
    'finds an offset of %i ms to within a round trip and a quarter second',
    (offsetMs) => {
      const clock = new ProviderClock();
      const rnd = random(offsetMs);
      for (let call = 0, at = 1_700_000_000_000; call < 60; call++, at += 100 + rnd() * 700)
        answer(clock, offsetMs, at, 2 + rnd() * 20, rnd);
      expect(Math.abs(clock.offsetMs() - offsetMs)).toBeLessThanOrEqual(250 + 22);
      const written = '2026-12-01T10:00:00.000Z';
      expect(Date.parse(clock.toLocal(written))).toBe(Date.parse(written) - clock.offsetMs());
    },
  );

  it('follows a clock that was stepped, and keeps a settled offset while answers agree', () => {
    const clock = new ProviderClock();
    const rnd = random(9);
    let at = 1_700_000_000_000;
    for (let call = 0; call < 60; call++, at += 100 + rnd() * 700) answer(clock, 120_000, at, 10, rnd);
    const settled = clock.offsetMs();
    for (let call = 0; call < 60; call++, at += 100 + rnd() * 700) {
      answer(clock, 120_000, at, 10, rnd);
      expect(clock.offsetMs()).toBe(settled);
    }
    for (let call = 0; call < 30; call++, at += 100 + rnd() * 700) answer(clock, -30_000, at, 10, rnd);
    expect(Math.abs(clock.offsetMs() + 30_000)).toBeLessThanOrEqual(260);
  });

  it('ignores answers without a readable Date, and times it cannot read', () => {
    const clock = new ProviderClock();
    clock.observe(undefined, 0, 10);
    clock.observe('not a date', 0, 10);
    clock.observe(new Date(60_000).toUTCString(), 20, 10);
    expect(clock.offsetMs()).toBe(0);
    clock.observe(new Date(600_000).toUTCString(), 0, 10);
    expect(clock.offsetMs()).toBeGreaterThan(0);
    expect(clock.toLocal('yesterday')).toBe('yesterday');
  });
});

describe('a connector on a provider whose clock runs ahead', () => {
  const base = 'http://clock.test';
  const aheadMs = 180_000;
  const kind = defineConnector({
    name: 'skewed',
    side: 'accounting',
    config: z.object({ tenant: z.string() }),
    connect: (settings, tools) => ({ http: tools.http({ baseURL: settings.baseUrl }) }),
    entities: {
      customer: {
        fields: () => ['name'],
        get: async ({ http }, id) => {
          const body = await http.json(z.object({ name: z.string(), modified: z.string() }), { url: `/c/${id}` });
          return { entity: 'customer', id, number: null, fields: { name: body.name }, modifiedAt: body.modified };
        },
      },
    },
    webhook: () =>
      webhookAdapter({
        verify: (request, now) => {
          const sent = Number(request.headers['x-sent']);
          return Math.abs(now.getTime() - sent) > 60_000 ? 'stale' : undefined;
        },
        body: z.object({ id: z.string(), at: z.string() }),
        bodyName: 'a change',
        events: { of: () => undefined, max: 1 },
        read: (body) => [{ entity: 'customer', id: body.id, eventId: body.id, occurredAt: body.at }],
      }),
  });

  afterEach(() => nock.cleanAll());

  it('reads its times onto the local clock, and checks webhook times against its clock', async () => {
    const connector = kind.create({ baseUrl: base, tenant: 't' }, { name: 'accounting' });
    let modified = '';
    nock(base)
      .get(/\/c\/\d+/)
      .times(40)
      .reply(() => {
        const providerNow = Date.now() + aheadMs;
        modified = new Date(providerNow).toISOString();
        return [200, { name: 'Acme', modified }, { Date: new Date(providerNow).toUTCString() }];
      });
    let record;
    for (let call = 0; call < 40; call++) {
      record = await connector.get('customer', String(call));
      await new Promise((resolve) => setTimeout(resolve, 5 + (call % 7) * 3));
    }
    // The last record's time, written on the provider's clock, lands on ours.
    const shift = Date.parse(modified) - Date.parse(record!.modifiedAt);
    expect(Math.abs(shift - aheadMs)).toBeLessThanOrEqual(1300);

    const providerSent = Date.now() + aheadMs;
    const outcome = connector.webhook!.handle(
      {
        method: 'POST',
        url: `${base}/hook`,
        headers: { 'x-sent': String(providerSent) },
        rawBody: Buffer.from(JSON.stringify({ id: '7', at: new Date(providerSent).toISOString() })),
      },
      new Date(),
    );
    // Three minutes "in the future" by our clock, yet fresh by the provider's, and its time made local.
    expect(outcome.kind).toBe('notices');
    if (outcome.kind !== 'notices') return;
    const occurred = Date.parse(outcome.notices[0]!.occurredAt!);
    expect(Math.abs(occurred - (providerSent - aheadMs))).toBeLessThanOrEqual(1300);
  });
});
