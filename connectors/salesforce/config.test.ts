/** The shipped Salesforce config: it loads, maps only fields the connector has, and keeps its secret in the environment. */
import { readFileSync } from 'node:fs';
import { unsupportedMappings } from '../../src/app/check-mappings';
import { buildConnectors } from '../../src/app/connectors';
import { loadConfig, parseConfigText } from '../../src/config/load';

const FILE = 'config/tandem.salesforce.yaml';
const ENV = {
  SALESFORCE_CLIENT_ID: 'key',
  SALESFORCE_CLIENT_SECRET: 'secret',
  BC_BASE_URL: 'https://bc.example/api/v2.0',
  BC_COMPANY_ID: '0f6c8f4a-3a55-4d43-a0b8-6a5c2d8c0c11',
  BC_TOKEN_URL: 'https://login.example/token',
  BC_CLIENT_ID: 'id',
  BC_CLIENT_SECRET: 's',
  BC_WEBHOOK_CLIENT_STATE: 'state',
};

test(`${FILE} is valid and maps only fields the Salesforce connector has`, async () => {
  const config = loadConfig(FILE, ENV);
  expect(config.connectors.crm).toMatchObject({
    kind: 'salesforce',
    webhooks: false,
    fieldMap: { company: { vatRegistrationNo: 'VAT_Number__c' } },
  });
  const connectors = buildConnectors(config);
  expect(connectors.crm.fields.contact).toEqual(
    expect.arrayContaining(['name', 'phone', 'email', 'vatRegistrationNo']),
  );
  expect(unsupportedMappings(config, connectors.crm, connectors.accounting)).toEqual([]);
  await Promise.all(Object.values(connectors).map((connector) => connector.close?.() ?? Promise.resolve()));
});

test('refuses a literal client secret and webhooks for Salesforce', () => {
  const text = readFileSync(FILE, 'utf8');
  expect(() => parseConfigText(text.replace('${SALESFORCE_CLIENT_SECRET}', 'hunter2'), FILE, ENV)).toThrow(
    /connectors\.crm\.credentials\.clientSecret: secrets come from the environment only/,
  );
  expect(() => parseConfigText(text.replace('webhooks: false ', 'webhooks: true  '), FILE, ENV)).toThrow(
    /connectors\.crm\.webhooks/,
  );
});
