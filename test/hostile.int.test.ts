/**
 * Hostile input against the whole daemon: both sandboxes, the store on PostgreSQL and Redis, as a
 * user runs it. Generated calls go to every surface that takes input from outside: the CRM's and
 * the accounting system's webhook routes (signed as the provider signs, so the parsers answer),
 * every admin and console API route with generated path parameters, bodies and credentials, and
 * the console's YAML. Each call must be answered below 500; every refusal (4xx) must leave
 * everything as it was: each table of the store (row by row), each queue's job counter, and the
 * providers' records. Meanwhile /healthz is asked every 20 ms and must keep answering.
 *
 * The seed is fixed; `TANDEM_PROPERTY_RUNS` and `TANDEM_PROPERTY_SEED` run more or other cases
 */
import fc from 'fast-check';
import { request } from 'node:http';
import { Client } from 'pg';
import { hubSpotSignatureV3 } from '../connectors/hubspot/webhook';
import { ADMIN_ROUTES } from '../src/http/admin';
import { CONSOLE_ROUTES } from '../src/http/console';
import { settle, startRig, DATABASE_URL, HUBSPOT_SECRET, HUBSPOT_TOKEN, BC_STATE, type Rig } from './support/harness';
import { bcNotification, bodies, hubSpotEvent, PROPERTY_RUNS, PROPERTY_SEED } from './support/hostile';

jest.setTimeout(240_000);

const ADMIN = 'admin-token-hostile-0123456789';
const VIEWER = 'viewer-token-hostile-0123456789';
// Each call crosses the whole daemon, so a third of the runs per surface (100 by default).
const RUNS = Math.max(30, Math.round(PROPERTY_RUNS / 3));
const PHONE = '+31 20 555 0101';

let rig: Rig;
let pg: Client;
let contactId: string;
let hubspotId: string;
let accountId: string;
let relationId: string;
/** How the calls to one surface were answered, and how /healthz did meanwhile. */
interface Tally {
  calls: number;
  refused: number;
  taken: number;
  statuses: Record<string, number>;
  healthProbes?: number;
  healthP99Ms?: number;
  healthMaxMs?: number;
}
const tried: Record<string, Tally> = {};

beforeAll(async () => {
  rig = await startRig({ store: 'postgres', adminTokens: { admin: [ADMIN], viewer: [VIEWER] } });
  const linked = await rig.linkedCompany({ name: 'Hostile Input BV', phone: PHONE }, ['customer']);
  contactId = linked.contactId;
  hubspotId = linked.hubspotId;
  accountId = linked.accounts.customer as string;
  relationId = ((await rig.store.findRelationsByContact(contactId))[0] as { id: string }).id;
  pg = new Client({ connectionString: DATABASE_URL });
  await pg.connect();
});

afterAll(async () => {
  await pg?.end();
  await rig?.stop();
  // The figures for the closing note: inputs tried per surface, and how they were answered.
  process.stdout.write(`hostile input: ${JSON.stringify(tried)}\n`);
});

/** Everything a call could have changed: every row of the store, every queue's job counter, every provider write. */
async function fingerprint(): Promise<string> {
  const schema = rig.schema as string;
  const tables = await pg.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
    [schema],
  );
  const parts: string[] = [];
  for (const { table_name: table } of tables.rows) {
    const digest = await pg.query<{ rows: string; digest: string | null }>(
      `SELECT count(*)::text AS rows, md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest FROM "${schema}"."${table}" t`,
    );
    parts.push(`${table}:${digest.rows[0]?.rows}:${digest.rows[0]?.digest ?? ''}`);
  }
  const queues = rig.daemon.queues;
  for (const queue of [queues.intake, queues.writes.crm, queues.writes.accounting]) {
    const client = await queue.client;
    parts.push(`${queue.name}:${(await client.get(queue.keys.id as string)) ?? '0'}`);
  }
  const writes = (requests: ReadonlyArray<{ method: string; path: string }>) =>
    requests.filter((r) => r.method !== 'GET' && !/\/(read|search)$/.test(r.path)).length;
  parts.push(`hubspot:${writes(rig.hubspot.requests)}`, `bc:${writes(rig.bc.requests)}`);
  return parts.join('\n');
}

/** One generated call. */
interface Call {
  surface: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

const pathPart = () =>
  fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom('%00', '..%2F..%2Fetc%2Fpasswd', '__proto__', 'hasOwnProperty', 'customer', '%FF', '-1', '1e400'),
    fc.constantFrom(contactId, accountId, relationId, `company-${accountId}`),
  );

/** Values near the real ones (names of fields, kinds and records) mixed with anything at all. */
const nearValue = () =>
  fc.oneof(
    fc.anything(),
    fc.constantFrom('customer', 'vendor', 'bankAccount', contactId, accountId, relationId, 'default', '', null),
    fc.string({ maxLength: 40 }),
    fc.integer(),
  );
const BODY_KEYS = [
  'kind',
  'template',
  'fields',
  'accountId',
  'contactId',
  'yaml',
  'comment',
  'reason',
  'values',
  'ids',
  'name',
  'field',
];
const adminBody = () =>
  fc.oneof(
    fc.json(),
    fc.anything().map((value) => JSON.stringify(value) ?? 'null'),
    fc.string({ maxLength: 60 }),
    fc.dictionary(fc.constantFrom(...BODY_KEYS), nearValue(), { maxKeys: 5 }).map((value) => JSON.stringify(value)),
  );
const yamlText = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.json().map((json) => `mappings: ${json}\n`),
  fc
    .array(
      fc.constantFrom(
        'a: &x [1,2]',
        'b: *x',
        'c: [*x, *x, *x]',
        'd: !!binary ZZZ',
        '- x',
        ': :',
        '{',
        'mappings:',
        '  customer:',
        '    - contact: __proto__',
      ),
      {
        maxLength: 12,
      },
    )
    .map((lines) => lines.join('\n')),
);

/** Credentials a caller might send: the admin's, the viewer's, none, a wrong one, or a cookie with no CSRF header. */
const credentials = fc.constantFrom<Record<string, string>>(
  { authorization: `Bearer ${ADMIN}` },
  { authorization: `Bearer ${ADMIN}` },
  { authorization: `Bearer ${ADMIN}` },
  { authorization: `Bearer ${VIEWER}` },
  {},
  { authorization: 'Bearer not-a-token-of-this-daemon' },
  { cookie: 'tandem_session=admin.99999999999.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
);

function apiCall(surface: string, routes: ReadonlyArray<{ method: string; url: string }>): fc.Arbitrary<Call> {
  return fc
    .record({
      route: fc.constantFrom(...routes),
      parts: fc.array(pathPart(), { minLength: 3, maxLength: 3 }),
      body: adminBody(),
      auth: credentials,
    })
    .map(({ route, parts, body, auth }) => {
      let index = 0;
      const path = route.url.replace(/:[A-Za-z]+/g, () => encodeURIComponent(parts[index++] ?? ''));
      const hasBody = route.method !== 'GET' && route.method !== 'DELETE';
      return {
        surface,
        method: route.method,
        path,
        headers: { ...auth, ...(hasBody ? { 'content-type': 'application/json' } : {}) },
        ...(hasBody ? { body } : {}),
      };
    });
}

const yamlRoutes = CONSOLE_ROUTES.filter(
  (route) => /\/config(\/validate|\/preview)?$/.test(route.url) && route.method !== 'GET',
);

const SURFACES = [
  'CRM webhook (HubSpot, signed)',
  'accounting webhook (Business Central)',
  'admin API',
  'console API',
  'console YAML (validate, preview, save)',
] as const;

/** Each surface's generated calls; built once the rig runs, as they use its records' ids. */
const surfaces = (): Record<(typeof SURFACES)[number], fc.Arbitrary<Call>> => ({
  'CRM webhook (HubSpot, signed)': bodies(fc.array(hubSpotEvent, { maxLength: 120 })).map((body) => {
    const timestamp = String(Date.now());
    const url = new URL('/webhooks/crm', rig.webhookUrl).toString();
    return {
      surface: 'crm webhook',
      method: 'POST',
      path: '/webhooks/crm',
      headers: {
        'content-type': 'application/json',
        'x-hubspot-request-timestamp': timestamp,
        'x-hubspot-signature-v3': hubSpotSignatureV3(HUBSPOT_SECRET, 'POST', url, body.toString('utf8'), timestamp),
      },
      body,
    };
  }),
  'accounting webhook (Business Central)': fc
    .oneof(
      bodies(fc.record({ value: fc.array(bcNotification(rig.bc.companyId, BC_STATE), { maxLength: 20 }) })),
      fc.constant(Buffer.from('')),
    )
    .map((body) => ({
      surface: 'accounting webhook',
      method: 'POST',
      path: '/webhooks/accounting',
      headers: { 'content-type': 'application/json' },
      body,
    })),
  'admin API': apiCall('admin API', ADMIN_ROUTES),
  'console API': apiCall('console API', CONSOLE_ROUTES),
  'console YAML (validate, preview, save)': fc
    .record({ route: fc.constantFrom(...yamlRoutes), yaml: yamlText, comment: fc.option(fc.string({ maxLength: 20 })) })
    .map(({ route, yaml, comment }) => ({
      surface: 'console YAML',
      method: route.method,
      path: route.url,
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify(comment === null ? { yaml } : { yaml, comment }),
    })),
});

/** Asks /healthz every 20 ms until stopped; answers every latency and every failure. */
function probeHealth(url: string): { stop(): Promise<{ latencies: number[]; failures: string[] }> } {
  const latencies: number[] = [];
  const failures: string[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = performance.now();
      try {
        const response = await fetch(`${url}/healthz`);
        await response.text();
        if (response.status !== 200) failures.push(`status ${response.status}`);
      } catch (error) {
        failures.push(String(error));
      }
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { latencies, failures };
    },
  };
}

test('the fingerprint sees a row written, a job enqueued and a record written in a provider', async () => {
  const start = await fingerprint();
  await rig.store.setCursor('hostile-probe', 'contact', 'x');
  const written = await fingerprint();
  expect(written).not.toBe(start);
  await rig.daemon.queues.enqueueChanges([{ connector: 'crm', entity: 'contact', id: contactId, source: 'manual' }]);
  await settle(rig);
  const enqueued = await fingerprint();
  expect(enqueued).not.toBe(written);
  const patched = await fetch(`${rig.hubspot.url}/crm/v3/objects/companies/${hubspotId}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${HUBSPOT_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ properties: { phone: PHONE } }),
  });
  expect(patched.status).toBe(200);
  await settle(rig);
  expect(await fingerprint()).not.toBe(enqueued);
});

test.each(SURFACES)('%s: every generated call is answered below 500, and a refusal changes nothing', async (name) => {
  const base = new URL(rig.webhookUrl).origin;
  const arbitrary = surfaces()[name];
  const counts: Tally = (tried[name] = { calls: 0, refused: 0, taken: 0, statuses: {} });
  const health = probeHealth(base);
  try {
    await fc.assert(
      fc.asyncProperty(arbitrary, async (call) => {
        const before = await fingerprint();
        const response = await send(base, call);
        const text = response.text;
        counts.calls++;
        counts.statuses[response.status] = (counts.statuses[response.status] ?? 0) + 1;
        expect({ call: `${call.method} ${call.path}`, status: response.status < 500, text }).toMatchObject({
          status: true,
        });
        if (response.status >= 400) {
          counts.refused++;
          expect(await fingerprint()).toBe(before);
        } else {
          counts.taken++;
          // What a taken call started runs to its end before the next call is judged.
          await settle(rig);
        }
      }),
      { numRuns: RUNS, seed: PROPERTY_SEED },
    );
  } finally {
    const { latencies, failures } = await health.stop();
    latencies.sort((a, b) => a - b);
    const worst = latencies[latencies.length - 1] ?? 0;
    Object.assign(counts, {
      healthProbes: latencies.length,
      healthP99Ms: Math.round(latencies[Math.floor(latencies.length * 0.99)] ?? 0),
      healthMaxMs: Math.round(worst),
    });
    expect(failures).toEqual([]);
    expect(latencies.length).toBeGreaterThan(1);
    // No call holds the process. A held process (a regular expression gone quadratic, a parser
    // looping) stalls every probe behind it for seconds; a shared machine's scheduler delays one
    // probe now and then by a hundred milliseconds (seen once in a fresh-clone run). So: the worst
    // probe under 2 s, and all but the worst under 250 ms.
    expect(worst).toBeLessThan(2_000);
    expect(latencies[latencies.length - 2] ?? 0).toBeLessThan(250);
  }
});

let source = 0;

/**
 * Sends a call from a loopback address of its own (127.0.x.y, in turn), so that the daemon's
 * count of failed token checks per client, which refuses a guessing client for a minute, does
 * not turn every later call into a 429 that proves nothing.
 */
function send(base: string, call: Call): Promise<{ status: number; text: string }> {
  source = (source % 60_000) + 1;
  const localAddress = `127.0.${Math.floor(source / 250)}.${(source % 250) + 2}`;
  return new Promise((resolve, reject) => {
    const outgoing = request(
      new URL(call.path, base),
      { method: call.method, headers: call.headers, localAddress },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () =>
          resolve({ status: incoming.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        incoming.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(call.body);
  });
}
