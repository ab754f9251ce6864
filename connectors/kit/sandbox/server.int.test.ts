/**
 * The sandbox kit on its own, with a made-up provider: the request log, injected failures,
 * latency, credentials and rate limits as the hooks apply them, the OAuth token endpoint, the
 * state file and webhook delivery with retries.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { addTokenEndpoint, BearerTokens } from './oauth';
import { loadState, saveState } from './records';
import type { RateLimitsOption } from './rate-limits';
import { createSandboxServer, SandboxRefusal, type SandboxControls, type SandboxOptions } from './server';
import { WebhookOutbox } from './webhooks';

const TOKEN = 'kit-token';

interface Running {
  origin: string;
  controls: SandboxControls;
  tokens: BearerTokens;
  call: (
    path: string,
    init?: { method?: string; headers?: Record<string, string>; body?: string },
  ) => Promise<Response>;
}

/** A provider with a bucket of 3 calls per second and at most 2 calls in flight. */
async function startProvider(options: SandboxOptions<'burst' | 'concurrent'> = {}): Promise<Running> {
  const tokens = new BearerTokens(TOKEN);
  const { app, listen } = createSandboxServer(
    {
      api: /^\/api(?=\/)/,
      tokenPath: '/oauth/token',
      authenticate: (request) =>
        tokens.accepts(request.headers.authorization) ? undefined : { status: 401, body: { error: 'who are you' } },
      throttled: () => ({ body: { error: 'slow down' } }),
      unavailable: () => ({ status: 503, body: { error: 'down' } }),
      failure: (status, message) => ({ status, body: { error: message, status } }),
      rateLimits: {
        burst: {
          limit: 3,
          windowMs: 1000,
          refuse: () => ({ body: { error: 'limited' }, headers: { 'X-Problem': 'burst' } }),
          report: (remaining) => ({ 'X-Remaining': String(remaining) }),
        },
        concurrent: { limit: 2, refuse: () => ({ headers: { 'X-Problem': 'concurrent' } }) },
      },
    },
    options,
  );
  addTokenEndpoint(app, tokens, {
    path: '/oauth/token',
    clientId: 'client',
    clientSecret: 'secret',
    grant: 'client_credentials',
    ttlSeconds: 60,
  });
  app.get('/api/things', () => ({ things: [] }));
  app.post('/api/things', (request) => ({ echo: request.body }));
  app.post('/api/strict', (request) => z.object({ name: z.string() }).parse(request.body));
  app.get('/api/refused', () => {
    throw new SandboxRefusal({ status: 409, headers: { 'X-Why': 'taken' }, body: { error: 'taken' } });
  });
  app.get('/api/slow', async () => {
    await new Promise((resolve) => setTimeout(resolve, 150));
    return { slow: true };
  });
  const { origin, controls } = await listen();
  const call = (path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
    fetch(`${origin}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...init.headers } });
  return { origin, controls, tokens, call };
}

const statuses = async (responses: Promise<Response>[]) => (await Promise.all(responses)).map((r) => r.status);

describe('sandbox server', () => {
  let provider: Running;
  afterEach(async () => {
    await provider.controls.close();
  });

  it('answers a burst past the limit with 429, Retry-After and the provider’s body and headers', async () => {
    provider = await startProvider();
    const answers = [];
    for (let index = 0; index < 4; index++) answers.push(await provider.call('/api/things'));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 429]);
    expect(answers.map((answer) => answer.headers.get('x-remaining'))).toEqual(['2', '1', '0', '0']);
    const refused = answers[3]!;
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('x-problem')).toBe('burst');
    expect(await refused.json()).toEqual({ error: 'limited' });
  });

  it('lets a paced burst through, and the knob turns the limits off or sets other numbers', async () => {
    let clock = 0;
    provider = await startProvider({ now: () => clock });
    for (let index = 0; index < 12; index++) {
      expect((await provider.call('/api/things')).status).toBe(200);
      clock += 340;
    }
    await provider.controls.close();

    provider = await startProvider({ rateLimits: false });
    expect(await statuses(Array.from({ length: 10 }, () => provider.call('/api/things')))).toEqual(Array(10).fill(200));
    await provider.controls.close();

    const tuned: RateLimitsOption<'burst' | 'concurrent'> = { burst: { limit: 5 }, concurrent: false };
    provider = await startProvider({ rateLimits: tuned });
    const answers = [];
    for (let index = 0; index < 6; index++) answers.push((await provider.call('/api/things')).status);
    expect(answers).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('refuses a call beyond the calls in flight, and frees the slot once an answer is sent', async () => {
    provider = await startProvider({ rateLimits: { burst: false } });
    const answers = await Promise.all([1, 2, 3].map(() => provider.call('/api/slow')));
    const refused = answers.filter((answer) => answer.status === 429);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 429]);
    expect(refused[0]?.headers.get('x-problem')).toBe('concurrent');
    expect(await statuses([provider.call('/api/slow'), provider.call('/api/slow')])).toEqual([200, 200]);
  });

  it('injects failures: counts are set, not added; 429s first, then 5xx; Retry-After is kept', async () => {
    provider = await startProvider({ rateLimits: false });
    provider.controls.injectFailures({ next429: 2, retryAfterSeconds: 3 });
    provider.controls.injectFailures({ next429: 1, next5xx: 1 });
    const answers = [];
    for (let index = 0; index < 3; index++) answers.push(await provider.call('/api/things'));
    expect(answers.map((answer) => answer.status)).toEqual([429, 503, 200]);
    expect(answers[0]!.headers.get('retry-after')).toBe('3');
    expect(await answers[0]!.json()).toEqual({ error: 'slow down' });
    expect(await answers[1]!.json()).toEqual({ error: 'down' });

    provider.controls.injectFailures({ next429: 5 });
    provider.controls.injectFailures({ next429: 0 });
    expect((await provider.call('/api/things')).status).toBe(200);
    provider.controls.injectFailures({ next429: 1 });
    expect((await provider.call('/api/things')).headers.get('retry-after')).toBe('3');
  });

  it('carries out a timed-out call but cuts its connection instead of answering', async () => {
    provider = await startProvider({ rateLimits: false });
    provider.controls.injectFailures({ nextTimeouts: 1, timeoutAfterMs: 50 });
    const started = Date.now();
    await expect(provider.call('/api/things', { method: 'POST', body: '{"n":1}' })).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    // The call reached the provider (its body is in the log) but no status went out.
    expect(provider.controls.requests.at(-1)).toMatchObject({ method: 'POST', status: 0, requestBody: { n: 1 } });
    expect((await provider.call('/api/things')).status).toBe(200);
  });

  it('logs calls without their bodies when asked to', async () => {
    provider = await startProvider({ rateLimits: false, logBodies: false });
    expect((await provider.call('/api/things', { method: 'POST', body: '{"n":1}' })).status).toBe(200);
    const [entry] = provider.controls.requests;
    expect(entry).toMatchObject({ method: 'POST', path: '/things', status: 200 });
    expect(entry?.requestBody).toBeUndefined();
    expect(entry?.responseBody).toBeUndefined();
  });

  it('sends Date headers on the provider’s clock, which the knob moves', async () => {
    provider = await startProvider({ rateLimits: false, clockOffsetMs: 120_000 });
    const ahead = Date.parse((await provider.call('/api/things')).headers.get('date') ?? '');
    expect(ahead - Date.now()).toBeGreaterThan(118_000);
    expect(ahead - Date.now()).toBeLessThan(121_000);
    provider.controls.setClockOffset(-60_000);
    const behind = Date.parse((await provider.call('/api/things')).headers.get('date') ?? '');
    expect(Date.now() - behind).toBeGreaterThan(59_000);
    expect(Date.now() - behind).toBeLessThan(62_000);
  });

  it('answers refusals, unreadable bodies, schema errors and unknown routes in the provider’s shape', async () => {
    provider = await startProvider({ rateLimits: false });
    const refused = await provider.call('/api/refused');
    expect([refused.status, refused.headers.get('x-why'), await refused.json()]).toEqual([
      409,
      'taken',
      { error: 'taken' },
    ]);
    const post = (path: string, body: string) =>
      provider.call(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const broken = await post('/api/things', '{"name": ');
    expect([broken.status, await broken.json()]).toEqual([
      400,
      { error: 'The request body is not valid JSON.', status: 400 },
    ]);
    const wrong = await post('/api/strict', '{"name": 7}');
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ error: expect.stringMatching(/^Invalid input JSON: name: /) });
    const empty = await provider.call('/api/things', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(await empty.json()).toEqual({});
    const unknown = await provider.call('/api/nothing-here');
    expect([unknown.status, await unknown.json()]).toEqual([
      404,
      { error: "No HTTP resource was found that matches the request URI '/api/nothing-here'.", status: 404 },
    ]);
  });

  it('logs every API and token call in one shape, and adds latency to API calls', async () => {
    provider = await startProvider({ rateLimits: false });
    await provider.call('/api/things?name=J%C3%B6rg');
    await provider.call('/api/things', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x' }),
    });
    await fetch(`${provider.origin}/api/things`);
    await fetch(`${provider.origin}/elsewhere`);
    const token = await fetch(`${provider.origin}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'client', client_secret: 'secret' }),
    });
    expect(token.status).toBe(200);
    expect(provider.controls.requests).toEqual([
      expect.objectContaining({ method: 'GET', path: '/things', query: '?name=Jörg', status: 200 }),
      expect.objectContaining({
        method: 'POST',
        path: '/things',
        status: 200,
        requestBody: { name: 'x' },
        responseBody: { echo: { name: 'x' } },
      }),
      expect.objectContaining({ method: 'GET', path: '/things', status: 401, responseBody: { error: 'who are you' } }),
      expect.objectContaining({ method: 'POST', path: 'token', status: 200 }),
    ]);
    expect(provider.controls.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(provider.controls.countRequests({ method: 'get', path: 'thing' })).toBe(2);

    provider.controls.resetRequests();
    provider.controls.setLatency(60);
    const started = Date.now();
    await provider.call('/api/things');
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    expect(provider.controls.requests).toHaveLength(1);
  });
});

describe('OAuth token endpoint', () => {
  let provider: Running;
  afterEach(async () => {
    await provider.controls.close();
  });
  const grant = (origin: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${origin}/oauth/token`, { method: 'POST', headers, body: new URLSearchParams(form) });

  it('grants client credentials from the form or HTTP Basic, and refuses a wrong client or grant', async () => {
    provider = await startProvider({ rateLimits: false });
    const wrongSecret = await grant(provider.origin, {
      grant_type: 'client_credentials',
      client_id: 'client',
      client_secret: 'nope',
    });
    expect([wrongSecret.status, await wrongSecret.json()]).toEqual([401, { error: 'invalid_client' }]);
    const wrongGrant = await grant(provider.origin, {
      grant_type: 'password',
      client_id: 'client',
      client_secret: 'secret',
    });
    expect([wrongGrant.status, await wrongGrant.json()]).toEqual([400, { error: 'unsupported_grant_type' }]);
    const basic = `Basic ${Buffer.from('client:secret').toString('base64')}`;
    const granted = await grant(provider.origin, { grant_type: 'client_credentials' }, { authorization: basic });
    const body = z
      .object({ access_token: z.string(), expires_in: z.number(), token_type: z.string() })
      .parse(await granted.json());
    expect(body).toMatchObject({ expires_in: 60, token_type: 'Bearer' });
    const authorization = `Bearer ${body.access_token}`;
    expect((await fetch(`${provider.origin}/api/things`, { headers: { authorization } })).status).toBe(200);
    provider.tokens.revoke();
    expect((await fetch(`${provider.origin}/api/things`, { headers: { authorization } })).status).toBe(401);
  });

  it('rotates the refresh token on every refresh and refuses a spent one', async () => {
    provider = await startProvider({ rateLimits: false });
    const { app, listen } = createSandboxServer(
      {
        api: /^\/api(?=\/)/,
        authenticate: () => undefined,
        throttled: () => ({}),
        unavailable: () => ({ status: 503 }),
        failure: (status) => ({ status }),
        rateLimits: {},
      },
      {},
    );
    const state = addTokenEndpoint(app, new BearerTokens(), {
      path: '/oauth/token',
      clientId: 'client',
      clientSecret: 'secret',
      grant: 'refresh_token',
      ttlSeconds: 1800,
      refreshToken: 'first',
      extra: { scope: 'everything' },
    });
    const refreshing = await listen();
    try {
      const basic = { authorization: `Basic ${Buffer.from('client:secret').toString('base64')}` };
      const first = await grant(refreshing.origin, { grant_type: 'refresh_token', refresh_token: 'first' }, basic);
      const body = z.object({ refresh_token: z.string(), scope: z.string() }).parse(await first.json());
      expect(body).toEqual(expect.objectContaining({ scope: 'everything' }));
      expect(state.refreshToken).toBe(body.refresh_token);
      expect(body.refresh_token).not.toBe('first');
      const spent = await grant(refreshing.origin, { grant_type: 'refresh_token', refresh_token: 'first' }, basic);
      expect([spent.status, await spent.json()]).toEqual([400, { error: 'invalid_grant' }]);
    } finally {
      await refreshing.controls.close();
    }
  });
});

describe('state file', () => {
  it('writes the whole state through a temporary file and reads it back through the schema', () => {
    const directory = mkdtempSync(join(tmpdir(), 'sandbox-kit-'));
    try {
      const file = join(directory, 'state.json');
      const schema = z.object({ next: z.number(), names: z.array(z.string()) });
      expect(loadState(file, schema)).toBeUndefined();
      saveState(file, () => ({ next: 3, names: ['a', 'b'] }));
      expect(loadState(file, schema)).toEqual({ next: 3, names: ['a', 'b'] });
      expect(existsSync(`${file}.tmp`)).toBe(false);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ next: 3, names: ['a', 'b'] });
      saveState(file, () => ({ next: 'three' }));
      expect(() => loadState(file, schema)).toThrow();
      saveState(undefined, () => {
        throw new Error('the state is only asked for when there is a file');
      });
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('webhook outbox', () => {
  let receiver: Server;
  let url: string;
  let answers: number[];
  const received: string[] = [];

  beforeEach(async () => {
    answers = [];
    received.length = 0;
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        received.push(body);
        response.writeHead(answers.shift() ?? 200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  afterEach(async () => {
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it('batches changes after the delay, retries failures as told, and flush waits for every delivery', async () => {
    const attempts: number[] = [];
    const finals: number[] = [];
    const outbox: WebhookOutbox<string> = new WebhookOutbox(
      (changes) => {
        const call = (attempt: number) => ({ headers: {}, body: `${changes.join(',')}#${attempt}` });
        const onAttempt = (status: number) => attempts.push(status);
        void outbox.deliver({ url, call, retryDelaysMs: [5, 5], onAttempt }).then((status) => finals.push(status));
      },
      () => 20,
    );
    answers = [500, 503];
    outbox.add(['a', 'b']);
    outbox.add(['c']);
    await outbox.flush();
    expect(received).toEqual(['a,b,c#0', 'a,b,c#1', 'a,b,c#2']);
    expect([attempts, finals]).toEqual([[500, 503, 200], [200]]);

    answers = [500, 500, 500];
    outbox.add(['d']);
    await outbox.flush();
    expect(finals).toEqual([200, 500]);

    outbox.add(['dropped']);
    outbox.clear();
    await outbox.flush();
    expect(received.some((body) => body.startsWith('dropped'))).toBe(false);
    await outbox.close();
  });

  it('delivers late and twice when told, and in order again after', async () => {
    const outbox: WebhookOutbox<string> = new WebhookOutbox(
      (changes) => {
        for (const change of changes)
          void outbox.deliver({ url, call: () => ({ headers: {}, body: change }), retryDelaysMs: [] });
      },
      () => 1,
    );
    const sent = Array.from({ length: 12 }, (_, index) => String(index).padStart(2, '0'));
    outbox.setDisorder({ duplicateRate: 1, maxDelayMs: 200 });
    outbox.add(sent);
    await outbox.flush();
    // Every call twice, and (12 random delays) not in the order sent.
    expect([...received].sort()).toEqual(sent.flatMap((body) => [body, body]));
    expect(received.filter((body, index) => received.indexOf(body) === index)).not.toEqual(sent);

    received.length = 0;
    outbox.setDisorder({});
    outbox.add(['a', 'b', 'c']);
    await outbox.flush();
    expect(received).toEqual(['a', 'b', 'c']);
  });

  it('stops retrying an answer the provider does not retry, and close cuts a wait short', async () => {
    const finals: number[] = [];
    const retryable = (status: number) => status >= 500;
    const outbox: WebhookOutbox<string> = new WebhookOutbox(
      (changes) => {
        const call = () => ({ headers: {}, body: changes.join(',') });
        void outbox.deliver({ url, call, retryDelaysMs: [60_000], retryable }).then((status) => finals.push(status));
      },
      () => 1,
    );
    answers = [410];
    outbox.add(['gone']);
    await outbox.flush();
    expect([received.length, finals]).toEqual([1, [410]]);

    answers = [500];
    outbox.add(['waiting']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await outbox.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(finals).toEqual([410, 500]);
    outbox.add(['after close']);
    await outbox.flush();
    expect(received).toHaveLength(2);
  });
});
