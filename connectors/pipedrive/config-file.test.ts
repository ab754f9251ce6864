/** The shipped Pipedrive config: it loads, maps only fields the connector has, and keeps its secrets in the environment. */
import { readFileSync } from 'node:fs';
import { unsupportedMappings } from '../../src/app/check-mappings';
import { buildConnectors } from '../../src/app/connectors';
import { loadConfig, parseConfigText } from '../../src/config/load';

const FILE = 'config/tandem.pipedrive.yaml';
const ENV = {
  PIPEDRIVE_API_TOKEN: 'token',
  PIPEDRIVE_WEBHOOK_PASSWORD: 'a-long-webhook-password',
  BC_BASE_URL: 'https://bc.example/api/v2.0',
  BC_COMPANY_ID: '0f6c8f4a-3a55-4d43-a0b8-6a5c2d8c0c11',
  BC_TOKEN_URL: 'https://login.example/token',
  BC_CLIENT_ID: 'id',
  BC_CLIENT_SECRET: 's',
  BC_WEBHOOK_CLIENT_STATE: 'state',
};

test(`${FILE} is valid and maps only fields the Pipedrive connector has`, async () => {
  const config = loadConfig(FILE, ENV);
  expect(config.connectors.crm).toMatchObject({
    kind: 'pipedrive',
    idempotencyField: 'tandem_idempotency_key',
    customFields: { company: { vatRegistrationNo: 'tandem_vat_registration_no' } },
  });
  const connectors = buildConnectors(config);
  expect(connectors.crm.fields.contact).toEqual(
    expect.arrayContaining(['name', 'phone', 'email', 'homePage', 'vatRegistrationNo']),
  );
  expect(typeof connectors.crm.webhook).toBe('object');
  expect(unsupportedMappings(config, connectors.crm, connectors.accounting)).toEqual([]);
  await Promise.all(Object.values(connectors).map((connector) => connector.close?.() ?? Promise.resolve()));
});

test('refuses a literal API token or webhook password, and a webhook user without its password', () => {
  const text = readFileSync(FILE, 'utf8');
  expect(() => parseConfigText(text.replace('${PIPEDRIVE_API_TOKEN}', 'hunter2'), FILE, ENV)).toThrow(
    /connectors\.crm\.credentials\.apiToken: secrets come from the environment only/,
  );
  expect(() => parseConfigText(text.replace('${PIPEDRIVE_WEBHOOK_PASSWORD}', 'hunter2hunter2'), FILE, ENV)).toThrow(
    /connectors\.crm\.credentials\.webhookPassword: secrets come from the environment only/,
  );
  const noPassword = text.replace(/\n *webhookPassword: .*\n/, '\n');
  expect(() => parseConfigText(noPassword, FILE, ENV)).toThrow(/webhookUser and webhookPassword go together/);
});
