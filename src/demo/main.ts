/**
 * `npm run demo`: the CRM sandbox and the accounting side (the Business Central sandbox, or a
 * trytond started with scripts/tryton/demo.sh when the config says `kind: tryton`), seeded, with
 * business relations between them, and the daemon with the embedded store. Prints where
 * everything listens and what to try.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { SEED_IDS } from '../../connectors/business-central/sandbox';
import { createLogger } from '../util/logger';
import { startDaemon } from '../main/daemon';
import { buildConnectors } from '../app/connectors';
import { loadConfig, ConfigError } from '../config/load';
import { RedisUnavailableError, redisUrl } from '../queue/redis';
import { openStore } from '../store';
import { businessCentralSide, quickbooksSide, trytonSide, type DemoAccounting } from './accounting';
import { startCrmSide } from './crm';
import { demoRedis } from './redis';

/** Fixed so the README's commands work as they are; the demo listens on the loopback only. */
const ADMIN_TOKEN = process.env.TANDEM_DEMO_ADMIN_TOKEN ?? 'demo-admin-token-0123456789';
const VIEWER_TOKEN = process.env.TANDEM_DEMO_VIEWER_TOKEN ?? 'demo-viewer-token-0123456789';

function port(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    throw new Error(`${name} must be a port number, not '${process.env[name]}'`);
  return value;
}

async function main(): Promise<void> {
  const tandemPort = port('TANDEM_PORT', 8080);
  const hubspotPort = port('HUBSPOT_SANDBOX_PORT', 4010);
  const bcPort = port('BC_SANDBOX_PORT', 4020);
  const dataDir = path.resolve(process.env.TANDEM_DATA_DIR ?? 'data/demo');
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });

  const redis = await demoRedis(redisUrl());
  const tandemUrl = `http://127.0.0.1:${tandemPort}`;
  const configFile = process.env.TANDEM_CONFIG ?? 'config/tandem.yaml';
  const kind = accountingKind(configFile);
  const side: DemoAccounting =
    kind === 'tryton'
      ? await trytonSide()
      : kind === 'quickbooks'
        ? await quickbooksSide(port('QBO_SANDBOX_PORT', 4030), `${tandemUrl}/webhooks/accounting`)
        : await businessCentralSide(bcPort);
  const crm = await startCrmSide(configFile, {
    hubspot: hubspotPort,
    salesforce: port('SALESFORCE_SANDBOX_PORT', 4040),
  });

  Object.assign(process.env, {
    TANDEM_PUBLIC_URL: tandemUrl,
    TANDEM_SERVER__PORT: String(tandemPort),
    TANDEM_CONNECTORS__CRM__POLL_EVERY: '5s',
    TANDEM_CONNECTORS__ACCOUNTING__POLL_EVERY: '5s',
    TANDEM_QUEUE__BACKOFF: '200ms',
    TANDEM_ADMIN_TOKENS: ADMIN_TOKEN,
    TANDEM_VIEWER_TOKENS: VIEWER_TOKEN,
    TANDEM_URL: tandemUrl,
  });
  const config = loadConfig(configFile);

  // The sandboxes live in memory, so the demo's relations start afresh too.
  rmSync(dataDir, { recursive: true, force: true });
  const store = await openStore({ dataDir });
  const relations = await seedRelations(config, store, side);

  const daemon = await startDaemon({ config, configFile, logger, redisUrl: redis.url, store });
  // Webhooks from the CRM sandbox once the daemon listens (the seeding above needs none).
  crm.daemonStarted(tandemUrl);
  // A first sync of every linked contact records the shadow the later diffs start from.
  await daemon.queues.enqueueChanges(
    relations.map((contactId) => ({ connector: 'crm', entity: 'contact', id: contactId, source: 'manual' })),
  );

  const cli = `TANDEM_URL=${tandemUrl} TANDEM_TOKEN=${ADMIN_TOKEN} node dist/src/cli/main.js`;
  const tryThis = await side.tryThis(tandemUrl);
  process.stdout.write(`
tandem demo is running.

  tandem daemon            ${tandemUrl}   (admin API ${tandemUrl}/api, webhooks ${tandemUrl}/webhooks/crm and /webhooks/accounting)
  ${crm.describe}
  ${side.describe}
  Redis                    ${redis.url}${redis.private ? ' (private to the demo)' : ''}
  Store                    PGlite in ${dataDir}
  Console                  ${tandemUrl}/ui   (sign in with a token below)
  Tokens                   admin ${ADMIN_TOKEN}   viewer ${VIEWER_TOKEN}
  Metrics                  ${tandemUrl}/metrics   (health: /healthz, /readyz)

${crm.changeCompany(relations[0])}

${tryThis}

3. Work with business relations from the command line (or the admin API at ${tandemUrl}/api):

  ${cli} relations
  ${cli} match --dry-run
  ${cli} create-account <contactId> customer
  ${cli} link <contactId> vendor ${config.connectors.accounting.kind === 'business-central' ? SEED_IDS.vendors.castellano : '<vendorId>'}
  ${cli} relation <relationId>

Press Ctrl+C to stop.
`);

  const shutdown = async () => {
    await daemon.stop();
    await store.close();
    await Promise.all([crm.close(), side.close()]);
    await redis.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

/**
 * Links CRM companies with accounts: for each pair the accounting side offers, a company contact
 * is created in the CRM sandbox from the account's own fields (so both sides start equal) and
 * linked. On Business Central, an unlinked company that matches an unlinked customer by VAT
 * registration no. is added for `tandem match` to find.
 */
async function seedRelations(
  config: ReturnType<typeof loadConfig>,
  store: Awaited<ReturnType<typeof openStore>>,
  side: DemoAccounting,
): Promise<string[]> {
  const connectors = buildConnectors(config);
  const createContact = (connectors.crm.create as NonNullable<typeof connectors.crm.create>).bind(connectors.crm);
  const contactIds: string[] = [];
  for (const { kind, account } of await side.pairs(connectors.accounting, config)) {
    const fields: Record<string, string | null> = {};
    for (const [field, value] of Object.entries(account.fields)) if (value !== undefined) fields[field] = value;
    const contact = await createContact('contact', fields, {
      idempotencyKey: `demo-${kind}-${account.id}`,
      extra: { type: 'company' },
    });
    await store.createRelation({
      contactId: contact.id,
      accountKind: kind,
      accountId: account.id,
      relationCode: config.relationCodes[kind] ?? 'DEMO',
      origin: 'createdFromAccount',
    });
    contactIds.push(contact.id);
  }
  if (config.connectors.accounting.kind === 'business-central') {
    const moreau = await connectors.accounting.get('customer', SEED_IDS.customers.moreau);
    if (moreau) {
      await createContact(
        'contact',
        { ...moreau.fields, name: 'Boulangerie Moreau', phone: '+33 1 48 78 32 11' },
        { idempotencyKey: 'demo-unlinked-moreau', extra: { type: 'company' } },
      );
    }
  }
  await Promise.all(Object.values(connectors).map((connector) => connector.close?.() ?? Promise.resolve()));
  return contactIds;
}

/** The accounting connector's kind named in the config file, read before its variables are set. */
function accountingKind(file: string): string | undefined {
  try {
    const raw = parseYaml(readFileSync(file, 'utf8')) as { connectors?: { accounting?: { kind?: string } } } | null;
    return raw?.connectors?.accounting?.kind;
  } catch {
    return undefined; // loadConfig reports the problem properly
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof RedisUnavailableError)
    process.stderr.write(`tandem demo: ${error.message}\n`);
  else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    process.stderr.write(
      `tandem demo: a port is taken (${(error as Error).message}); set TANDEM_PORT, HUBSPOT_SANDBOX_PORT, SALESFORCE_SANDBOX_PORT, PIPEDRIVE_SANDBOX_PORT, QBO_SANDBOX_PORT or BC_SANDBOX_PORT\n`,
    );
  } else process.stderr.write(`tandem demo: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
