/**
 * An end-to-end rig: both sandboxes, a real store (PGlite or Postgres), real Redis under a
 * private key prefix, and the daemon, with webhooks flowing from the sandboxes to it.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import {
  startBusinessCentralSandbox,
  type BusinessCentralSandbox,
  type BusinessCentralSandboxOptions,
} from '../../connectors/business-central/sandbox';
import { startHubSpotSandbox, type HubSpotSandbox, type HubSpotSandboxOptions } from '../../connectors/hubspot/sandbox';
import type { BuildOptions } from '../../src/app/connectors';
import { startDaemon, type Daemon } from '../../src/main/daemon';
import { configSchema, type TandemConfig } from '../../src/config/schema';
import type { AdminTokens } from '../../src/http/auth';
import type { AccountKind, BusinessRelation } from '../../src/core/model';
import { openPgliteStore, openPostgresStore, type PostgresExecutorOptions } from '../../src/store';
import type { Store } from '../../src/app/ports/store';
import { freePort, waitFor } from '../../src/util/net';
import { clearPrefix } from './fakes';
import { requireServers } from './servers';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const HUBSPOT_TOKEN = 'test-hubspot-token';
export const HUBSPOT_SECRET = 'test-hubspot-secret';
export const BC_STATE = 'test-client-state';

/** A HubSpot company property of a portal's own (a picklist of account managers), for custom-field tests. */
export const ACCOUNT_MANAGER = {
  name: 'account_manager',
  label: 'Account manager',
  type: 'enumeration' as const,
  options: [
    { label: 'Anna de Vries', value: 'Anna de Vries' },
    { label: 'Bram Jansen', value: 'Bram Jansen' },
  ],
};

/** Which store backs a rig. */
export type StoreKind = 'pglite' | 'postgres';

/** Options of a rig. */
export interface RigOptions {
  store?: StoreKind;
  /** Deliver webhooks from the accounting sandbox (subscriptions) as well as the CRM's. */
  accountingWebhooks?: boolean;
  /** Extra config, merged over the rig's defaults. */
  config?: (base: Record<string, unknown>) => Record<string, unknown>;
  /** Mount the admin API with these tokens (default: not mounted). */
  adminTokens?: AdminTokens | null;
  /**
   * Run on this Redis (REDIS_URL and REDIS_CLUSTER, as the daemon takes them) instead of the one
   * at REDIS_URL; its keys are then the caller's to clear.
   */
  redis?: { url: string; cluster: boolean };
  /** With store 'pglite': its data directory (default: in memory), as the product keeps it in ./data/tandem. */
  pgliteDir?: string;
  /** With store 'postgres': the server to use (default DATABASE_URL), e.g. a private one to restart. */
  databaseUrl?: string;
  /** With store 'postgres': options of the store, such as a shorter retry bound. */
  storeOptions?: Omit<PostgresExecutorOptions, 'schema'>;
  /** The CRM sandbox's waits between redeliveries of a webhook it got no 2xx for. */
  webhookRetryDelaysMs?: number[];
  /** More options of the CRM sandbox (latency, rate limits, their clock), over the rig's. */
  hubspot?: Pick<HubSpotSandboxOptions, 'latencyMs' | 'rateLimits' | 'now' | 'logBodies' | 'properties'>;
  /** More options of the accounting sandbox, over the rig's. */
  bc?: Pick<BusinessCentralSandboxOptions, 'latencyMs' | 'rateLimits' | 'now' | 'notificationDelayMs' | 'logBodies'>;
  /** More connector options of the daemon (a request budget of the test's own), over the rig's. */
  connectorOptions?: Pick<BuildOptions, 'budget'>;
}

/** A running rig. */
export interface Rig {
  hubspot: HubSpotSandbox;
  bc: BusinessCentralSandbox;
  daemon: Daemon;
  store: Store;
  config: TandemConfig;
  webhookUrl: string;
  /** With store 'postgres': the rig's own schema in it. */
  schema?: string;
  /**
   * Links a contact and an account that already exist, as they are (their fields may differ),
   * and waits until the first sync has recorded the relation's shadow and everything settled.
   */
  link(contactId: string, kind: AccountKind, accountId: string): Promise<BusinessRelation>;
  /** Delivers the sandboxes' pending webhooks and waits until the queues are idle. */
  flush(): Promise<void>;
  /** Creates a company in the CRM and a record in accounting with the same fields, and links them. */
  linkedCompany(
    fields: Record<string, string>,
    kinds: AccountKind[],
  ): Promise<{ contactId: string; hubspotId: string; accounts: Record<string, string> }>;
  stop(): Promise<void>;
}

/** The secrets of a config over the two sandboxes: the values, or `${VAR}` references to them. */
export interface SandboxSecrets {
  hubspotToken: string;
  hubspotSecret: string;
  bcClientSecret: string;
  bcClientState: string;
}

/** The two connectors of a config over the sandboxes, for the caller to add its own options to. */
export function sandboxConnectors(
  hubspot: Pick<HubSpotSandbox, 'url'>,
  bc: Pick<BusinessCentralSandbox, 'url' | 'companyId' | 'tokenUrl' | 'clientId'>,
  secrets: SandboxSecrets,
) {
  return {
    crm: {
      kind: 'hubspot',
      baseUrl: hubspot.url,
      credentials: { token: secrets.hubspotToken, webhookSecret: secrets.hubspotSecret },
    },
    accounting: {
      kind: 'business-central',
      baseUrl: bc.url,
      companyId: bc.companyId,
      credentials: {
        tokenUrl: bc.tokenUrl,
        clientId: bc.clientId,
        clientSecret: secrets.bcClientSecret,
        webhookClientState: secrets.bcClientState,
      },
    },
  };
}

const quietLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Starts a rig. */
export async function startRig(options: RigOptions = {}): Promise<Rig> {
  const databaseUrl = options.databaseUrl ?? DATABASE_URL;
  const sharedPostgres = options.store === 'postgres' && options.databaseUrl === undefined;
  await requireServers([
    ...(options.redis ? [] : ['redis' as const]),
    ...(sharedPostgres ? ['postgres' as const] : []),
  ]);
  const bc = await startBusinessCentralSandbox({ notificationDelayMs: 20, ...options.bc });
  // Its webhook target is set once tandem's port is known (below).
  const hubspot = await startHubSpotSandbox({ ...options.hubspot, token: HUBSPOT_TOKEN, log: () => undefined });
  const prefix = `t${randomUUID().slice(0, 8)}`;

  let schema: string | undefined;
  let store: Store;
  if (options.store === 'postgres') {
    schema = `tandem_e2e_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    store = await openPostgresStore(databaseUrl, { ...options.storeOptions, schema });
  } else {
    store = await openPgliteStore(options.pgliteDir);
  }

  // Picked just before tandem listens on it: every moment between is a chance for another
  // process on the machine to take it.
  const port = await freePort();
  const tandemUrl = `http://127.0.0.1:${port}`;
  const webhookUrl = `${tandemUrl}/webhooks/crm`;

  const connectors = sandboxConnectors(hubspot, bc, {
    hubspotToken: HUBSPOT_TOKEN,
    hubspotSecret: HUBSPOT_SECRET,
    bcClientSecret: bc.clientSecret,
    bcClientState: BC_STATE,
  });
  const base: Record<string, unknown> = {
    connectors: {
      crm: { ...connectors.crm, pollEvery: '30s', concurrency: 4 },
      accounting: {
        ...connectors.accounting,
        pollEvery: '30s',
        concurrency: 4,
        webhooks: options.accountingWebhooks ?? true,
      },
    },
    relationCodes: { customer: 'CUST', vendor: 'VEND', bankAccount: 'BANK' },
    mappings: {
      customer: [
        'name',
        'address',
        'city',
        'postCode',
        'countryCode',
        'phone',
        'email',
        'homePage',
        'vatRegistrationNo',
      ].map((field) => ({ contact: field, account: field })),
      vendor: ['name', 'address', 'city', 'postCode', 'countryCode', 'phone', 'email', 'homePage'].map((field) => ({
        contact: field,
        account: field,
      })),
      bankAccount: [{ contact: 'name', account: 'name' }],
    },
    server: { host: '127.0.0.1', port, publicUrl: tandemUrl },
    queue: { prefix, backoff: '50ms', attempts: 5, intakeConcurrency: 4 },
  };
  const config = configSchema.parse(options.config ? options.config(base) : base);
  const daemon = await startDaemon({
    config,
    logger: quietLogger,
    redisUrl: options.redis?.url ?? REDIS_URL,
    redisCluster: options.redis?.cluster,
    store,
    schedulePolling: false,
    // A slow machine must not turn a stuck job into a stuck test run.
    shutdownGraceMs: 10_000,
    connectorOptions: { retry: { baseDelayMs: 5 }, ...options.connectorOptions },
    adminTokens: options.adminTokens ?? null,
  });
  hubspot.setWebhookTarget({
    targetUrl: webhookUrl,
    clientSecret: HUBSPOT_SECRET,
    batchDelayMs: 10,
    ...(options.webhookRetryDelaysMs ? { retryDelaysMs: options.webhookRetryDelaysMs } : {}),
  });

  const rig: Rig = {
    hubspot,
    bc,
    daemon,
    store,
    config,
    webhookUrl,
    schema,
    async link(contactId, kind, accountId) {
      const relation = await store.createRelation({
        contactId,
        accountKind: kind,
        accountId,
        relationCode: config.relationCodes[kind] ?? 'X',
        origin: 'linked',
      });
      await daemon.queues.enqueueChanges([{ connector: 'crm', entity: 'contact', id: contactId, source: 'manual' }]);
      await waitFor(async () => (await store.getShadow(relation.id)).length > 0, 10_000);
      await rig.flush();
      return relation;
    },
    async flush() {
      await hubspot.flushWebhooks();
      await bc.flushNotifications();
      await settle(rig);
    },
    async linkedCompany(fields, kinds) {
      const company = hubspot.createCompany(toHubSpot(fields));
      const contactId = `company-${company.id}`;
      const accounts: Record<string, string> = {};
      for (const kind of kinds) {
        const record =
          kind === 'customer'
            ? bc.createCustomer(toBc(fields))
            : kind === 'vendor'
              ? bc.createVendor(toBc(fields))
              : bc.createBankAccount({ displayName: fields.name });
        accounts[kind] = String(record.id);
        await store.createRelation({
          contactId,
          accountKind: kind,
          accountId: String(record.id),
          relationCode: config.relationCodes[kind] ?? 'X',
          origin: 'linked',
        });
      }
      // The first sync records the shadow (both sides already agree).
      await daemon.queues.enqueueChanges([{ connector: 'crm', entity: 'contact', id: contactId, source: 'manual' }]);
      const relationIds = (await store.findRelationsByContact(contactId)).map((relation) => relation.id);
      await waitFor(async () => {
        const shadows = await store.getShadows(relationIds);
        return relationIds.every((id) => (shadows.get(id)?.length ?? 0) > 0);
      }, 10_000);
      await hubspot.flushWebhooks();
      await bc.flushNotifications();
      await settle(rig);
      return { contactId, hubspotId: company.id, accounts };
    },
    async stop() {
      await daemon.stop();
      await Promise.all([hubspot.close(), bc.close()]);
      await store.close();
      if (!options.redis) await clearPrefix(prefix);
      if (schema) {
        const { Client } = await import('pg');
        const client = new Client({ connectionString: databaseUrl });
        await client.connect();
        await client.query(`drop schema if exists ${schema} cascade`);
        await client.end();
      }
    },
  };
  return rig;
}

/** Waits until no job is waiting, delayed or running in any of the rig's queues. */
export async function settle(rig: Rig, timeoutMs = 15_000): Promise<void> {
  const queues = [rig.daemon.queues.intake, rig.daemon.queues.writes.crm, rig.daemon.queues.writes.accounting];
  let quietSince = 0;
  await waitFor(
    async () => {
      const counts = await Promise.all(
        queues.map((queue) => queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children')),
      );
      const busy = counts.some((count) => Object.values(count).some((n) => n > 0));
      if (busy) {
        quietSince = 0;
        return false;
      }
      quietSince ||= Date.now();
      // Webhooks may still be on their way from a sandbox: stay quiet for a moment.
      return Date.now() - quietSince > 150;
    },
    timeoutMs,
    25,
  );
}

/** Canonical demo fields as HubSpot company properties. */
export function toHubSpot(fields: Record<string, string>): Record<string, string> {
  const map: Record<string, string> = {
    name: 'name',
    address: 'address',
    city: 'city',
    postCode: 'zip',
    countryCode: 'country',
    phone: 'phone',
    homePage: 'website',
    email: 'tandem_email',
    vatRegistrationNo: 'tandem_vat_registration_no',
  };
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [map[key] ?? key, value]));
}

/** Canonical demo fields as Business Central customer/vendor properties. */
export function toBc(fields: Record<string, string>): Record<string, string> {
  const map: Record<string, string> = {
    name: 'displayName',
    address: 'addressLine1',
    city: 'city',
    postCode: 'postalCode',
    countryCode: 'country',
    phone: 'phoneNumber',
    email: 'email',
    homePage: 'website',
    vatRegistrationNo: 'taxRegistrationNumber',
  };
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [map[key] ?? key, value]));
}
