/**
 * The first sync end to end, over both sandboxes, real Redis and PGlite: a dry run through
 * `tandem first-sync --dry-run --json` counts what would happen and writes nothing; the run then
 * links a few hundred pairs reading each side once per batch (not once per pair), and leaves the
 * ambiguous pair for the review.
 */
import { runCli } from '../src/cli/run';
import { startRig, toBc, toHubSpot, type Rig } from './support/harness';

const ADMIN = 'first-sync-admin-token-0123456789';
const PAIRS = 240;

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({ adminTokens: { admin: [ADMIN], viewer: [] }, accountingWebhooks: false });
  // Created while nothing listens: the sync does not hear of them, only the first sync finds them.
  rig.hubspot.setWebhookTarget(null);
  for (let i = 0; i < PAIRS; i++) {
    const fields = { name: `Pair ${i} BV`, city: 'Utrecht', vatRegistrationNo: `NL${100000000 + i}B01` };
    rig.hubspot.createCompany(toHubSpot(fields));
    rig.bc.createCustomer(toBc({ ...fields, vatRegistrationNo: `${100000000 + i}B01` }));
  }
  rig.hubspot.createCompany(toHubSpot({ name: 'Twin Holding', email: 'info@twins.example' }));
  rig.bc.createCustomer(toBc({ name: 'Twin A', email: 'info@twins.example' }));
  rig.bc.createCustomer(toBc({ name: 'Twin B', email: 'info@twins.example' }));
  rig.bc.createCustomer(toBc({ name: 'Nobody Alike' }));
}, 60_000);
afterAll(async () => {
  await rig?.stop();
});

async function cli(args: string[]): Promise<{ code: number; lines: unknown[] }> {
  let stdout = '';
  const code = await runCli(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: () => true },
    env: { TANDEM_URL: rig.daemon.url, TANDEM_TOKEN: ADMIN },
  });
  return {
    code,
    lines: stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown),
  };
}

/** Requests that read records by id: HubSpot's batch read, Business Central's `$batch` of GETs. */
function batchReads() {
  return {
    crm: rig.hubspot.requests.filter((request) => request.path === '/crm/v3/objects/companies/batch/read').length,
    accounting: rig.bc.requests.filter(
      (request) => request.path === '$batch' && JSON.stringify(request.requestBody).includes('"method":"GET"'),
    ).length,
    singleCrm: rig.hubspot.requests.filter(
      (request) => request.method === 'GET' && /^\/crm\/v3\/objects\/companies\/\d+$/.test(request.path),
    ).length,
    singleAccounting: rig.bc.requests.filter(
      (request) => request.method === 'GET' && /customers\([^)]+\)$/.test(request.path),
    ).length,
  };
}

test('a dry run counts what would be linked, left for review and skipped, and writes nothing', async () => {
  const { code, lines } = await cli(['first-sync', '--dry-run', '--json']);
  expect(code).toBe(0);
  const last = lines.at(-1) as { report: Record<string, unknown> };
  expect(last.report).toMatchObject({
    dryRun: true,
    runId: null,
    counts: { link: PAIRS, create: 0, ambiguous: 1, unmatched: { accounts: 0 } },
    outcome: { linked: 0 },
  });
  // The customer with only a name cannot be matched by any rule.
  expect((last.report['counts'] as { skipped: { missingFields: number } }).skipped.missingFields).toBeGreaterThan(0);
  expect(last.report['createReason']).toContain('automaticContacts is off');
  expect(await rig.store.listRelations()).toEqual([]);
  const status = await fetch(`${rig.daemon.url}/api/first-sync`, { headers: { authorization: `Bearer ${ADMIN}` } });
  expect(((await status.json()) as { last: { dryRun: boolean } }).last.dryRun).toBe(true);
}, 60_000);

test('the run links every pair with one batch read per side per batch', async () => {
  rig.hubspot.resetRequests();
  rig.bc.resetRequests();
  const report = await rig.daemon.firstSync.runNow({ dryRun: false });
  const relations = await rig.store.listRelations({ limit: 1000 });
  expect(relations).toHaveLength(PAIRS);
  expect(report).toMatchObject({ stopped: false, outcome: { linked: PAIRS, failed: 0 }, counts: { ambiguous: 1 } });
  // Reconciled: the contact's VAT number (with its country prefix) reached the customer.
  const linked = relations[0];
  expect(rig.bc.getCustomer(linked?.accountId as string)?.taxRegistrationNumber).toMatch(/^NL/);
  // Batches of 100 pairs (Business Central's `$batch` of 100 GETs, the larger of the two batch
  // reads): one Business Central batch read per batch, and HubSpot's batch read of 50 twice.
  const reads = batchReads();
  const batches = Math.ceil(PAIRS / 100);
  expect(reads.accounting).toBeGreaterThanOrEqual(batches);
  expect(reads.accounting).toBeLessThanOrEqual(batches + 1);
  expect(reads.crm).toBeGreaterThanOrEqual(Math.ceil(PAIRS / 50));
  expect(reads.crm).toBeLessThanOrEqual(2 * batches + 1);
  expect(reads.singleCrm).toBeLessThan(5);
  expect(reads.singleAccounting).toBeLessThan(5);

  // A second run finds nothing left to link.
  const again = await rig.daemon.firstSync.runNow({ dryRun: true });
  expect(again?.counts).toMatchObject({ link: 0, skipped: { alreadyLinked: PAIRS } });
}, 120_000);
