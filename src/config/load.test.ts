import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMON_FIELDS } from '../core/model';
import { ConfigError, loadConfig, parseConfigText } from './load';
import { fileSectionsAsInput, mergeEditable } from './editable';
import { configSchema, mappingsFor, parseDuration } from './schema';

const FILE = 'config/tandem.yaml';

const VALID = `
connectors:
  crm:
    kind: hubspot
    baseUrl: https://api.hubapi.com
    credentials:
      token: \${HUBSPOT_TOKEN}
      webhookSecret: \${HUBSPOT_WEBHOOK_SECRET}
  accounting:
    kind: business-central
    baseUrl: \${BC_URL:-https://api.businesscentral.dynamics.com/v2.0/tenant/production/api/v2.0}
    companyId: \${BC_COMPANY}
    credentials:
      tokenUrl: https://login.microsoftonline.com/tenant/oauth2/v2.0/token
      clientId: tandem-app
      clientSecret: \${BC_CLIENT_SECRET}
`;

const ENV: NodeJS.ProcessEnv = {
  HUBSPOT_TOKEN: 'pat-eu1-secret',
  HUBSPOT_WEBHOOK_SECRET: 'hook-secret',
  BC_COMPANY: 'c0ffee00-0000-4000-8000-000000000001',
  BC_CLIENT_SECRET: 'bc-secret',
};

/** Parses `text` and returns the ConfigError it throws (fails the test if it does not throw). */
function problemsOf(text: string, env: NodeJS.ProcessEnv = ENV): ConfigError {
  try {
    parseConfigText(text, FILE, env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfigText: a valid file', () => {
  const config = parseConfigText(VALID, FILE, ENV);

  it('resolves ${VAR} references from the environment', () => {
    expect(config.connectors.crm.credentials).toEqual({ token: 'pat-eu1-secret', webhookSecret: 'hook-secret' });
    expect(config.connectors.accounting).toMatchObject({
      companyId: 'c0ffee00-0000-4000-8000-000000000001',
      credentials: { clientSecret: 'bc-secret', clientId: 'tandem-app' },
    });
  });

  it('reads value maps: transforms by name or with options, value tables and their rule', () => {
    const mapped = parseConfigText(
      `${VALID}
mappings:
  customer:
    - { contact: countryCode, account: countryCode, transform: country }
    - { contact: phone, account: phone, transform: { name: phone-e164, region: NL } }
    - contact: salespersonCode
      account: salespersonCode
      values: { Anna de Vries: AV, Bram Jansen: BJ, 7: SEVEN }
      unmapped: hold
    - { contact: city, account: city, transform: upper }
`,
      FILE,
      ENV,
    );
    expect(mapped.mappings.customer).toEqual([
      {
        contact: 'countryCode',
        account: 'countryCode',
        direction: 'both',
        transform: { name: 'country', crm: 'name', accounting: 'code', language: 'en' },
      },
      { contact: 'phone', account: 'phone', direction: 'both', transform: { name: 'phone-e164', region: 'NL' } },
      {
        contact: 'salespersonCode',
        account: 'salespersonCode',
        direction: 'both',
        values: { 'Anna de Vries': 'AV', 'Bram Jansen': 'BJ', '7': 'SEVEN' },
        unmapped: 'hold',
      },
      { contact: 'city', account: 'city', direction: 'both', transform: { name: 'upper' } },
    ]);
  });

  it('reads sync filters per kind and side, numbers as text', () => {
    const filtered = parseConfigText(
      `${VALID}
filters:
  customer:
    contact:
      - { field: custom.lifecyclestage, in: [customer, evangelist] }
    account:
      - { field: custom.blocked, empty: true }
      - { field: custom.creditLimit, notIn: [0] }
`,
      FILE,
      ENV,
    );
    expect(filtered.filters).toEqual({
      customer: {
        contact: [{ field: 'custom.lifecyclestage', in: ['customer', 'evangelist'] }],
        account: [
          { field: 'custom.blocked', empty: true },
          { field: 'custom.creditLimit', notIn: ['0'] },
        ],
      },
    });
    expect(parseConfigText(VALID, FILE, ENV).filters).toEqual({});
  });

  it('uses the ${VAR:-default} fallback when the variable is unset or empty', () => {
    expect(config.connectors.accounting.baseUrl).toBe(
      'https://api.businesscentral.dynamics.com/v2.0/tenant/production/api/v2.0',
    );
    const empty = parseConfigText(VALID, FILE, { ...ENV, BC_URL: '' });
    expect(empty.connectors.accounting.baseUrl).toBe(
      'https://api.businesscentral.dynamics.com/v2.0/tenant/production/api/v2.0',
    );
  });

  it('prefers the variable over the fallback when it is set', () => {
    const overridden = parseConfigText(VALID, FILE, { ...ENV, BC_URL: 'http://localhost:4010/bc' });
    expect(overridden.connectors.accounting.baseUrl).toBe('http://localhost:4010/bc');
  });

  it('gives a ${VAR} reference the type of its key', () => {
    const text = `${VALID}
server:
  port: \${PORT:-8081}
queue:
  attempts: \${ATTEMPTS}
`.replace('kind: hubspot', 'kind: hubspot\n    webhooks: ${HUBSPOT_WEBHOOKS:-false}');
    const parsed = parseConfigText(text, FILE, { ...ENV, ATTEMPTS: '3' });
    expect(parsed.server.port).toBe(8081);
    expect(parsed.queue.attempts).toBe(3);
    expect(parsed.connectors.crm.webhooks).toBe(false);
  });

  it('resolves a reference embedded in a longer value', () => {
    const text = VALID.replace('baseUrl: https://api.hubapi.com', 'baseUrl: https://${HUBSPOT_HOST}/crm');
    expect(parseConfigText(text, FILE, { ...ENV, HUBSPOT_HOST: 'hub.example.com' }).connectors.crm.baseUrl).toBe(
      'https://hub.example.com/crm',
    );
  });

  it('fills in the defaults', () => {
    expect(config.relationCodes).toEqual({ customer: null, vendor: null, bankAccount: null });
    expect(config.conflicts.tieBreak).toEqual(['crm', 'accounting']);
    expect(config.connectors.crm.pollEvery).toBe(30_000);
    expect(config.connectors.crm.concurrency).toBe(1000);
    expect(config.connectors.crm.webhooks).toBe(true);
    expect(config.connectors.crm.budget).toEqual({ share: 0.9 });
    expect(config.server).toEqual({ host: '127.0.0.1', port: 8080, trustProxy: false });
    expect(config.queue).toMatchObject({ prefix: 'tandem', backoff: 1000, attempts: 8 });
  });

  it('maps every common field both ways for a kind without mappings', () => {
    for (const kind of ['customer', 'vendor', 'bankAccount'] as const) {
      expect(mappingsFor(config, kind)).toEqual(
        COMMON_FIELDS.map((field) => ({ contact: field, account: field, direction: 'both' })),
      );
    }
  });

  it('reads explicit mappings, relation codes, tie-break and durations', () => {
    const text = `${VALID}
relationCodes:
  customer: CUST
  bankAccount: BANK
mappings:
  bankAccount:
    - { contact: name, account: name }
    - { contact: mobile, account: phone, direction: toAccounting }
conflicts:
  tieBreak: [accounting, crm]
`.replace('kind: hubspot', 'kind: hubspot\n    pollEvery: 5m');
    const parsed = parseConfigText(text, FILE, ENV);
    expect(parsed.relationCodes).toEqual({ customer: 'CUST', vendor: null, bankAccount: 'BANK' });
    expect(mappingsFor(parsed, 'bankAccount')).toEqual([
      { contact: 'name', account: 'name', direction: 'both' },
      { contact: 'mobile', account: 'phone', direction: 'toAccounting' },
    ]);
    expect(mappingsFor(parsed, 'customer')).toHaveLength(COMMON_FIELDS.length);
    expect(parsed.conflicts.tieBreak).toEqual(['accounting', 'crm']);
    expect(parsed.connectors.crm.pollEvery).toBe(300_000);
  });

  it('allows bank account fields on a bank account mapping', () => {
    const text = `${VALID}
mappings:
  bankAccount:
    - { contact: name, account: iban }
`;
    expect(mappingsFor(parseConfigText(text, FILE, ENV), 'bankAccount')).toEqual([
      { contact: 'name', account: 'iban', direction: 'both' },
    ]);
  });
});

describe('parseConfigText: TANDEM_* overrides', () => {
  it.each<[string, NodeJS.ProcessEnv, (config: ReturnType<typeof parseConfigText>) => unknown, unknown]>([
    ['a number keeps its type', { TANDEM_SERVER__PORT: '9090' }, (config) => config.server.port, 9090],
    [
      'a key with an underscore finds the camelCase key',
      { TANDEM_CONNECTORS__CRM__BASE_URL: 'http://localhost:4000' },
      (config) => config.connectors.crm.baseUrl,
      'http://localhost:4000',
    ],
    [
      'a key absent from the file is added',
      { TANDEM_SERVER__PUBLIC_URL: 'https://tandem.example.com' },
      (config) => config.server.publicUrl,
      'https://tandem.example.com',
    ],
    [
      'a boolean keeps its type',
      { TANDEM_CONNECTORS__ACCOUNTING__WEBHOOKS: 'false' },
      (config) => config.connectors.accounting.webhooks,
      false,
    ],
    [
      'a duration is parsed',
      { TANDEM_CONNECTORS__ACCOUNTING__POLL_EVERY: '2m' },
      (config) => config.connectors.accounting.pollEvery,
      120_000,
    ],
    [
      'a secret can be set directly',
      { TANDEM_CONNECTORS__CRM__CREDENTIALS__TOKEN: 'from-env' },
      (config) => config.connectors.crm.credentials,
      { token: 'from-env', webhookSecret: 'hook-secret' },
    ],
    [
      'a relation code is set',
      { TANDEM_RELATION_CODES__VENDOR: 'VEND' },
      (config) => config.relationCodes.vendor,
      'VEND',
    ],
  ])('%s', (_name, overrides, pick, expected) => {
    expect(pick(parseConfigText(VALID, FILE, { ...ENV, ...overrides }))).toEqual(expected);
  });

  it.each<[string, NodeJS.ProcessEnv, (config: ReturnType<typeof parseConfigText>) => unknown, unknown]>([
    [
      'a numeric client id stays a string',
      { TANDEM_CONNECTORS__ACCOUNTING__CREDENTIALS__CLIENT_ID: '12345' },
      (config) =>
        config.connectors.accounting.kind === 'business-central' && config.connectors.accounting.credentials.clientId,
      '12345',
    ],
    [
      'a numeric relation code stays a string',
      { TANDEM_RELATION_CODES__CUSTOMER: '10' },
      (config) => config.relationCodes.customer,
      '10',
    ],
    [
      'a numeric company id stays a string',
      { TANDEM_CONNECTORS__ACCOUNTING__COMPANY_ID: '42' },
      (config) => config.connectors.accounting.kind === 'business-central' && config.connectors.accounting.companyId,
      '42',
    ],
  ])('%s', (_name, overrides, pick, expected) => {
    expect(pick(parseConfigText(VALID, FILE, { ...ENV, ...overrides }))).toEqual(expected);
  });

  it('rejects an override that is not a number where a number belongs', () => {
    expect(problemsOf(VALID, { ...ENV, TANDEM_SERVER__PORT: 'eighty' }).problems).toEqual([
      expect.stringMatching(/^server\.port: /),
    ]);
  });

  it('overrides a value the file sets', () => {
    const text = `${VALID}\nserver:\n  port: 8081\n`;
    expect(parseConfigText(text, FILE, { ...ENV, TANDEM_SERVER__PORT: '9090' }).server.port).toBe(9090);
  });

  it('reports an override of a key that is not a section', () => {
    const error = problemsOf(VALID, { ...ENV, TANDEM_CONNECTORS__CRM__KIND__X: 'y' });
    expect(error.problems).toEqual([
      'TANDEM_CONNECTORS__CRM__KIND__X: connectors.crm.kind is not a section that can hold keys',
    ]);
  });

  it('reports an override of an unknown key like any other unknown key', () => {
    const error = problemsOf(VALID, { ...ENV, TANDEM_SERVER__COLOUR: 'blue' });
    expect(error.problems).toEqual(["server: unknown key 'colour'"]);
  });

  it('ignores variables that only share the TANDEM_ prefix', () => {
    // Settings of the process itself (the Dockerfile sets these), not keys of the file.
    const config = parseConfigText(VALID, FILE, {
      ...ENV,
      TANDEM_CONFIG: '/app/config/tandem.yaml',
      TANDEM_DATA_DIR: '/data',
      TANDEM_HOST: '0.0.0.0',
    });
    expect(config.server.port).toBe(8080);
  });
});

describe('parseConfigText: invalid files', () => {
  it.each<[string, string, NodeJS.ProcessEnv, string[]]>([
    ['an unknown top-level key', `${VALID}\ncolour: blue\n`, ENV, ["(top level): unknown key 'colour'"]],
    [
      'an unknown nested key',
      VALID.replace('clientId: tandem-app', 'clientId: tandem-app\n      tenant: x'),
      ENV,
      ["connectors.accounting.credentials: unknown key 'tenant'"],
    ],
    ['a bad URL', VALID.replace('https://api.hubapi.com', 'not a url'), ENV, ['connectors.crm.baseUrl: ']],
    ['an unknown connector kind', VALID.replace('kind: hubspot', 'kind: no-such-crm'), ENV, ['connectors.crm.kind: ']],
    [
      'a bad duration',
      VALID.replace('kind: hubspot', 'kind: hubspot\n    pollEvery: soon'),
      ENV,
      ['connectors.crm.pollEvery: a duration like 500ms, 30s, 5m or 1h'],
    ],
    [
      'a bad direction',
      `${VALID}\nmappings:\n  customer:\n    - { contact: name, account: name, direction: sideways }\n`,
      ENV,
      ['mappings.customer.0.direction: '],
    ],
    [
      'an unknown field',
      `${VALID}\nmappings:\n  vendor:\n    - { contact: nickname, account: name }\n`,
      ENV,
      ['mappings.vendor.0.contact: '],
    ],
    [
      'a contact field mapped twice',
      `${VALID}\nmappings:\n  customer:\n    - { contact: phone, account: phone }\n    - { contact: phone, account: fax }\n`,
      ENV,
      ["mappings.customer.1.contact: contact field 'phone' is mapped twice"],
    ],
    [
      'an account field mapped twice',
      `${VALID}\nmappings:\n  vendor:\n    - { contact: phone, account: phone }\n    - { contact: mobile, account: phone }\n`,
      ENV,
      ["mappings.vendor.1.account: account field 'phone' is mapped twice"],
    ],
    [
      'a phone transform without a region',
      `${VALID}\nmappings:\n  customer:\n    - { contact: phone, account: phone, transform: phone-e164 }\n`,
      ENV,
      ['mappings.customer.0.transform.region: phone-e164 needs a default region: { name: phone-e164, region: NL }'],
    ],
    [
      'a phone transform with an unknown region',
      `${VALID}\nmappings:\n  customer:\n    - { contact: phone, account: phone, transform: { name: phone-e164, region: XX } }\n`,
      ENV,
      ["mappings.customer.0.transform: 'XX' is not an ISO 3166 region code"],
    ],
    [
      'an unknown transform',
      `${VALID}\nmappings:\n  customer:\n    - { contact: name, account: name, transform: reverse }\n`,
      ENV,
      ["mappings.customer.0.transform.name: Invalid discriminator value. Expected 'trim' | 'upper'"],
    ],
    [
      'an unmapped rule with nothing to apply it to',
      `${VALID}\nmappings:\n  customer:\n    - { contact: name, account: name, unmapped: hold }\n`,
      ENV,
      ['mappings.customer.0.unmapped: unmapped needs a transform or values to apply to'],
    ],
    [
      'a filter condition with two operators',
      `${VALID}\nfilters:\n  customer:\n    contact:\n      - { field: city, in: [Amsterdam], empty: true }\n`,
      ENV,
      [
        'filters.customer.contact.0: a condition is { field, in: [...] }, { field, notIn: [...] } or { field, empty: true|false }',
      ],
    ],
    [
      'a filter on a field tandem does not know',
      `${VALID}\nfilters:\n  vendor:\n    account:\n      - { field: shoeSize, in: [42] }\n`,
      ENV,
      ['filters.vendor.account.0.field: '],
    ],
    [
      'a bank-only field on a customer mapping',
      `${VALID}\nmappings:\n  customer:\n    - { contact: name, account: iban }\n`,
      ENV,
      ["mappings.customer.0.account: 'iban' exists on bank accounts only"],
    ],
    [
      'a budget share above the whole ceiling',
      VALID.replace('kind: hubspot', 'kind: hubspot\n    budget: { share: 1.2 }'),
      ENV,
      ["connectors.crm.budget.share: at most 1: the provider's whole published ceiling"],
    ],
    [
      'a budget share of nothing',
      VALID.replace('kind: hubspot', 'kind: hubspot\n    budget: { share: 0 }'),
      ENV,
      ["connectors.crm.budget.share: a share of the provider's published ceiling above 0 (0.9 is 90%)"],
    ],
    [
      'an unknown budget key',
      VALID.replace('kind: hubspot', 'kind: hubspot\n    budget: { share: 0.8, max: 100 }'),
      ENV,
      ["connectors.crm.budget: unknown key 'max'"],
    ],
    [
      'a tie-break naming one system twice',
      `${VALID}\nconflicts:\n  tieBreak: [crm, crm]\n`,
      ENV,
      ['conflicts.tieBreak: name crm and accounting once each'],
    ],
    [
      'a relation code longer than NAV allows',
      `${VALID}\nrelationCodes:\n  customer: CUSTOMERS-ALL\n`,
      ENV,
      ['relationCodes.customer: '],
    ],
    [
      'a missing environment variable',
      VALID,
      { ...ENV, BC_CLIENT_SECRET: undefined },
      ['connectors.accounting.credentials.clientSecret: environment variable BC_CLIENT_SECRET is not set'],
    ],
    [
      'a literal secret',
      VALID.replace('token: ${HUBSPOT_TOKEN}', 'token: pat-eu1-1234'),
      ENV,
      ['connectors.crm.credentials.token: secrets come from the environment only'],
    ],
    [
      'a secret with a literal fallback',
      VALID.replace('clientSecret: ${BC_CLIENT_SECRET}', 'clientSecret: ${BC_CLIENT_SECRET:-hunter2}'),
      ENV,
      ['connectors.accounting.credentials.clientSecret: secrets come from the environment only'],
    ],
    [
      'a secret glued to a reference',
      VALID.replace('token: ${HUBSPOT_TOKEN}', 'token: pat-${HUBSPOT_TOKEN}'),
      ENV,
      ['connectors.crm.credentials.token: secrets come from the environment only'],
    ],
    [
      'a numeric literal secret',
      VALID.replace('token: ${HUBSPOT_TOKEN}', 'token: 12345'),
      ENV,
      ['connectors.crm.credentials.token: secrets come from the environment only'],
    ],
    [
      'a webhook client state written in the file',
      VALID.replace('clientId: tandem-app', 'clientId: tandem-app\n      webhookClientState: abc'),
      ENV,
      ['connectors.accounting.credentials.webhookClientState: secrets come from the environment only'],
    ],
    ['a file without connectors', 'server:\n  port: 8080\n', ENV, ['connectors: ']],
    ['a file that is not a mapping', '- a\n- b\n', ENV, ['must be a YAML mapping']],
  ])('%s', (_name, text, env, expected) => {
    const error = problemsOf(text, env);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.file).toBe(FILE);
    expect(error.message.startsWith(`${FILE} is not valid:\n`)).toBe(true);
    expect(error.problems).toHaveLength(expected.length);
    expected.forEach((start, index) => expect(error.problems[index]?.startsWith(start)).toBe(true));
    // One line per problem after the heading.
    expect(error.message.split('\n')).toHaveLength(1 + expected.length);
  });

  it('never repeats a literal secret in the message', () => {
    const error = problemsOf(VALID.replace('token: ${HUBSPOT_TOKEN}', 'token: pat-eu1-1234'));
    expect(error.message).not.toContain('pat-eu1-1234');
  });

  it('reports every problem, one line each', () => {
    const text = VALID.replace('https://api.hubapi.com', 'nope').replace(
      'token: ${HUBSPOT_TOKEN}',
      'token: ${MISSING_TOKEN}',
    );
    const error = problemsOf(text);
    expect(error.problems).toEqual(['connectors.crm.credentials.token: environment variable MISSING_TOKEN is not set']);
    const schemaErrors = problemsOf(`${VALID.replace('https://api.hubapi.com', 'nope')}\ncolour: blue\n`);
    expect(schemaErrors.problems).toHaveLength(2);
    expect(schemaErrors.message).toMatch(/^ {2}- connectors\.crm\.baseUrl: /m);
    expect(schemaErrors.message).toMatch(/^ {2}- \(top level\): unknown key 'colour'$/m);
  });

  it('reports a bank-only field alongside other schema problems', () => {
    const text = `${VALID}\ncolour: blue\nmappings:\n  vendor:\n    - { contact: name, account: swiftCode }\n`;
    const error = problemsOf(text);
    expect(error.problems).toEqual(
      expect.arrayContaining([
        "(top level): unknown key 'colour'",
        "mappings.vendor.0.account: 'swiftCode' exists on bank accounts only",
      ]),
    );
  });

  it('names the line of a YAML syntax error', () => {
    const text = 'connectors:\n  crm:\n    kind: hubspot\n    baseUrl: [unclosed\n  accounting: {}\n';
    const error = problemsOf(text);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^is not valid YAML \(line \d+\): /);
    expect(error.message.split('\n')).toHaveLength(2);
  });

  it('names the right line for a bad indentation', () => {
    const text = 'connectors:\n  crm:\n    kind: hubspot\n   baseUrl: x\n';
    expect(problemsOf(text).problems[0]).toMatch(/^is not valid YAML \(line 4\)/);
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tandem-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file from disk', () => {
    const file = join(dir, 'tandem.yaml');
    writeFileSync(file, VALID);
    expect(loadConfig(file, ENV).connectors.crm.kind).toBe('hubspot');
  });

  it('names the file in every error', () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, `${VALID}\ncolour: blue\n`);
    expect(() => loadConfig(file, ENV)).toThrow(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not valid:`),
    );
  });

  it('reports a file that cannot be read', () => {
    const file = join(dir, 'missing.yaml');
    let caught: unknown;
    try {
      loadConfig(file, ENV);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems).toEqual([expect.stringMatching(/^cannot be read: ENOENT/)]);
    expect((caught as ConfigError).message).toContain(file);
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
  ])('%s is %d ms', (text, expected) => expect(parseDuration(text)).toBe(expected));

  it('refuses text that is not a duration', () => {
    expect(() => parseDuration('5 minutes')).toThrow('not a duration');
  });
});

describe('the shipped config', () => {
  /** What the shipped config's variables are set to. */
  const SHIPPED_ENV = {
    HUBSPOT_TOKEN: 'token',
    HUBSPOT_CLIENT_SECRET: 'secret',
    BC_BASE_URL: 'http://127.0.0.1:4020/v2.0/sandbox/production/api/v2.0',
    BC_COMPANY_ID: '3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
    BC_TOKEN_URL: 'http://127.0.0.1:4020/oauth2/v2.0/token',
    BC_CLIENT_ID: 'client',
    BC_CLIENT_SECRET: 'secret',
    BC_WEBHOOK_CLIENT_STATE: 'state',
  };

  it('config/tandem.yaml is valid once its variables are set, with the demo settings', () => {
    const config = loadConfig('config/tandem.yaml', SHIPPED_ENV);
    expect(config.relationCodes).toEqual({ customer: 'CUST', vendor: 'VEND', bankAccount: 'BANK' });
    expect(config.automaticContacts).toEqual({ customer: true, vendor: true, bankAccount: false });
    expect(config.templates.customer?.default?.numberPrefix).toBe('C');
  });

  it("its file-only sections go back to input form and parse to the same values (the console's merge relies on it)", () => {
    const config = loadConfig('config/tandem.yaml', SHIPPED_ENV);
    const again = configSchema.parse({
      ...config,
      ...fileSectionsAsInput(config),
      mappings: config.mappings,
      matching: config.matching,
    });
    expect({ connectors: again.connectors, server: again.server, queue: again.queue }).toEqual({
      connectors: config.connectors,
      server: config.server,
      queue: config.queue,
    });
  });

  it('names the variables the shipped config needs when they are missing', () => {
    expect(() => loadConfig('config/tandem.yaml', {})).toThrow(/environment variable HUBSPOT_TOKEN is not set/);
  });
});

describe('the shipped Tryton config', () => {
  it('config/tandem.tryton.yaml is valid and maps only fields the Tryton connector has', async () => {
    const { buildConnectors } = await import('../app/connectors');
    const { unsupportedMappings } = await import('../app/check-mappings');
    const config = loadConfig('config/tandem.tryton.yaml', {
      HUBSPOT_TOKEN: 't',
      HUBSPOT_CLIENT_SECRET: 's',
      TRYTON_PASSWORD: 'p',
    });
    expect(config.connectors.accounting).toMatchObject({ kind: 'tryton', database: 'tandem', webhooks: false });
    const connectors = buildConnectors(config);
    expect(unsupportedMappings(config, connectors.crm, connectors.accounting)).toEqual([]);
    await Promise.all(Object.values(connectors).map((connector) => connector.close?.() ?? Promise.resolve()));
  });

  it('refuses a literal Tryton password in the file', () => {
    const text = readFileSync('config/tandem.tryton.yaml', 'utf8').replace(
      'password: ${TRYTON_PASSWORD}',
      'password: hunter2',
    );
    expect(() =>
      parseConfigText(text, 'config/tandem.tryton.yaml', { HUBSPOT_TOKEN: 't', HUBSPOT_CLIENT_SECRET: 's' }),
    ).toThrow(/connectors\.accounting\.credentials\.password: secrets come from the environment only/);
  });
});

describe('hostile YAML', () => {
  // Nine levels of nine aliases each: about 387 million strings if it were expanded.
  const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    .concat(
      Array.from({ length: 8 }, (_, level) => {
        const name = String.fromCharCode(98 + level);
        const previous = String.fromCharCode(97 + level);
        return `${name}: &${name} [${Array.from({ length: 9 }, () => `*${previous}`).join(',')}]`;
      }),
    )
    .join('\n');

  it("is refused by the console's merge as unreadable YAML, without expanding it", () => {
    const base = parseConfigText(VALID, FILE, ENV);
    const result = mergeEditable(base, bomb);
    expect(result).toEqual({
      ok: false,
      problems: [{ path: '(yaml)', message: expect.stringContaining('alias') as unknown }],
    });
  });

  it('is refused in a config file with a config error', () => {
    expect(() => parseConfigText(bomb, 'bomb.yaml', ENV)).toThrow(ConfigError);
  });
});

describe('server.trustProxy', () => {
  it('takes true, a number of hops or a list of proxies, and refuses anything else naming the key', () => {
    const withTrust = (value: string) => `${VALID}\nserver:\n  trustProxy: ${value}\n`;
    expect(parseConfigText(withTrust('true'), FILE, ENV).server.trustProxy).toBe(true);
    expect(parseConfigText(withTrust('1'), FILE, ENV).server.trustProxy).toBe(1);
    expect(parseConfigText(withTrust('["10.0.0.0/8"]'), FILE, ENV).server.trustProxy).toEqual(['10.0.0.0/8']);
    expect(problemsOf(withTrust('"yes please"')).message).toContain('server.trustProxy');
  });
});
