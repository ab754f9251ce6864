/**
 * A split deployment gives the same result as one process. The same changes (CRM and accounting
 * edits, a fan-out through a contact, and a conflict) run twice against fresh sandboxes, each time
 * with a Postgres schema and a Redis prefix of its own: once with one `tandem start --role all`
 * process, once with `--role api`, two `--role worker` and one `--role scheduler` processes sharing
 * them. The final sandbox records and the audit log's field changes and conflicts (ids and times
 * left out) must be equal.
 *
 * The processes are real: the project is compiled once into a temporary directory with
 * `tsc -p tsconfig.build.json` (about 10 s here) and started with `node dist/src/cli/main.js start`,
 * so each one runs startDaemon with its role's options exactly as in production. Both runs go on
 * at the same time to keep the test short (about 5 s after the build).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { startBusinessCentralSandbox, type BusinessCentralSandbox } from '../connectors/business-central/sandbox';
import { startHubSpotSandbox, type HubSpotSandbox } from '../connectors/hubspot/sandbox';
import type { AccountKind } from '../src/core/model';
import { INTAKE_QUEUE, writeQueueName } from '../src/queue/queues';
import { openPostgresStore } from '../src/store';
import type { Store } from '../src/app/ports/store';
import { freePort, waitFor } from '../src/util/net';
import {
  BC_STATE,
  DATABASE_URL,
  HUBSPOT_SECRET,
  HUBSPOT_TOKEN,
  REDIS_URL,
  sandboxConnectors,
  toBc,
  toHubSpot,
} from './support/harness';

jest.setTimeout(90_000);

const ROOT = resolve(__dirname, '..');
let buildDir: string;

beforeAll(() => {
  buildDir = mkdtempSync(join(tmpdir(), 'tandem-roles-'));
  const build = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(ROOT, 'tsconfig.build.json'),
      '--outDir',
      join(buildDir, 'dist'),
    ],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  // The build emits even with type errors elsewhere in the tree; the processes only need its output.
  if (build.error) throw build.error;
  symlinkSync(join(ROOT, 'node_modules'), join(buildDir, 'node_modules'), 'dir');
});

afterAll(() => {
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
});

/** The HubSpot and Business Central fields the config maps, canonical name first. */
const CUSTOMER_FIELDS = ['name', 'address', 'city', 'postCode', 'phone', 'email'];
const VENDOR_FIELDS = ['name', 'city', 'phone', 'email'];

type Role = 'all' | 'api' | 'worker' | 'scheduler';

/** One deployment under test: its sandboxes, store, queues and processes. */
interface Deployment {
  hubspot: HubSpotSandbox;
  bc: BusinessCentralSandbox;
  store: Store;
  prefix: string;
  schema: string;
  processes: Array<{ role: Role; child: ChildProcess; output: string[] }>;
  queues: Queue[];
  redis: IORedis;
}

async function startDeployment(roles: Role[]): Promise<Deployment> {
  const port = await freePort();
  const tandemUrl = `http://127.0.0.1:${port}`;
  const bc = await startBusinessCentralSandbox({ notificationDelayMs: 20 });
  const hubspot = await startHubSpotSandbox({
    token: HUBSPOT_TOKEN,
    webhook: { targetUrl: `${tandemUrl}/webhooks/crm`, clientSecret: HUBSPOT_SECRET, batchDelayMs: 10 },
    log: () => undefined,
  });
  const prefix = `t${randomUUID().slice(0, 8)}`;
  const schema = `tandem_roles_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  // Migrated once here; every process shares the schema through the connection's search_path.
  const store = await openPostgresStore(DATABASE_URL, { schema });

  // Secrets reach the config from the environment only.
  const connectors = sandboxConnectors(hubspot, bc, {
    hubspotToken: '${HUBSPOT_TOKEN}',
    hubspotSecret: '${HUBSPOT_SECRET}',
    bcClientSecret: '${BC_CLIENT_SECRET}',
    bcClientState: '${BC_STATE}',
  });
  const config = {
    connectors: {
      crm: { ...connectors.crm, pollEvery: '2s' },
      accounting: { ...connectors.accounting, pollEvery: '2s' },
    },
    relationCodes: { customer: 'CUST', vendor: 'VEND' },
    mappings: {
      customer: CUSTOMER_FIELDS.map((field) => ({ contact: field, account: field })),
      vendor: VENDOR_FIELDS.map((field) => ({ contact: field, account: field })),
    },
    server: { host: '127.0.0.1', port, publicUrl: tandemUrl },
    queue: { prefix, backoff: '50ms', attempts: 5, intakeConcurrency: 4 },
  };
  const configFile = join(buildDir, `${prefix}.yaml`);
  writeFileSync(configFile, JSON.stringify(config));
  const databaseUrl = `${DATABASE_URL}${DATABASE_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    REDIS_URL,
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'info',
    HUBSPOT_TOKEN,
    HUBSPOT_SECRET,
    BC_CLIENT_SECRET: bc.clientSecret,
    BC_STATE,
  };

  const redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
  const queues = [INTAKE_QUEUE, writeQueueName('crm'), writeQueueName('accounting')].map(
    (name) => new Queue(name, { connection: redis, prefix }),
  );
  const deployment: Deployment = { hubspot, bc, store, prefix, schema, processes: [], queues, redis };
  for (const role of roles) {
    const output: string[] = [];
    const child = spawn(
      process.execPath,
      [join(buildDir, 'dist/src/cli/main.js'), 'start', '--role', role, '--config', configFile],
      { cwd: buildDir, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (chunk: Buffer) =>
      output.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((line) => line !== ''),
      ),
    );
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    deployment.processes.push({ role, child, output });
  }
  try {
    await waitFor(
      async () => deployment.processes.every(({ output }) => output.some((line) => line.includes('"tandem started"'))),
      20_000,
      50,
    );
  } catch {
    const report = deployment.processes.map(({ role, output }) => `${role}: ${output.slice(-5).join('\n')}`).join('\n');
    await stopDeployment(deployment);
    throw new Error(`processes did not start:\n${report}`);
  }
  return deployment;
}

async function stopDeployment(deployment: Deployment): Promise<void> {
  await Promise.all(
    deployment.processes.map(
      ({ child }) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null) {
            done();
            return;
          }
          // A graceful stop lets running jobs finish; one that does not within 10 s is ended.
          const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => {
            clearTimeout(kill);
            done();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  await Promise.all(deployment.queues.map((queue) => queue.obliterate({ force: true }).catch(() => undefined)));
  await Promise.all(deployment.queues.map((queue) => queue.close()));
  const keys = await deployment.redis.keys(`${deployment.prefix}:*`);
  if (keys.length > 0) await deployment.redis.del(...keys);
  deployment.redis.disconnect();
  await Promise.all([deployment.hubspot.close(), deployment.bc.close()]);
  await deployment.store.close();
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(`drop schema if exists ${deployment.schema} cascade`);
  await client.end();
}

/** Waits until nothing is waiting, delayed or running, for a moment (webhooks may be on their way). */
async function settle(deployment: Deployment): Promise<void> {
  let quietSince = 0;
  await waitFor(
    async () => {
      const counts = await Promise.all(
        deployment.queues.map((queue) => queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')),
      );
      if (counts.some((count) => Object.values(count).some((n) => n > 0))) {
        quietSince = 0;
        return false;
      }
      quietSince ||= Date.now();
      return Date.now() - quietSince > 300;
    },
    20_000,
    25,
  );
}

/** Blocks the event loop: the sandboxes answer nothing meanwhile, so two edits count as simultaneous yet ordered. */
function busyWait(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

interface Scenario {
  companies: Record<string, string>;
  accounts: Record<string, Partial<Record<AccountKind, string>>>;
}

/** Links three companies, then runs the same edits, waiting for each to arrive. */
async function runScenario(deployment: Deployment): Promise<Scenario> {
  const { hubspot, bc, store } = deployment;
  const seeds: Record<string, { fields: Record<string, string>; kinds: AccountKind[] }> = {
    adatum: {
      fields: {
        name: 'Adatum',
        address: 'Main St 1',
        city: 'Graz',
        postCode: '8010',
        phone: '+43 316 1',
        email: 'office@adatum.test',
      },
      kinds: ['customer', 'vendor'],
    },
    fabrikam: {
      fields: {
        name: 'Fabrikam',
        address: 'Ring 2',
        city: 'Linz',
        postCode: '4020',
        phone: '+43 732 2',
        email: 'hi@fabrikam.test',
      },
      kinds: ['customer'],
    },
    contoso: {
      fields: {
        name: 'Contoso',
        address: 'Gasse 3',
        city: 'Wien',
        postCode: '1010',
        phone: '+43 1 3',
        email: 'info@contoso.test',
      },
      kinds: ['customer'],
    },
  };
  const scenario: Scenario = { companies: {}, accounts: {} };
  const contactIds: string[] = [];
  for (const [key, { fields, kinds }] of Object.entries(seeds)) {
    const company = hubspot.createCompany(toHubSpot(fields));
    scenario.companies[key] = company.id;
    scenario.accounts[key] = {};
    const contactId = `company-${company.id}`;
    contactIds.push(contactId);
    for (const kind of kinds) {
      const record = kind === 'customer' ? bc.createCustomer(toBc(fields)) : bc.createVendor(toBc(fields));
      scenario.accounts[key][kind] = String(record.id);
      await store.createRelation({
        contactId,
        accountKind: kind,
        accountId: String(record.id),
        relationCode: kind === 'customer' ? 'CUST' : 'VEND',
        origin: 'linked',
      });
    }
  }
  // The first sync records the shadow; both sides already agree.
  await deployment.queues[0]?.addBulk(
    contactIds.map((id) => ({
      name: 'change',
      data: { connector: 'crm', entity: 'contact', id, source: 'manual' },
      opts: { jobId: `first-${id}` },
    })),
  );
  await settle(deployment);

  const company = (key: string) => scenario.companies[key] as string;
  const account = (key: string, kind: AccountKind) => scenario.accounts[key]?.[kind] as string;
  const customerValue = (key: string, field: string) => bc.getCustomer(account(key, 'customer'))?.[field];
  const vendorValue = (key: string, field: string) => bc.getVendor(account(key, 'vendor'))?.[field];
  const companyValue = (key: string, property: string) => hubspot.getCompany(company(key))?.properties[property];

  // 1. A CRM edit reaches the customer and the vendor of the same contact.
  hubspot.updateCompany(company('adatum'), { phone: '+43 316 99' });
  await waitFor(
    async () =>
      customerValue('adatum', 'phoneNumber') === '+43 316 99' && vendorValue('adatum', 'phoneNumber') === '+43 316 99',
    15_000,
    25,
  );
  await settle(deployment);
  // 2. An accounting edit reaches the CRM.
  bc.updateCustomer(account('fabrikam', 'customer'), { city: 'Wels' });
  await waitFor(async () => companyValue('fabrikam', 'city') === 'Wels', 15_000, 25);
  await settle(deployment);
  // 3. A vendor edit fans out through the contact to its customer.
  bc.updateVendor(account('adatum', 'vendor'), { email: 'accounts@adatum.test' });
  await waitFor(
    async () =>
      customerValue('adatum', 'email') === 'accounts@adatum.test' &&
      companyValue('adatum', 'tandem_email') === 'accounts@adatum.test',
    15_000,
    25,
  );
  await settle(deployment);
  // 4. A conflict: both sides change the phone before tandem sees either; the later (accounting) wins.
  hubspot.updateCompany(company('contoso'), { phone: '+43 1 crm' });
  busyWait(5);
  bc.updateCustomer(account('contoso', 'customer'), { phoneNumber: '+43 1 bc' });
  await waitFor(async () => companyValue('contoso', 'phone') === '+43 1 bc', 15_000, 25);
  await settle(deployment);
  // 5. Two edits to different fields of one record on both sides at once: both survive.
  hubspot.updateCompany(company('fabrikam'), { name: 'Fabrikam Ltd' });
  bc.updateCustomer(account('fabrikam', 'customer'), { postalCode: '4600' });
  await waitFor(
    async () =>
      customerValue('fabrikam', 'displayName') === 'Fabrikam Ltd' && companyValue('fabrikam', 'zip') === '4600',
    15_000,
    25,
  );
  await settle(deployment);
  return scenario;
}

/** What must be equal across deployments: records and audited changes, without ids and times. */
async function outcome(deployment: Deployment, scenario: Scenario) {
  const { hubspot, bc, store } = deployment;
  const records: Record<string, unknown> = {};
  const pick = (record: Record<string, unknown> | undefined, keys: string[]) =>
    Object.fromEntries(keys.map((key) => [key, record?.[key] ?? null]));
  const identity = Object.fromEntries(CUSTOMER_FIELDS.map((field) => [field, field]));
  const hubspotKeys = Object.keys(toHubSpot(identity));
  const bcKeys = Object.keys(toBc(identity));
  const names: Record<string, string> = {};
  for (const [key, id] of Object.entries(scenario.companies)) {
    records[`company ${key}`] = pick(hubspot.getCompany(id)?.properties, hubspotKeys);
    names[`company-${id}`] = key;
    const { customer, vendor } = scenario.accounts[key] ?? {};
    if (customer) {
      records[`customer ${key}`] = pick(bc.getCustomer(customer), bcKeys);
      names[customer] = `customer ${key}`;
    }
    if (vendor) {
      records[`vendor ${key}`] = pick(bc.getVendor(vendor), bcKeys);
      names[vendor] = `vendor ${key}`;
    }
  }
  const audit = (await store.queryAudit({}))
    .filter((entry) => entry.kind === 'fieldChange' || entry.kind === 'conflict')
    .map((entry) => ({
      kind: entry.kind,
      contact: names[entry.contactId ?? ''],
      account: names[entry.accountId ?? ''],
      field: entry.field,
      oldValue: entry.oldValue ?? null,
      newValue: entry.newValue ?? null,
      direction: entry.direction ?? null,
      sourceSystem: entry.sourceSystem ?? null,
    }))
    .map((entry) => JSON.stringify(entry))
    .sort();
  return { records, audit };
}

/** How many intake and write jobs each process logged as done. */
function jobsByRole(deployment: Deployment): Array<{ role: Role; jobs: number }> {
  return deployment.processes.map(({ role, output }) => ({
    role,
    jobs: output.filter((line) => line.includes('"msg":"change processed"') || line.includes('"msg":"written"')).length,
  }));
}

test('api, two workers and a scheduler end where one process ends', async () => {
  const started = Date.now();
  const deployments = await Promise.allSettled([
    startDeployment(['all']),
    startDeployment(['api', 'worker', 'worker', 'scheduler']),
  ]);
  const [single, split] = deployments.map((result) => (result.status === 'fulfilled' ? result.value : undefined));
  if (!single || !split) {
    await Promise.all(
      [single, split].map((deployment) => (deployment ? stopDeployment(deployment) : Promise.resolve())),
    );
    throw (
      deployments.flatMap((result) => (result.status === 'rejected' ? [result.reason as Error] : []))[0] ??
      new Error('a deployment did not start')
    );
  }
  const startedIn = Date.now() - started;
  try {
    const [singleScenario, splitScenario] = await Promise.all([runScenario(single), runScenario(split)]);
    const [expected, actual] = await Promise.all([outcome(single, singleScenario), outcome(split, splitScenario)]);

    expect(actual.records).toEqual(expected.records);
    expect(actual.audit).toEqual(expected.audit);
    // The scenario did what it meant to: the conflict is audited, the accounting side won.
    expect(expected.audit.filter((entry) => entry.includes('"kind":"conflict"'))).toHaveLength(1);
    expect(expected.records['company contoso']).toMatchObject({ phone: '+43 1 bc' });
    expect(expected.records['customer contoso']).toMatchObject({ phoneNumber: '+43 1 bc' });
    expect(expected.audit.length).toBeGreaterThanOrEqual(7);

    // Only the workers ran jobs in the split deployment.
    const byRole = jobsByRole(split);
    expect(byRole.filter(({ role }) => role !== 'worker').every(({ jobs }) => jobs === 0)).toBe(true);
    expect(byRole.filter(({ role }) => role === 'worker').reduce((sum, { jobs }) => sum + jobs, 0)).toBeGreaterThan(0);
    // Only the api process listens; the scheduler polled.
    expect(
      split.processes
        .filter(({ output }) => output.some((line) => line.includes('"tandem started"') && line.includes('"url"')))
        .map(({ role }) => role),
    ).toEqual(['api']);
    process.stdout.write(
      `roles: processes up in ${startedIn} ms, scenario done in ${Date.now() - started} ms; jobs by process ${JSON.stringify(byRole)}\n`,
    );
  } finally {
    await Promise.all([stopDeployment(single), stopDeployment(split)]);
  }
});
