/**
 * The shipped config/tandem.quickbooks.yaml: its accounting section is valid for the connector once
 * its variables are set, its secrets come from the environment, and its mappings name only fields
 * the connector reads and writes.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { unsupportedMappings } from '../../src/app/check-mappings';
import { buildConnectors } from '../../src/app/connectors';
import { loadConfig } from '../../src/config/load';
import { z } from 'zod';
import { quickbooksConfig } from './config';
import { SUPPORTED_FIELDS } from './mappers';
import { quickbooks } from './connector';

const FILE = 'config/tandem.quickbooks.yaml';
const ENV: Record<string, string> = {
  HUBSPOT_TOKEN: 't',
  HUBSPOT_CLIENT_SECRET: 's',
  QBO_REALM_ID: '9130357992191236',
  QBO_CLIENT_ID: 'client',
  QBO_CLIENT_SECRET: 'secret',
  QBO_REFRESH_TOKEN: 'refresh',
  QBO_WEBHOOK_VERIFIER_TOKEN: 'verifier',
};

/** The file's values with `${VAR}` and `${VAR:-default}` replaced, as the config loader does (comments aside). */
function shipped(env: Record<string, string>): unknown {
  const substitute = (value: unknown): unknown => {
    if (typeof value === 'string')
      return value.replace(/\$\{(\w+)(?::-([^}]*))?\}/g, (_all, name: string, fallback?: string) => {
        const found = env[name] ?? fallback;
        if (found === undefined) throw new Error(`${FILE}: ${name} is not set`);
        return found;
      });
    if (Array.isArray(value)) return value.map(substitute);
    if (typeof value === 'object' && value !== null)
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substitute(item)]));
    return value;
  };
  return substitute(parseYaml(readFileSync(FILE, 'utf8')));
}

const fileSchema = z.object({
  connectors: z.object({ accounting: z.object({ kind: z.literal('quickbooks') }).loose() }),
  mappings: z.record(z.enum(['customer', 'vendor', 'bankAccount']), z.array(z.object({ account: z.string() }).loose())),
});

describe('the shipped QuickBooks config', () => {
  test('its accounting section is valid for the connector once its variables are set', () => {
    const file = fileSchema.parse(shipped(ENV));
    const settings = quickbooksConfig.parse(file.connectors.accounting);
    expect(settings).toMatchObject({
      realmId: '9130357992191236',
      baseUrl: 'https://quickbooks.api.intuit.com/v3/company',
      credentials: { webhookVerifierToken: 'verifier' },
    });
    expect(() => quickbooksConfig.parse({ ...file.connectors.accounting, realmId: 'acme' })).toThrow(/realm id/);
  });

  test('writes every secret of the connector as a variable', () => {
    const text = readFileSync(FILE, 'utf8');
    for (const secret of quickbooks.secrets) expect(text).toMatch(new RegExp(`${secret}: \\$\\{QBO_[A-Z_]+\\}`));
  });

  test('maps only fields the connector reads and writes', () => {
    const { mappings } = fileSchema.parse(shipped(ENV));
    for (const [kind, lines] of Object.entries(mappings))
      for (const { account } of lines)
        expect({
          kind,
          account,
          supported: SUPPORTED_FIELDS[kind as keyof typeof SUPPORTED_FIELDS].includes(account),
        }).toEqual({
          kind,
          account,
          supported: true,
        });
  });

  test('loads as tandem loads it, and its mappings pass the start-up check against the built connectors', async () => {
    const config = loadConfig(FILE, ENV);
    expect(config.connectors.accounting).toMatchObject({ kind: 'quickbooks', realmId: '9130357992191236' });
    const connectors = buildConnectors(config);
    expect(connectors.accounting.webhook).toBeDefined();
    expect(unsupportedMappings(config, connectors.crm, connectors.accounting)).toEqual([]);
    await Promise.all(Object.values(connectors).map((connector) => connector.close?.() ?? Promise.resolve()));
  });
});
