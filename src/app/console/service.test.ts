import { configSchema } from '../../config/schema';
import { createPgliteExecutor, SqlStore, type SqlExecutor } from '../../store';
import type { Store } from '../ports/store';
import { directWrites, FakeConnector, quietLogger } from '../../../test/support/fakes';
import type { Engine } from '../ports/index';
import { createRelationService } from '../relations';
import { ConflictProblem, InvalidInputProblem, NotFoundProblem } from '../ports/problems';
import { syncContact } from '../sync-contact';
import { createConsoleService, type FullConsoleService } from '.';
import type { ConsoleQueues } from '../ports/queues';
import { csvCell } from './csv';

const actor = { name: 'ops' };
const FIELDS = ['name', 'phone', 'city'];

const baseConfig = () =>
  configSchema.parse({
    connectors: {
      crm: { kind: 'hubspot', baseUrl: 'http://127.0.0.1:9', credentials: { token: 'x' }, webhooks: false },
      accounting: {
        kind: 'business-central',
        baseUrl: 'http://127.0.0.1:9',
        companyId: 'c1',
        credentials: { tokenUrl: 'http://127.0.0.1:9/t', clientId: 'x', clientSecret: 'x' },
        webhooks: false,
        rateLimit: { max: 5, per: '10s' },
      },
    },
    relationCodes: { customer: 'CUST', vendor: 'VEND' },
    mappings: {
      customer: [
        { contact: 'name', account: 'name' },
        { contact: 'phone', account: 'phone' },
      ],
      vendor: [{ contact: 'name', account: 'name' }],
    },
  });

let store: Store;
let sql: SqlExecutor;
let crm: FakeConnector;
let accounting: FakeConnector;
let engine: Engine;
let console_: FullConsoleService;
let enqueued: unknown[];
let failedJobs: Array<{ id: string; data: unknown; timestamp: number; finishedOn: number; failedReason: string }>;

const fakeQueues = (): ConsoleQueues => ({
  enqueueChange: async (change) => {
    enqueued.push(change);
    // Like the queue adapter's ids: the same change (same event id) gets the same job id.
    return `chg-${change.id}-${change.eventId ?? ''}`;
  },
  queues: [
    {
      name: 'intake',
      getJobCounts: async () => ({ waiting: enqueued.length, failed: failedJobs.length }),
      getJobs: async (types) =>
        types.includes('failed')
          ? failedJobs
          : types.includes('waiting')
            ? enqueued.map((data, index) => ({ id: `q${index}`, data, timestamp: Date.now() }))
            : [],
    },
  ],
});

beforeAll(async () => {
  sql = await createPgliteExecutor();
  store = new SqlStore(sql);
  await store.migrate();
});
afterAll(() => store.close());
beforeEach(async () => {
  await sql.query(
    'TRUNCATE business_relation, relation_shadow, audit_log, interaction, relation_operation, match_rejection, config_version RESTART IDENTITY',
  );
  crm = new FakeConnector({
    name: 'crm',
    system: 'crm',
    entities: ['contact'],
    fields: FIELDS,
    changedPages: (entity) => [{ records: [...crm.records.values()].filter((r) => r.entity === entity), cursor: 'c' }],
  });
  accounting = new FakeConnector({
    name: 'accounting',
    system: 'accounting',
    entities: ['customer', 'vendor'],
    fields: FIELDS,
    changedPages: (entity) => [
      { records: [...accounting.records.values()].filter((r) => r.entity === entity), cursor: 'c' },
    ],
  });
  engine = {
    config: baseConfig(),
    store,
    crm,
    accounting,
    writes: directWrites({ crm, accounting }),
    logger: quietLogger,
  };
  enqueued = [];
  failedJobs = [];
  console_ = createConsoleService({ engine, relations: createRelationService(engine), queues: fakeQueues() });
});

/** A linked, synced contact c1 with customer a1 (and optionally vendor v1). */
async function linked(withVendor = false) {
  crm.put('contact', 'c1', { name: 'Fabrikam', phone: '+31 1', city: 'Delft' });
  accounting.put('customer', 'a1', { name: 'Fabrikam', phone: '+31 1' });
  const customer = await store.createRelation({
    contactId: 'c1',
    accountKind: 'customer',
    accountId: 'a1',
    relationCode: 'CUST',
    origin: 'linked',
  });
  let vendor;
  if (withVendor) {
    accounting.put('vendor', 'v1', { name: 'Fabrikam' });
    vendor = await store.createRelation({
      contactId: 'c1',
      accountKind: 'vendor',
      accountId: 'v1',
      relationCode: 'VEND',
      origin: 'linked',
    });
  }
  await syncContact(engine, 'c1', 'p0');
  return { customer, vendor };
}

/** Both sides changed the phone: the later (the account) wins, the contact's value loses. */
async function conflict() {
  const relations = await linked();
  crm.edit('contact', 'c1', { phone: '+31 CRM' });
  accounting.edit('customer', 'a1', { phone: '+31 BOOKS' });
  await syncContact(engine, 'c1', 'p1');
  const [entry] = await store.queryAudit({ kind: 'conflict' });
  if (!entry) throw new Error('no conflict');
  return { ...relations, entry };
}

describe('relation rows and states', () => {
  it('names, states and filters relations; a fresh conflict marks its relation, a failed job newer than the sync marks failing', async () => {
    const { customer } = await conflict();
    accounting.put('customer', 'a2', { name: 'Contoso' });
    crm.put('contact', 'c2', { name: 'Contoso' });
    const other = await store.createRelation({
      contactId: 'c2',
      accountKind: 'customer',
      accountId: 'a2',
      relationCode: 'CUST',
      origin: 'linked',
    });
    await syncContact(engine, 'c2', 'p2');
    failedJobs.push({
      id: 'f1',
      data: { entity: 'contact', id: 'c2' },
      timestamp: Date.now() + 1000,
      finishedOn: Date.now() + 1000,
      failedReason: 'boom',
    });

    const all = await console_.listRelationRows({});
    expect(all.total).toBe(2);
    expect(all.rows.find((row) => row.relation.id === customer.id)).toMatchObject({
      state: 'conflict',
      contactName: 'Fabrikam',
      accountName: 'Fabrikam',
    });
    expect(all.rows.find((row) => row.relation.id === other.id)?.state).toBe('failing');
    expect((await console_.listRelationRows({ text: 'contoso' })).rows.map((row) => row.relation.id)).toEqual([
      other.id,
    ]);
    expect((await console_.listRelationRows({ state: 'conflict' })).total).toBe(1);
    expect((await console_.listRelationRows({ limit: 1, offset: 1 })).rows).toHaveLength(1);

    const overview = await console_.overview();
    expect(overview.relations).toEqual({ inSync: 0, pending: 0, failing: 1, conflict: 1, total: 2 });
    expect(overview.latestErrors[0]).toMatchObject({
      jobId: 'f1',
      reason: 'boom',
      contactId: 'c2',
      relationId: other.id,
    });
    expect(overview.connectors[0]).toMatchObject({
      slot: 'crm',
      healthy: true,
      healthError: 'no health check',
      rateLimit: null,
    });
    expect(overview.connectors[1]?.rateLimit).toEqual({ max: 5, perMs: 10_000, usedInWindow: 0 });
  });

  it('resync enqueues a manual change with a fresh event id; an unknown relation is NotFound', async () => {
    const { customer } = await linked();
    const first = await console_.resync(customer.id, actor);
    const second = await console_.resync(customer.id, actor);
    expect(first.jobId).not.toBe(second.jobId);
    expect(enqueued).toEqual([
      expect.objectContaining({ entity: 'contact', id: 'c1', source: 'manual' }),
      expect.anything(),
    ]);
    expect((await console_.listRelationRows({})).rows[0]?.state).toBe('pending');
    await expect(console_.resync('nope', actor)).rejects.toBeInstanceOf(NotFoundProblem);
  });
});

describe('conflicts, apply losing value, undo', () => {
  it('lists the conflict and applies its losing value to both sides, audited and shadowed', async () => {
    const { entry } = await conflict();
    const [row] = await console_.listConflicts({});
    expect(row).toMatchObject({
      auditId: entry.id,
      field: 'phone',
      winner: { system: 'accounting', value: '+31 BOOKS' },
      losers: [{ system: 'crm', value: '+31 CRM' }],
      overriddenBy: null,
    });

    await expect(console_.applyLosingValue(entry.id, {}, actor)).resolves.toEqual({ writes: 2 });
    expect(crm.value('contact', 'c1', 'phone')).toBe('+31 CRM');
    expect(accounting.value('customer', 'a1', 'phone')).toBe('+31 CRM');
    const overrides = await store.auditReferencing('overrides', [entry.id]);
    expect(overrides).toHaveLength(2);
    expect(overrides[0]?.details).toMatchObject({ overrides: entry.id, actor: 'ops' });
    expect((await console_.listConflicts({}))[0]?.overriddenBy).toBe(overrides[0]?.id);
    // The next sync sees nothing to do: the shadow holds the applied value on both sides.
    await expect(syncContact(engine, 'c1', 'p9')).resolves.toEqual({ status: 'unchanged' });
    expect((await console_.listRelationRows({})).rows[0]?.state).toBe('inSync');
  });

  it('refuses an unknown audit id, an entry that is not a conflict, and a loser index out of range', async () => {
    const { entry } = await conflict();
    await expect(console_.applyLosingValue('424242', {}, actor)).rejects.toBeInstanceOf(NotFoundProblem);
    await expect(console_.applyLosingValue('x', {}, actor)).rejects.toBeInstanceOf(NotFoundProblem);
    const [change] = await store.queryAudit({ kind: 'fieldChange' });
    await expect(console_.applyLosingValue(change?.id ?? '', {}, actor)).rejects.toBeInstanceOf(InvalidInputProblem);
    await expect(console_.applyLosingValue(entry.id, { loserIndex: 3 }, actor)).rejects.toMatchObject({
      field: 'loserIndex',
    });
  });

  it('undoes a field change on every side, and the sync leaves it there', async () => {
    await linked(true);
    crm.edit('contact', 'c1', { name: 'Fabrikam Ltd' });
    await syncContact(engine, 'c1', 'p1');
    expect(accounting.value('vendor', 'v1', 'name')).toBe('Fabrikam Ltd');
    const change = (await store.queryAudit({ kind: 'fieldChange', accountKind: 'customer' }))[0];
    expect(change).toMatchObject({ direction: 'toAccounting', oldValue: 'Fabrikam' });

    await expect(console_.undo(change?.id ?? '', actor)).resolves.toEqual({ writes: 3 });
    expect([
      crm.value('contact', 'c1', 'name'),
      accounting.value('customer', 'a1', 'name'),
      accounting.value('vendor', 'v1', 'name'),
    ]).toEqual(['Fabrikam', 'Fabrikam', 'Fabrikam']);
    expect((await store.auditReferencing('undoes', [change?.id ?? ''])).length).toBe(3);
    await expect(syncContact(engine, 'c1', 'p2')).resolves.toEqual({ status: 'unchanged' });
  });

  it('refuses to undo a link, naming what undoes it', async () => {
    const { customer } = await linked();
    await store.appendAudit([{ kind: 'link', relationId: customer.id, contactId: 'c1' }]);
    const [link] = await store.queryAudit({ kind: 'link' });
    const refused = console_.undo(link?.id ?? '', actor);
    await expect(refused).rejects.toBeInstanceOf(ConflictProblem);
    await expect(refused).rejects.toMatchObject({
      code: 'NOT_SUPPORTED',
      message: expect.stringContaining('unlinking'),
    });
    await expect(console_.undo('999', actor)).rejects.toBeInstanceOf(NotFoundProblem);
  });
});

describe('audit CSV and history', () => {
  it('writes RFC 4180 CSV with a header, quotes and formula guards', async () => {
    const { customer } = await linked();
    await store.appendAudit([
      {
        kind: 'fieldChange',
        relationId: customer.id,
        field: 'name',
        oldValue: 'a, "b"\nc',
        newValue: '=HYPERLINK("x")',
        details: { note: 'x' },
      },
    ]);
    const csv = await console_.auditCsv({ kind: 'fieldChange', field: 'name' });
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe(
      'id,appliedAt,kind,relationId,contactId,accountKind,accountId,field,oldValue,newValue,direction,sourceSystem,sourceModifiedAt,jobId,details',
    );
    expect(csv).toContain(',"a, ""b""\nc","\'=HYPERLINK(""x"")",');
    expect(csv).toContain('"{""note"":""x""}"');
    expect(csvCell('+31 1')).toBe("'+31 1");
    expect(csvCell('-1')).toBe("'-1");
    expect(csvCell('@SUM')).toBe("'@SUM");
    expect(csvCell(null)).toBe('');
    const history = await console_.history(customer.id);
    expect(history[0]?.oldValue).toBe('a, "b"\nc');
  });
});

describe('match review', () => {
  it('leaves rejected pairs out of the proposals', async () => {
    crm.put('contact', 'c9', { name: 'Northwind', phone: '1', city: 'X' });
    accounting.put('customer', 'a9', { name: 'Northwind' });
    engine.config = {
      ...baseConfig(),
      matching: {
        rules: [
          { rule: 'namePostCode', score: 80 },
          { rule: 'email', score: 90 },
        ],
        minScore: 1,
      },
    };
    crm.edit('contact', 'c9', { name: 'Northwind' });
    const before = await console_.proposeMatches({});
    await console_.rejectMatch({ contactId: 'c9', accountKind: 'customer', accountId: 'a9' }, actor);
    const after = await console_.proposeMatches({});
    expect(after.pairs.some((pair) => pair.contactId === 'c9' && pair.accountId === 'a9')).toBe(false);
    expect((await store.listMatchRejections())[0]).toMatchObject({ contactId: 'c9', rejectedBy: 'ops' });
    expect(before.pairs.length + before.review.length).toBeGreaterThanOrEqual(0);
    await expect(
      console_.rejectMatch({ contactId: '', accountKind: 'customer', accountId: 'a9' }, actor),
    ).rejects.toBeInstanceOf(InvalidInputProblem);
  });
});

describe('config editing', () => {
  it('reports invalid YAML with its line, unknown and non-editable sections, schema problems and fields the connector lacks', async () => {
    expect(await console_.validateConfig('relationCodes:\n  customer: CUST\n  vendor: [\n')).toEqual([
      expect.objectContaining({ path: '(yaml)', line: expect.any(Number) }),
    ]);
    expect(await console_.validateConfig('queue:\n  prefix: x\nwhatever: 1\n')).toEqual([
      expect.objectContaining({ path: 'queue', message: expect.stringContaining('config file'), line: 1 }),
      expect.objectContaining({ path: 'whatever', line: 3 }),
    ]);
    expect(await console_.validateConfig('relationCodes:\n  customer: WAY-TOO-LONG-CODE\n')).toEqual([
      expect.objectContaining({ path: 'relationCodes.customer', line: 2 }),
    ]);
    const missing = await console_.validateConfig(
      'relationCodes: { customer: CUST }\nmappings:\n  customer:\n    - { contact: email, account: email }\n',
    );
    expect(missing).toEqual([
      expect.objectContaining({ path: 'mappings.customer.0.contact' }),
      expect.objectContaining({ path: 'mappings.customer.0.account' }),
    ]);
    await expect(console_.saveConfig('whatever: 1\n', {}, actor)).rejects.toMatchObject({ field: 'whatever' });
    expect(await console_.validateConfig((await console_.configState()).yaml)).toEqual([]);
  });

  it('previews a newly mapped field as a link would reconcile it, and a removed code as nothing for that kind', async () => {
    await linked(true);
    accounting.edit('customer', 'a1', { city: 'Leiden' });
    const state = await console_.configState();
    expect(state).toMatchObject({ source: 'file', version: null, fileDiffers: false });
    const withCity =
      'relationCodes: { customer: CUST, vendor: VEND }\nmappings:\n  customer: [{ contact: name, account: name }, { contact: phone, account: phone }, { contact: city, account: city }]\n  vendor: [{ contact: name, account: name }]\n';
    const preview = await console_.previewConfig(withCity);
    expect(preview.changedKeys).toEqual(['mappings.customer']);
    expect(preview.writes).toEqual([
      expect.objectContaining({
        system: 'accounting',
        entity: 'customer',
        recordId: 'a1',
        field: 'city',
        from: 'Leiden',
        to: 'Delft',
      }),
    ]);
    expect(preview.summary).toEqual([{ system: 'accounting', field: 'city', records: 1 }]);
    expect(preview.relationsChecked).toBe(2);
    expect(accounting.value('customer', 'a1', 'city')).toBe('Leiden');

    const noVendors =
      'relationCodes: { customer: CUST, vendor: null }\nmappings:\n  customer: [{ contact: name, account: name }, { contact: phone, account: phone }]\n  vendor: [{ contact: name, account: name }]\n';
    crm.edit('contact', 'c1', { name: 'Renamed' });
    const vendorless = await console_.previewConfig(noVendors);
    expect(vendorless.relationsChecked).toBe(1);
    expect(vendorless.writes.every((write) => write.entity !== 'vendor')).toBe(true);
    expect(vendorless.writes).toEqual([expect.objectContaining({ entity: 'customer', field: 'name', to: 'Renamed' })]);

    const saved = await console_.saveConfig(noVendors, { comment: 'vendors off' }, actor);
    expect(saved).toMatchObject({ version: 1, savedBy: 'ops', comment: 'vendors off' });
    expect(engine.config.relationCodes.vendor).toBeNull();
    await syncContact(engine, 'c1', 'p5');
    expect(accounting.value('customer', 'a1', 'name')).toBe('Renamed');
    expect(accounting.value('vendor', 'v1', 'name')).toBe('Fabrikam');
    expect(await console_.configState()).toMatchObject({ source: 'stored', version: 1, fileDiffers: true });
  });

  it('starts a drift sweep when a save changes the mappings or filters, and says so', async () => {
    const sweeps: string[] = [];
    let answer: () => Promise<{ started: boolean }> = async () => ({ started: true });
    const withSweep = createConsoleService({
      engine,
      relations: createRelationService(engine),
      queues: fakeQueues(),
      resync: () => {
        sweeps.push('start');
        return answer();
      },
    });
    const base = 'relationCodes: { customer: CUST, vendor: VEND }\n';
    const mapped = (fields: string[]) =>
      `${base}mappings:\n  customer: [${fields.map((f) => `{ contact: ${f}, account: ${f} }`).join(', ')}]\n  vendor: [{ contact: name, account: name }]\n`;
    expect(await withSweep.saveConfig(mapped(['name', 'phone', 'city']), {}, actor)).toMatchObject({
      version: 1,
      resync: 'started',
    });
    // Only the codes change: nothing to resync.
    const codes = await withSweep.saveConfig(mapped(['name', 'phone', 'city']).replace('VEND', 'SUPP'), {}, actor);
    expect(codes.resync).toBeUndefined();
    answer = async () => ({ started: false });
    expect((await withSweep.saveConfig(mapped(['name', 'phone']), {}, actor)).resync).toBe('running');
    answer = () => Promise.reject(new Error('redis down'));
    expect((await withSweep.restoreConfigVersion(1, actor)).resync).toBe('none');
    expect(sweeps).toHaveLength(3);
    // Without a sweep to start (a process that runs none) the next scheduled one applies it.
    expect((await console_.saveConfig(mapped(['name']), {}, actor)).resync).toBe('none');
  });

  it('keeps versions, restores an old one as a new version, imports the file', async () => {
    const file = (await console_.configState()).yaml;
    await console_.saveConfig(
      'relationCodes: { customer: CUST }\nmappings:\n  customer: [{ contact: name, account: name }]\n',
      {},
      actor,
    );
    expect(engine.config.relationCodes.vendor).toBeNull();
    const restored = await console_.importFileConfig(actor);
    expect(restored.version).toBe(2);
    expect(engine.config.relationCodes.vendor).toBe('VEND');
    expect((await console_.configState()).fileDiffers).toBe(false);
    await console_.restoreConfigVersion(1, actor);
    expect(engine.config.relationCodes.vendor).toBeNull();
    expect((await console_.listConfigVersions()).map((version) => version.version)).toEqual([3, 2, 1]);
    await expect(console_.restoreConfigVersion(9, actor)).rejects.toBeInstanceOf(NotFoundProblem);
    expect(file).toContain('relationCodes:');
  });
});
