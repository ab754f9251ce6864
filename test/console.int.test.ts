/**
 * The console service through the daemon over fake connectors and real Redis: a saved config
 * reaches a second daemon, a resync runs, a conflict's losing value and an undo go through the
 * write queues and stay put.
 */
import { openPgliteStore } from '../src/store';
import type { Store } from '../src/app/ports/store';
import { waitFor } from '../src/util/net';
import { clearPrefix, fakeAccounting, fakeCrm, startFakeRig, uniquePrefix, type FakeRig } from './support/fakes';

const actor = { name: 'ops' };
let store: Store;
let prefix: string;
let first: FakeRig;
let second: FakeRig;

beforeAll(async () => {
  store = await openPgliteStore();
  prefix = uniquePrefix();
  const crm = fakeCrm();
  const accounting = fakeAccounting();
  first = await startFakeRig({ prefix, store, crmConnector: crm, accountingConnector: accounting });
  second = await startFakeRig({ prefix, store, crmConnector: crm, accountingConnector: accounting });
});
afterAll(async () => {
  await first?.stop();
  await second?.stop();
  await store?.close();
  await clearPrefix(prefix);
});

const settled = async (rig: FakeRig) =>
  waitFor(
    async () => {
      const counts = await rig.daemon.queues.intake.getJobCounts('waiting', 'active', 'delayed');
      return (counts['waiting'] ?? 0) + (counts['active'] ?? 0) + (counts['delayed'] ?? 0) === 0;
    },
    10_000,
    20,
  );

it('a config saved in one daemon is in force in the other within a second', async () => {
  const yaml =
    'relationCodes: { customer: CUST, vendor: null }\nmappings:\n  customer: [{ contact: name, account: name }, { contact: phone, account: phone }]\n';
  const version = await first.daemon.console.saveConfig(yaml, { comment: 'no city' }, actor);
  expect(first.daemon.engine.config.mappings.customer).toHaveLength(2);
  const started = Date.now();
  await waitFor(async () => second.daemon.engine.config.mappings.customer?.length === 2, 1000, 10);
  expect(Date.now() - started).toBeLessThan(1000);
  expect((await second.daemon.console.configState()).version).toBe(version.version);
});

it('resync enqueues a sync of the contact that completes', async () => {
  await first.linked('c1', 'a1', { name: 'Fabrikam', phone: '+31 1', city: 'Delft' });
  const relation = (await store.findRelationsByContact('c1'))[0];
  const { jobId } = await first.daemon.console.resync(relation?.id ?? '', actor);
  await waitFor(async () => (await first.daemon.queues.intake.getJob(jobId))?.finishedOn !== undefined, 10_000, 20);
  expect(await (await first.daemon.queues.intake.getJob(jobId))?.getState()).toBe('completed');
});

it('applies a losing value on both sides, audited, and undoes a change without ping-pong', async () => {
  const relation = (await store.findRelationsByContact('c1'))[0];
  // Both sides change the phone; the account's later change wins, the contact's loses.
  first.crm.edit('contact', 'c1', { phone: '+31 CRM' });
  first.accounting.edit('customer', 'a1', { phone: '+31 BOOKS' });
  await first.contactChanged('c1');
  await waitFor(async () => (await first.daemon.console.listConflicts({})).length === 1, 10_000, 20);
  const [conflict] = await first.daemon.console.listConflicts({ relationId: relation?.id });
  expect(conflict?.losers[0]?.value).toBe('+31 CRM');

  await first.daemon.console.applyLosingValue(conflict?.auditId ?? '', {}, actor);
  expect(first.crm.value('contact', 'c1', 'phone')).toBe('+31 CRM');
  expect(first.accounting.value('customer', 'a1', 'phone')).toBe('+31 CRM');
  expect((await first.daemon.console.listConflicts({}))[0]?.overriddenBy).not.toBeNull();

  // The records' reports of these writes come back as echoes: nothing is written again.
  const updates = first.crm.updates.length + first.accounting.updates.length;
  await first.contactChanged('c1');
  await first.daemon.queues.enqueueChanges([first.accounting.change('customer', 'a1', 'accounting')]);
  await settled(first);

  first.crm.edit('contact', 'c1', { name: 'Fabrikam Ltd' });
  await first.contactChanged('c1');
  await waitFor(async () => first.accounting.value('customer', 'a1', 'name') === 'Fabrikam Ltd', 10_000, 20);
  await settled(first);
  const change = (await store.queryAudit({ kind: 'fieldChange', field: 'name', newestFirst: true }))[0];
  await first.daemon.console.undo(change?.id ?? '', actor);
  expect(first.crm.value('contact', 'c1', 'name')).toBe('Fabrikam');
  expect(first.accounting.value('customer', 'a1', 'name')).toBe('Fabrikam');
  const afterUndo = first.crm.updates.length + first.accounting.updates.length;
  await first.contactChanged('c1');
  await first.daemon.queues.enqueueChanges([first.accounting.change('customer', 'a1', 'accounting')]);
  await settled(first);
  expect(first.crm.updates.length + first.accounting.updates.length).toBe(afterUndo);
  expect(afterUndo).toBeGreaterThan(updates);
  expect(first.crm.value('contact', 'c1', 'name')).toBe('Fabrikam');

  const csv = await first.daemon.console.auditCsv({ relationId: relation?.id });
  expect(csv.split('\r\n')[0]).toMatch(/^id,appliedAt,kind,/);
  expect(csv).toContain("'+31 CRM");
});
