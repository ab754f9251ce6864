/**
 * The accounting side of the demo. The config file chooses it: Business Central and QuickBooks
 * Online run as local sandboxes the demo starts itself; Tryton is a real trytond started beside
 * the demo with scripts/tryton/demo.sh. Each side sets its environment, seeds linked pairs and
 * says what to try.
 */
import {
  businessCentralSandboxSeed,
  SEED_IDS,
  startBusinessCentralSandbox,
} from '../../connectors/business-central/sandbox';
import { isAccount, type Connector } from '../../connectors/kit/types';
import { accountToBankAccount, nameToAccount } from '../../connectors/quickbooks/mappers';
import { startQuickBooksSandbox } from '../../connectors/quickbooks/sandbox';
import { qboAccountSchema, qboCustomerSchema, qboVendorSchema } from '../../connectors/quickbooks/schemas';
import type { TandemConfig } from '../config/schema';
import type { Account, AccountKind } from '../core/model';

/** A pair to link: an account, and a company contact to create from it. */
export interface DemoPair {
  kind: AccountKind;
  account: Account;
}

/** A running accounting side. */
export interface DemoAccounting {
  /** Where the accounting system listens, for the banner. */
  describe: string;
  /** Accounts to link, created or found on the accounting side. */
  pairs(accounting: Connector, config: TandemConfig): Promise<DemoPair[]>;
  /** What to try, with curls for this side. */
  tryThis(tandemUrl: string): Promise<string>;
  close(): Promise<void>;
}

const BC_CLIENT_ID = 'demo-client';
const BC_CLIENT_SECRET = 'demo-client-secret';

/** Starts the Business Central sandbox and points the config's variables at it. */
export async function businessCentralSide(port: number): Promise<DemoAccounting> {
  const bc = await startBusinessCentralSandbox({
    port,
    clientId: BC_CLIENT_ID,
    clientSecret: BC_CLIENT_SECRET,
    seed: businessCentralSandboxSeed(),
    tokenTtlSeconds: 24 * 3600,
  });
  Object.assign(process.env, {
    BC_BASE_URL: bc.url,
    BC_COMPANY_ID: bc.companyId,
    BC_TOKEN_URL: bc.tokenUrl,
    BC_CLIENT_ID,
    BC_CLIENT_SECRET,
    BC_WEBHOOK_CLIENT_STATE: 'demo-client-state',
  });
  return {
    describe: `Business Central sandbox ${bc.url}`,
    async pairs(accounting) {
      const wanted: Array<[AccountKind, string]> = [
        ['customer', SEED_IDS.customers.vanDijk],
        ['customer', SEED_IDS.customers.lindqvist],
        ['vendor', SEED_IDS.vendors.brenner],
        ['bankAccount', SEED_IDS.bankAccounts.operating],
      ];
      return Promise.all(
        wanted.map(async ([kind, id]) => ({ kind, account: await requireAccount(accounting, kind, id) })),
      );
    },
    async tryThis() {
      const token = await bcToken(bc.tokenUrl);
      const auth = `-H 'Authorization: Bearer ${token}'`;
      const customers = `${bc.url}/companies(${bc.companyId})/customers`;
      return `   and see the linked customer carry it within a second:

  curl -s '${customers}(${SEED_IDS.customers.vanDijk})' ${auth}

2. Create a customer in accounting; a linked company contact appears in the CRM within seconds:

  curl -s -X POST '${customers}' ${auth} -H 'Content-Type: application/json' \\
    -d '{"displayName":"Ostrander Fietsen B.V.","phoneNumber":"+31 30 231 4400","city":"Utrecht","country":"NL"}'`;
    },
    close: () => bc.close(),
  };
}

const QBO_CLIENT_ID = 'demo-qbo-client';
const QBO_CLIENT_SECRET = 'demo-qbo-client-secret';
const QBO_VERIFIER_TOKEN = 'demo-qbo-verifier-token';
/** The sandbox's own token for the curls below (a curl's refresh would rotate the daemon's token away). */
const QBO_CURL_TOKEN = 'demo-qbo-curl-token';

/**
 * Starts the QuickBooks Online sandbox (a company with two customers, a vendor and a bank
 * account), sending its signed webhooks to `webhookUrl`, and points the config's variables at it.
 */
export async function quickbooksSide(
  port: number,
  webhookUrl = `http://127.0.0.1:${process.env.TANDEM_PORT ?? '8080'}/webhooks/accounting`,
): Promise<DemoAccounting> {
  const qbo = await startQuickBooksSandbox({
    port,
    clientId: QBO_CLIENT_ID,
    clientSecret: QBO_CLIENT_SECRET,
    webhookUrl,
    verifierToken: QBO_VERIFIER_TOKEN,
    staticToken: QBO_CURL_TOKEN,
  });
  const address = (Line1: string, City: string, PostalCode: string, Country: string) => ({
    BillAddr: { Line1, City, PostalCode, Country },
  });
  const seeded = {
    vanDijk: qbo.create('Customer', {
      DisplayName: 'Van Dijk Installatietechniek B.V.',
      CompanyName: 'Van Dijk Installatietechniek B.V.',
      PrimaryPhone: { FreeFormNumber: '+31 20 624 1180' },
      PrimaryEmailAddr: { Address: 'administratie@vandijk-installatie.nl' },
      ...address('Prinsengracht 263', 'Amsterdam', '1016 GV', 'NL'),
    }),
    lindqvist: qbo.create('Customer', {
      DisplayName: 'Lindqvist Möbler AB',
      PrimaryPhone: { FreeFormNumber: '+46 8 411 2030' },
      ...address('Drottninggatan 53', 'Stockholm', '111 21', 'SE'),
    }),
    brenner: qbo.create('Vendor', {
      DisplayName: 'Brenner Werkzeugbau GmbH',
      PrimaryPhone: { FreeFormNumber: '+49 711 2290 400' },
      ...address('Königstraße 1', 'Stuttgart', '70173', 'DE'),
    }),
    operating: qbo.create('Account', { Name: 'Operating Account', AccountType: 'Bank', AccountSubType: 'Checking' }),
  };
  Object.assign(process.env, {
    QBO_BASE_URL: qbo.url,
    QBO_REALM_ID: qbo.realmId,
    QBO_TOKEN_URL: qbo.tokenUrl,
    QBO_CLIENT_ID,
    QBO_CLIENT_SECRET,
    QBO_REFRESH_TOKEN: qbo.refreshToken,
    QBO_WEBHOOK_VERIFIER_TOKEN: QBO_VERIFIER_TOKEN,
  });
  return {
    describe: `QuickBooks Online sandbox ${qbo.url}/${qbo.realmId}`,
    // Read from the sandbox itself, not through a connector: a connector's first call would spend
    // the configured refresh token (Intuit rotates it), and the daemon starts from that token.
    pairs: () =>
      Promise.resolve([
        { kind: 'customer', account: nameToAccount('customer', qboCustomerSchema.parse(seeded.vanDijk)) },
        { kind: 'customer', account: nameToAccount('customer', qboCustomerSchema.parse(seeded.lindqvist)) },
        { kind: 'vendor', account: nameToAccount('vendor', qboVendorSchema.parse(seeded.brenner)) },
        { kind: 'bankAccount', account: accountToBankAccount(qboAccountSchema.parse(seeded.operating)) },
      ]),
    tryThis() {
      const auth = `-H 'Authorization: Bearer ${QBO_CURL_TOKEN}' -H 'Accept: application/json'`;
      const company = `${qbo.url}/${qbo.realmId}`;
      return Promise.resolve(`   and see the linked customer carry it within a second:

  curl -s '${company}/customer/${String(seeded.vanDijk.Id)}?minorversion=75' ${auth}

2. Create a customer in accounting; a linked company contact appears in the CRM within seconds:

  curl -s -X POST '${company}/customer?minorversion=75' ${auth} -H 'Content-Type: application/json' \\
    -d '{"DisplayName":"Ostrander Fietsen B.V.","PrimaryPhone":{"FreeFormNumber":"+31 30 231 4400"},"BillAddr":{"City":"Utrecht","Country":"NL"}}'`);
    },
    close: () => qbo.close(),
  };
}

/** Uses the trytond at TRYTON_URL (scripts/tryton/demo.sh) and seeds a few parties in it. */
export function trytonSide(): Promise<DemoAccounting> {
  process.env.TRYTON_PASSWORD ??= 'tandem-admin';
  return Promise.resolve({
    describe: `Tryton (trytond)          ${process.env.TRYTON_URL ?? 'http://127.0.0.1:8000'}`,
    async pairs(accounting) {
      if (!accounting.create) throw new Error('the Tryton connector cannot create parties');
      const create = accounting.create.bind(accounting);
      const seed: Array<[AccountKind, Record<string, string>]> = [
        [
          'customer',
          {
            name: 'Van Dijk Installatietechniek B.V.',
            phone: '+31 20 624 1180',
            city: 'Amsterdam',
            postCode: '1016 DV',
            countryCode: 'NL',
            email: 'administratie@vandijk-installatie.nl',
          },
        ],
        [
          'customer',
          {
            name: 'Lindqvist Möbler AB',
            phone: '+46 8 411 2030',
            city: 'Stockholm',
            postCode: '111 21',
            countryCode: 'SE',
          },
        ],
        [
          'vendor',
          {
            name: 'Brenner Werkzeugbau GmbH',
            phone: '+49 711 2290 400',
            city: 'Stuttgart',
            postCode: '70173',
            countryCode: 'DE',
          },
        ],
      ];
      const pairs: DemoPair[] = [];
      for (const [index, [kind, fields]] of seed.entries()) {
        const record = await create(kind, fields, {
          idempotencyKey: `demo-${kind}-${index}`,
          extra: { number: `DEMO${index + 1}` },
        });
        if (!isAccount(record)) throw new Error(`Tryton returned a ${record.entity} for a ${kind}`);
        pairs.push({ kind, account: record });
      }
      return pairs;
    },
    tryThis() {
      return Promise.resolve(`   and see the linked customer's party in Tryton carry it within a poll (5 s): open the party
   in a Tryton client, or ask the admin API: GET /api/relations/<id>/status

2. Create a party in Tryton in the category Customer; a linked company contact appears in the
   CRM sandbox within a poll.`);
    },
    close: () => Promise.resolve(),
  });
}

async function requireAccount(accounting: Connector, kind: AccountKind, id: string): Promise<Account> {
  const record = await accounting.get(kind, id);
  if (!record || !isAccount(record)) throw new Error(`demo seed: ${kind} ${id} is missing from the accounting side`);
  return record;
}

async function bcToken(tokenUrl: string): Promise<string> {
  const response = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: BC_CLIENT_ID,
      client_secret: BC_CLIENT_SECRET,
      scope: 'https://api.businesscentral.dynamics.com/.default',
    }),
  });
  const body = (await response.json()) as { access_token?: string };
  return body.access_token ?? '(token unavailable)';
}
