/**
 * The drift sweep end to end, over both sandboxes, real Redis and PGlite: changes tandem never
 * heard of (a webhook not delivered, an edit of the accounting side while nothing polls) are found
 * by a sweep, audited, and repaired through the normal sync; a shadow that claims two differing
 * records agreed is forgotten and decided afresh. The admin API and `tandem drift` run it.
 */
import { runCli } from '../src/cli/run';
import { waitFor } from '../src/util/net';
import { settle, startRig, type Rig } from './support/harness';

const ADMIN = 'drift-admin-token-0123456789';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({ adminTokens: { admin: [ADMIN], viewer: [] }, accountingWebhooks: false });
});
afterAll(async () => {
  await rig?.stop();
});

const company = (name: string) => ({
  name,
  address: 'Oudegracht 1',
  city: 'Utrecht',
  postCode: '3511 AA',
  countryCode: 'NL',
  phone: '+31 30 100 0000',
  email: `info@${name.toLowerCase().replace(/[^a-z]/g, '')}.example`,
});

/** Runs `body` while the CRM sandbox delivers no webhooks: tandem does not hear of its changes. */
async function unheard(body: () => Promise<void> | void) {
  rig.hubspot.setWebhookTarget(null);
  try {
    await body();
  } finally {
    rig.hubspot.setWebhookTarget({ targetUrl: rig.webhookUrl, clientSecret: 'test-hubspot-secret', batchDelayMs: 10 });
  }
}

test('a sweep finds changes tandem never heard of, audits them, and repairs them through the sync', async () => {
  const inStep = await rig.linkedCompany(company('In Step BV'), ['customer']);
  const missedCrm = await rig.linkedCompany(company('Missed Webhook BV'), ['customer']);
  const missedBc = await rig.linkedCompany(company('Unpolled Edit BV'), ['vendor']);
  await unheard(() => {
    rig.hubspot.updateCompany(missedCrm.hubspotId, { phone: '+31 30 999 0001' });
  });
  // Business Central's notifications are off and nothing polls: this edit goes unseen too.
  rig.bc.updateVendor(missedBc.accounts.vendor as string, { city: 'Amersfoort' });
  await settle(rig);
  expect(rig.bc.getCustomer(missedCrm.accounts.customer as string)?.phoneNumber).toBe('+31 30 100 0000');

  const report = await rig.daemon.drift.runNow();
  expect(report).toMatchObject({ drifted: 2, repaired: 2, stopped: false });
  expect(report?.relations).toBeGreaterThanOrEqual(3);
  expect(
    report?.findings.map((finding) => [
      finding.contactId,
      finding.fields.map((field) => [field.contactField, field.cause]),
    ]),
  ).toEqual(
    expect.arrayContaining([
      [missedCrm.contactId, [['phone', 'missed']]],
      [missedBc.contactId, [['city', 'missed']]],
    ]),
  );
  expect(report?.findings.map((finding) => finding.contactId)).not.toContain(inStep.contactId);
  // Batched reads: a handful of calls per side, not one per relation.
  expect(report?.requests.crm).toBeLessThanOrEqual(2);

  await waitFor(
    () => rig.bc.getCustomer(missedCrm.accounts.customer as string)?.phoneNumber === '+31 30 999 0001',
    10_000,
  );
  await waitFor(() => rig.hubspot.getCompany(missedBc.hubspotId)?.properties.city === 'Amersfoort', 10_000);
  await settle(rig);

  const drift = await rig.store.queryAudit({ contactId: missedCrm.contactId, kind: 'drift' });
  expect(drift).toHaveLength(1);
  expect(drift[0]?.details).toMatchObject({
    fields: [
      { contactField: 'phone', contactValue: '+31 30 999 0001', accountValue: '+31 30 100 0000', cause: 'missed' },
    ],
  });
  const repairs = await rig.store.queryAudit({ contactId: missedCrm.contactId, kind: 'fieldChange' });
  expect(repairs).toEqual([
    expect.objectContaining({
      field: 'phone',
      newValue: '+31 30 999 0001',
      details: expect.objectContaining({ repair: 'drift sweep' }),
    }),
  ]);

  // Repaired, the next sweep finds nothing.
  const again = await rig.daemon.drift.runNow();
  expect(again?.drifted).toBe(0);
});

test('a shadow that claims two differing records agreed is forgotten, and last-writer-wins decides', async () => {
  const linked = await rig.linkedCompany(company('Split Story BV'), ['customer']);
  const customerId = linked.accounts.customer as string;
  // Both records change, and the shadow is made to claim each still holds what it held.
  await unheard(() => {
    rig.hubspot.updateCompany(linked.hubspotId, { city: 'Zeist' });
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  rig.bc.updateCustomer(customerId, { city: 'Houten' });
  const [relation] = await rig.store.findRelationsByContact(linked.contactId);
  const at = new Date().toISOString();
  await rig.store.recordSync(
    [
      {
        relationId: relation?.id ?? '',
        side: 'contact',
        field: 'city',
        value: 'Zeist',
        sourceModifiedAt: at,
        syncedAt: at,
      },
      {
        relationId: relation?.id ?? '',
        side: 'account',
        field: 'city',
        value: 'Houten',
        sourceModifiedAt: at,
        syncedAt: at,
      },
    ],
    [],
  );

  const report = await rig.daemon.drift.runNow();
  const finding = report?.findings.find((entry) => entry.contactId === linked.contactId);
  expect(finding?.fields).toEqual([expect.objectContaining({ contactField: 'city', cause: 'inconsistent' })]);
  // The newer edit (the customer's) reaches the contact.
  await waitFor(() => rig.hubspot.getCompany(linked.hubspotId)?.properties.city === 'Houten', 10_000);
  await settle(rig);
  expect(rig.bc.getCustomer(customerId)?.city).toBe('Houten');
});

test('the admin API starts a sweep and tells its state; `tandem drift --json` prints the report', async () => {
  const headers = { authorization: `Bearer ${ADMIN}` };
  const started = await fetch(new URL('/api/drift', rig.daemon.url), { method: 'POST', headers });
  expect(started.status).toBe(202);
  const body = (await started.json()) as { started: boolean; status: { running: { startedAt: string } | null } };
  expect(body.started).toBe(true);
  await waitFor(async () => {
    const state = (await (await fetch(new URL('/api/drift', rig.daemon.url), { headers })).json()) as {
      running: unknown;
      last: { startedAt: string } | null;
    };
    return state.running === null && state.last !== null;
  }, 10_000);

  let stdout = '';
  const code = await runCli(['drift', '--json'], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: () => true },
    env: { TANDEM_URL: rig.daemon.url, TANDEM_TOKEN: ADMIN },
  });
  expect(code).toBe(0);
  const report = JSON.parse(stdout) as { relations: number; drifted: number; stopped: boolean };
  expect(report.relations).toBeGreaterThan(0);
  expect(report.stopped).toBe(false);

  const metrics = await rig.daemon.metrics.exposition();
  expect(metrics).toMatch(/tandem_drift_relations_total\{outcome="inStep"\} [1-9]/);
  expect(metrics).toMatch(/tandem_drift_last_sweep_timestamp_seconds [1-9]/);
});

test('saving a mapping from the console starts a sweep that applies it to the relations there are', async () => {
  const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', 'x-tandem-request': '1' };
  const vendor = await rig.linkedCompany(company('Newly Mapped BV'), ['vendor']);
  // A field the vendor mapping does not carry: nothing syncs it.
  await unheard(() => {
    rig.hubspot.updateCompany(vendor.hubspotId, { tandem_vat_registration_no: 'NL123456789B01' });
  });
  await settle(rig);
  const vendorTax = () => rig.bc.getVendor(vendor.accounts.vendor as string)?.taxRegistrationNumber ?? null;
  expect(vendorTax()).toBeFalsy();
  // Wait for any sweep of the tests above to end: a running one would not read the new mapping.
  await waitFor(async () => (await rig.daemon.drift.status()).running === null, 10_000);

  const { relationCodes, mappings } = rig.config;
  const withVat = {
    ...mappings,
    vendor: [...(mappings.vendor ?? []), { contact: 'vatRegistrationNo', account: 'vatRegistrationNo' }],
  };
  const saved = await fetch(new URL('/api/console/config', rig.daemon.url), {
    method: 'POST',
    headers,
    body: JSON.stringify({
      yaml: JSON.stringify({ relationCodes, mappings: withVat }),
      comment: 'vendors carry the VAT no.',
    }),
  });
  expect(saved.status).toBe(201);
  expect(await saved.json()).toMatchObject({ resync: 'started' });
  await waitFor(() => vendorTax() === 'NL123456789B01', 15_000);
});
