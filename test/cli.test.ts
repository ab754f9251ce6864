/**
 * The `tandem` command line in-process against a real admin API server on a loopback port, over a
 * fake relation service: tables and --json, every exit code, progress of match --apply, usage errors.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { ConflictProblem } from '../src/app/ports/problems';
import { runCli, type CliIo } from '../src/cli/run';
import { USAGE } from '../src/cli/usage';
import { registerAdminApi, type DaemonStatus } from '../src/http/admin';
import { FakeRelationService, upstreamFailure } from './support/fake-relation-service';
import { freePort } from '../src/util/net';

const ADMIN = 'admin-token-0123456789abcdef';
const VIEWER = 'viewer-token-0123456789abcdef';

const STATUS: DaemonStatus = {
  role: 'all',
  startedAt: '2024-05-01T10:00:00.000Z',
  uptimeSeconds: 3725,
  connectors: [
    { slot: 'crm', name: 'hubspot', kind: 'hubspot', system: 'crm' },
    { slot: 'accounting', name: 'business-central', kind: 'business-central', system: 'accounting' },
  ],
  queues: {
    intake: { waiting: 2, active: 1, delayed: 0, failed: 0, completed: 40 },
    'write-crm': { waiting: 0, active: 0, delayed: 0, failed: 3, completed: 12 },
  },
  relations: { customer: 4, vendor: 1, bankAccount: 0 },
  relationCodes: { customer: 'CUST', vendor: 'VEND', bankAccount: null },
};

let app: FastifyInstance;
let url: string;
let service: FakeRelationService;

beforeEach(async () => {
  service = new FakeRelationService();
  app = Fastify({ loggerInstance: pino({ level: 'silent' }) }) as unknown as FastifyInstance;
  await registerAdminApi(app, { service, status: async () => STATUS, tokens: { admin: [ADMIN], viewer: [VIEWER] } });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterEach(async () => {
  await app.close();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with TANDEM_URL and TANDEM_TOKEN set to the test server and the admin token. */
async function tandem(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; tty?: boolean; answers?: string[] } = {},
): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text), isTTY: options.tty ?? false },
    env: { TANDEM_URL: url, TANDEM_TOKEN: ADMIN, ...options.env },
    ...(options.answers && {
      ask: async (question: string) => {
        stderr += question;
        return options.answers?.shift() ?? '';
      },
    }),
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

const lines = (text: string) => text.trimEnd().split('\n');

describe('output', () => {
  it('link prints what happened and the field changes as a table; --json prints the API answer', async () => {
    const human = await tandem(['link', 'C1', 'customer', 'K1', '--winner', 'contact']);
    expect(human).toMatchObject({ code: 0, stderr: '' });
    expect(lines(human.stdout)).toEqual([
      'linked contact C1 with customer K1: relation R1 (CUST)',
      'SIDE     FIELD  FROM       TO',
      'account  phone  +44 1 222  +44 1 111',
    ]);
    const json = await tandem(['link', 'C2', 'customer', 'K2', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      relation: { id: 'R2', contactId: 'C2', accountKind: 'customer', accountId: 'K2' },
      changes: expect.any(Array),
    });
  });

  it('relations is an aligned table, filtered by --kind and --contact', async () => {
    await tandem(['link', 'C1', 'customer', 'K1']);
    await tandem(['link', 'C3', 'vendor', 'V1']);
    const all = await tandem(['relations']);
    const table = lines(all.stdout);
    expect(table[0]).toBe('RELATION  CONTACT  KIND      ACCOUNT  CODE  ORIGIN  CREATED');
    expect(table.slice(1)).toEqual([
      'R1        C1       customer  K1       CUST  linked  2024-05-01T10:00:00.000Z',
      'R2        C3       vendor    V1       VEND  linked  2024-05-01T10:00:00.000Z',
    ]);
    const vendors = await tandem(['relations', '--kind', 'vendor', '--contact', 'C3', '--json']);
    expect(JSON.parse(vendors.stdout)).toEqual([expect.objectContaining({ id: 'R2' })]);
    expect(service.calls.at(-1)?.args[0]).toEqual({ kind: 'vendor', contactId: 'C3' });
    expect((await tandem(['relations', '--kind', 'bankAccount'])).stdout).toBe('no relations\n');
  });

  it('relation shows both records side by side', async () => {
    await tandem(['link', 'C1', 'customer', 'K1']);
    const { code, stdout } = await tandem(['relation', 'R1']);
    expect(code).toBe(0);
    expect(stdout).toContain('in sync   no');
    expect(stdout).toMatch(/CONTACT FIELD +CONTACT VALUE +ACCOUNT FIELD +ACCOUNT VALUE +DIRECTION +IN SYNC +NEWER/);
    expect(stdout).toMatch(/phone +\+44 1 111 +phone +\+44 1 222 +both +NO +contact/);
    expect(stdout).toContain('pending jobs: none');
  });

  it('create-account: created, then already there; values and the idempotency key are sent', async () => {
    const first = await tandem([
      'create-account',
      'C3',
      'customer',
      '--template',
      'DOMESTIC',
      '--value',
      'paymentTermsCode=14D',
      '--value',
      'note=a=b',
      '--idempotency-key',
      'k1',
    ]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^created customer N-A\d+ \(A\d+\) from contact C3; relation R\d+\n$/);
    expect(service.calls[0]?.args[0]).toEqual({
      contactId: 'C3',
      accountKind: 'customer',
      template: 'DOMESTIC',
      values: { paymentTermsCode: '14D', note: 'a=b' },
      idempotencyKey: 'k1',
    });
    const again = await tandem(['create-account', 'C3', 'customer']);
    expect(again.stdout).toMatch(/^contact C3 already has customer/);
  });

  it('create-contact, interactions, interaction add and document', async () => {
    expect((await tandem(['create-contact', 'vendor', 'V1'])).stdout).toMatch(
      /^created contact C\d+ from vendor V1; relation R\d+/,
    );
    const added = await tandem([
      'interaction',
      'add',
      'C1',
      '--type',
      'phoneCall',
      '--description',
      'Asked for a quote',
      '--date',
      '2024-05-02T09:30:00Z',
      '--who',
      'ana',
    ]);
    expect(added).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^recorded phoneCall I\d+ for contact C1 at 2024-05-02T09:30:00Z/),
    });
    const list = await tandem(['interactions', 'C1']);
    expect(lines(list.stdout)).toEqual([
      'OCCURRED              TYPE       WHO  SOURCE    DESCRIPTION',
      '2024-05-02T09:30:00Z  phoneCall  ana  external  Asked for a quote',
    ]);
    await tandem(['link', 'C1', 'customer', 'K1']);
    const document = await tandem(['document', 'C1', 'salesQuote']);
    expect(document).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^started salesQuote SQ-1001 for customer K1; interaction I\d+/),
    });
  });

  it('audit maps --kind to an account kind or an entry kind', async () => {
    service.auditLog.push({
      id: '1',
      appliedAt: '2024-05-01T10:00:00.000Z',
      kind: 'fieldChange',
      contactId: 'C1',
      accountKind: 'customer',
      accountId: 'K1',
      field: 'phone',
      oldValue: '1',
      newValue: '2',
      direction: 'toAccounting',
      sourceSystem: 'crm',
    });
    const table = await tandem([
      'audit',
      '--contact',
      'C1',
      '--kind',
      'fieldChange',
      '--from',
      '2024-05-01',
      '--to',
      '2024-05-02',
    ]);
    expect(table.code).toBe(0);
    expect(lines(table.stdout)[1]).toMatch(/fieldChange +C1 +customer K1 +phone +1 -> 2 +toAccounting +crm/);
    expect(service.calls.at(-1)?.args[0]).toEqual({
      contactId: 'C1',
      kind: 'fieldChange',
      from: '2024-05-01',
      to: '2024-05-02',
    });
    await tandem(['audit', '--kind', 'vendor']);
    expect(service.calls.at(-1)?.args[0]).toEqual({ accountKind: 'vendor' });
  });

  it('status prints the daemon, its queues and relations', async () => {
    const { code, stdout } = await tandem(['status'], { env: { TANDEM_TOKEN: VIEWER } });
    expect(code).toBe(0);
    expect(stdout).toContain('uptime   1h 2m 5s');
    expect(stdout).toMatch(/intake +2 +1 +0 +0 +40/);
    expect(stdout).toMatch(/bankAccount +0 +\(not set: not synchronized\)/);
    expect(JSON.parse((await tandem(['status', '--json'])).stdout)).toEqual(STATUS);
  });
});

describe('search', () => {
  it('lists records of one side with what they are linked to', async () => {
    await tandem(['link', 'C2', 'customer', 'K2']);
    const found = await tandem(['search', 'contact', 'adatum']);
    expect(found).toMatchObject({ code: 0, stderr: '' });
    expect(lines(found.stdout)).toEqual([
      '#  ID  NAME    NO.  E-MAIL  VAT NO.  CITY  LINKED',
      '1  C2  Adatum                              customer',
    ]);
    expect(service.calls.at(-1)).toEqual({ method: 'searchRecords', args: [{ entity: 'contact', text: 'adatum' }] });
    const accounts = await tandem(['search', 'customer', 'a', '--limit', '1', '--json']);
    expect(JSON.parse(accounts.stdout)).toHaveLength(1);
    expect((await tandem(['search', 'vendor', 'nobody'])).stdout).toBe("no vendor matches 'nobody'\n");
    expect((await tandem(['search', 'employee', 'x'])).code).toBe(2);
  });

  it('--search links and creates with the one record a text finds', async () => {
    const linked = await tandem(['link', '--search', 'adat', 'customer', 'ADATUM']);
    expect(linked.code).toBe(0);
    expect(linked.stdout).toMatch(/^linked contact C2 with customer K2: relation R\d+/);
    expect(lines(linked.stderr)).toEqual(["contact 'adat': Adatum (C2)", "customer 'ADATUM': Adatum (K2)"]);
    expect((await tandem(['create-contact', 'vendor', 'fabri', '--search'])).stdout).toMatch(
      /^created contact C\d+ from vendor V1; relation R\d+/,
    );
    expect((await tandem(['create-account', 'cronus', 'vendor', '--search'])).stdout).toMatch(
      /^created vendor .* from contact C1; relation R\d+/,
    );
  });

  it('--search with several matches asks at a terminal, and stops elsewhere; none is exit 4', async () => {
    service.addContact('C4', 'Adatum Metals');
    const stopped = await tandem(['link', 'adatum', 'customer', 'K2', '--search']);
    expect(stopped.code).toBe(2);
    expect(stopped.stderr).toContain("2 contacts match 'adatum':");
    expect(stopped.stderr).toContain('2  C4  Adatum Metals');
    expect(stopped.stderr).toContain("tandem: several contacts match 'adatum': search for more of the name");
    expect(service.calls.filter((call) => call.method === 'link')).toHaveLength(0);

    const picked = await tandem(['link', 'adatum', 'customer', 'K2', '--search'], { answers: ['7', '2'] });
    expect(picked.code).toBe(0);
    expect(picked.stderr).toContain("'7' is not one of 1-2");
    expect(picked.stdout).toMatch(/^linked contact C4 with customer K2/);

    const quit = await tandem(['create-account', 'adatum', 'customer', '--search'], { answers: ['q'] });
    expect(quit.code).toBe(2);
    expect(quit.stderr).toContain('tandem: nothing picked');

    const none = await tandem(['create-contact', 'customer', 'zzz', '--search']);
    expect(none).toMatchObject({ code: 4, stderr: "tandem: no customer matches 'zzz'\n" });
    // Without --search the arguments are ids, as before.
    expect((await tandem(['create-contact', 'customer', 'zzz'])).code).toBe(4);
    expect((await tandem(['unlink', 'R1', '--search'])).code).toBe(2);
  });
});

describe('match', () => {
  beforeEach(() => {
    service.proposal = [
      {
        contactId: 'C1',
        contactName: 'Cronus Cardoxy',
        accountKind: 'customer',
        accountId: 'K1',
        accountName: 'Cronus Cardoxy',
        score: 1,
        rule: 'vatRegistrationNo',
      },
      {
        contactId: 'C2',
        contactName: 'Adatum',
        accountKind: 'customer',
        accountId: 'K2',
        accountName: 'Adatum',
        score: 0.9,
        rule: 'email',
      },
      {
        contactId: 'C3',
        contactName: 'Fabrikam',
        accountKind: 'vendor',
        accountId: 'V1',
        accountName: 'Fabrikam',
        score: 0.5,
        rule: 'namePostCode',
      },
    ];
  });

  it('--dry-run lists the pairs and links nothing', async () => {
    const { code, stdout } = await tandem(['match', '--kind', 'customer', '--kind', 'vendor', '--dry-run']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/C1 +Cronus Cardoxy +customer +K1 +Cronus Cardoxy +1 +vatRegistrationNo/);
    expect(stdout).toContain('needs review');
    expect(stdout).toContain('dry run: nothing was linked');
    expect(service.calls.map((call) => call.method)).toEqual(['proposeMatches']);
    expect(service.calls[0]?.args[0]).toEqual({ kinds: ['customer', 'vendor'] });
  });

  it('--apply links pair by pair with a progress bar on a terminal and a summary', async () => {
    const { code, stdout, stderr } = await tandem(['match', '--apply', '--min-score', '0.8'], { tty: true });
    expect(code).toBe(0);
    expect(stdout).toBe('linked 2 of 2 pairs; 0 failed; 1 need review\n');
    expect(stderr).toContain('\r');
    expect(stderr).toContain(' 0/2 linking C1 with customer K1');
    expect(stderr).toContain(' 1/2 linking C2 with customer K2');
    expect(stderr).toMatch(/\[#+\] 2\/2 done\n$/);
    expect(service.calls.filter((call) => call.method === 'link')).toHaveLength(2);
  });

  it('--apply without a terminal prints no progress; a failed pair is listed and exits 5', async () => {
    await tandem(['link', 'C2', 'customer', 'K2']);
    const { code, stdout, stderr } = await tandem(['match', '--apply']);
    expect(stderr).toBe('');
    expect(code).toBe(5);
    expect(stdout).toContain('linked 2 of 3 pairs; 1 failed');
    expect(stdout).toMatch(/C2 +customer +K2 +RELATION_EXISTS +contact C2 already has a customer relation/);
  });

  it('--apply --json prints the result', async () => {
    const { code, stdout } = await tandem(['match', '--apply', '--kind', 'vendor', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      linked: [{ relation: { contactId: 'C3', accountId: 'V1' } }],
      failed: [],
    });
  });
});

describe('exit codes', () => {
  it('0 for --help, which documents every exit code', async () => {
    const { code, stdout } = await tandem(['--help']);
    expect(code).toBe(0);
    expect(stdout).toBe(USAGE);
    for (const exit of [
      '0  ok',
      '1  unexpected',
      '2  usage',
      '3  Redis unreachable',
      '4  not found',
      '5  conflict',
      '6  unauthorized',
      '7  the CRM',
    ])
      expect(stdout).toContain(exit);
  });

  it('2 for usage errors: no command, unknown command, unknown option, wrong arguments, bad kind', async () => {
    expect((await tandem([])).code).toBe(2);
    for (const argv of [
      ['frobnicate'],
      ['link', 'C1', 'customer'],
      ['link', 'C1', 'employee', 'K1'],
      ['link', 'C1', 'customer', 'K1', '--winner', 'both'],
      ['unlink', 'R1', '--template', 'x'],
      ['relations', '--colour', 'red'],
      ['match', '--dry-run', '--apply'],
      ['interaction', 'add', 'C1', '--type', 'call'],
      ['document', 'C1', 'invoice'],
      ['create-account', 'C1', 'customer', '--value', 'novalue'],
      ['relations', '--limit', 'many'],
    ]) {
      const run = await tandem(argv);
      expect([argv, run.code]).toEqual([argv, 2]);
      expect(run.stderr).toMatch(/^tandem: /);
    }
    expect(service.calls).toHaveLength(0);
  });

  it('2 for input the daemon refuses (400), naming the field', async () => {
    const run = await tandem([
      'interaction',
      'add',
      'C1',
      '--type',
      'call',
      '--description',
      'x',
      '--date',
      'yesterday',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^tandem: INVALID_INPUT: body.occurredAt: /);
  });

  it('3 when no daemon answers', async () => {
    const port = await freePort();
    const run = await tandem(['relations'], { env: { TANDEM_URL: `http://127.0.0.1:${port}` } });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`cannot reach the tandem daemon at http://127.0.0.1:${port}`);
  });

  it('4 for an unknown relation', async () => {
    const run = await tandem(['relation', 'R404']);
    expect(run).toMatchObject({ code: 4, stderr: 'tandem: NOT_FOUND: no relation R404\n' });
  });

  it('5 for a conflict', async () => {
    await tandem(['link', 'C1', 'customer', 'K1']);
    const run = await tandem(['link', 'C1', 'customer', 'K2']);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('RELATION_EXISTS');
    service.failWith('createDocument', new ConflictProblem('NOT_SUPPORTED', 'no purchase quotes here'));
    expect((await tandem(['document', 'C1', 'purchaseQuote'])).code).toBe(5);
  });

  it('6 without a token, with a wrong token, and for a viewer token on a change', async () => {
    const none = await tandem(['relations'], { env: { TANDEM_TOKEN: '' } });
    expect(none.code).toBe(6);
    expect(none.stderr).toContain('--token or TANDEM_TOKEN');
    expect((await tandem(['relations', '--token', 'x'.repeat(20)])).code).toBe(6);
    const viewer = await tandem(['unlink', 'R1'], { env: { TANDEM_TOKEN: VIEWER } });
    expect(viewer.code).toBe(6);
    expect(viewer.stderr).toContain('needs an admin token');
    expect((await tandem(['relations'], { env: { TANDEM_TOKEN: VIEWER } })).code).toBe(0);
  });

  it('7 when the other system fails', async () => {
    service.failWith('link', upstreamFailure());
    const run = await tandem(['link', 'C1', 'customer', 'K1']);
    expect(run.code).toBe(7);
    expect(run.stderr).toBe('tandem: UPSTREAM_FAILED: Business Central answered 503 Service Unavailable\n');
  });

  it('1 for an unexpected failure, pointing at the request id; --json prints the error body', async () => {
    service.failWith('audit', new Error('boom'));
    const run = await tandem(['audit', '--json']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 500, error: 'INTERNAL' });
    expect(run.stderr).toMatch(/request req-\w+; see the daemon log/);
  });

  it('2 for an invalid config file', async () => {
    const run = await tandem(['config', 'validate', '--config', '/nonexistent/tandem.yaml']);
    expect(run.code).toBe(2);
  });
});

describe('answers the admin API does not document', () => {
  let other: FastifyInstance;
  let otherUrl: string;

  beforeEach(async () => {
    // Something that is not this version of tandem answers at the URL.
    other = Fastify({ loggerInstance: pino({ level: 'silent' }) }) as unknown as FastifyInstance;
    other.get('/api/status', async () => ({ ...STATUS, uptimeSeconds: 'a while' }));
    other.get('/api/relations', async (_request, reply) => reply.type('text/html').send('<h1>It works!</h1>'));
    other.get('/api/audit', async () => [
      { id: '1', appliedAt: '2024-05-01T10:00:00.000Z', kind: 'link', addedLater: { by: 'a newer daemon' } },
    ]);
    otherUrl = await other.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(async () => {
    await other.close();
  });

  it('1 for an answer of the wrong shape, naming what is wrong; nothing is printed', async () => {
    const run = await tandem(['status', '--json'], { env: { TANDEM_URL: otherUrl } });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^tandem: the answer to GET \/api\/status is not what the admin API documents/);
    expect(run.stderr).toContain('uptimeSeconds');
    expect(run.stderr).not.toContain('    at ');
  });

  it('1 for an answer that is not JSON', async () => {
    const run = await tandem(['relations'], { env: { TANDEM_URL: otherUrl } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('GET /api/relations is not what the admin API documents (the body is not JSON)');
  });

  it('an answer with fields added later is accepted, and --json prints it as sent', async () => {
    const run = await tandem(['audit', '--json'], { env: { TANDEM_URL: otherUrl } });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([
      { id: '1', appliedAt: '2024-05-01T10:00:00.000Z', kind: 'link', addedLater: { by: 'a newer daemon' } },
    ]);
  });
});
