/**
 * The CRM side of the demo. The config file chooses it: `kind: hubspot` (the default),
 * `kind: salesforce` or `kind: pipedrive`, each a local sandbox the demo starts itself. Each side sets the variables
 * its config reads, is told when the daemon listens, and says how to change a company by hand.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { hubspotSandboxSeed, startHubSpotSandbox } from '../../connectors/hubspot/sandbox';
import { SANDBOX_API_PATH as PIPEDRIVE_API_PATH, startPipedriveSandbox } from '../../connectors/pipedrive/sandbox';
import {
  DEMO_VAT_FIELD,
  SANDBOX_API_PATH,
  salesforceSandboxSeed,
  startSalesforceSandbox,
} from '../../connectors/salesforce/sandbox';

/** A running CRM side. */
export interface DemoCrm {
  /** Where the CRM sandbox listens, for the banner. */
  describe: string;
  /** The daemon listens: where the sandbox may send webhooks. */
  daemonStarted(tandemUrl: string): void;
  /** Step 1 of the banner: a curl that changes the phone number of a linked company contact. */
  changeCompany(companyContactId: string | undefined): string;
  close(): Promise<void>;
}

/** The ports the sandboxes listen on. */
export interface DemoCrmPorts {
  hubspot: number;
  salesforce: number;
  /** Default PIPEDRIVE_SANDBOX_PORT, else 4012. */
  pipedrive?: number;
}

const HUBSPOT_TOKEN = 'demo-hubspot-token';
const HUBSPOT_SECRET = 'demo-hubspot-client-secret';
const SALESFORCE_CLIENT_ID = 'demo-salesforce-consumer-key';
const SALESFORCE_CLIENT_SECRET = 'demo-salesforce-consumer-secret';
const PIPEDRIVE_API_TOKEN = 'demo-pipedrive-api-token';
const PIPEDRIVE_WEBHOOK_PASSWORD = 'demo-pipedrive-webhook-password';

/** Starts the CRM side the config file names (HubSpot unless it says `kind: salesforce` or `kind: pipedrive`). */
export function startCrmSide(configFile: string, ports: DemoCrmPorts): Promise<DemoCrm> {
  const kind = crmKind(configFile);
  if (kind === 'pipedrive') return pipedriveSide(ports.pipedrive ?? Number(process.env.PIPEDRIVE_SANDBOX_PORT ?? 4012));
  return kind === 'salesforce' ? salesforceSide(ports.salesforce) : hubspotSide(ports.hubspot);
}

/**
 * Starts the Pipedrive sandbox (empty: the demo creates the linked organizations from the accounts)
 * and points the config's variables at it. The sandbox sends no webhooks: tandem polls it.
 */
export async function pipedriveSide(port: number): Promise<DemoCrm> {
  const pipedrive = await startPipedriveSandbox({ port, apiToken: PIPEDRIVE_API_TOKEN });
  Object.assign(process.env, {
    PIPEDRIVE_BASE_URL: pipedrive.url,
    PIPEDRIVE_API_TOKEN,
    PIPEDRIVE_WEBHOOK_PASSWORD,
  });
  return {
    describe: `Pipedrive CRM sandbox    ${pipedrive.url}   (x-api-token ${PIPEDRIVE_API_TOKEN})`,
    daemonStarted: () => undefined,
    changeCompany: (
      contactId,
    ) => `1. Change an organization's phone number in the CRM (tandem polls Pipedrive every 5 s):

  curl -s -X PATCH ${pipedrive.url}${PIPEDRIVE_API_PATH}/organizations/${contactId?.replace('company-', '') ?? '1'} \\
    -H 'x-api-token: ${PIPEDRIVE_API_TOKEN}' -H 'Content-Type: application/json' \\
    -d '{"custom_fields":{"tandem_phone":"+31 20 555 0199"}}'`,
    close: () => pipedrive.close(),
  };
}

/** Starts the HubSpot sandbox and points the config's variables at it; webhooks once the daemon listens. */
export async function hubspotSide(port: number): Promise<DemoCrm> {
  const hubspot = await startHubSpotSandbox({ port, token: HUBSPOT_TOKEN, seed: hubspotSandboxSeed() });
  Object.assign(process.env, {
    HUBSPOT_BASE_URL: hubspot.url,
    HUBSPOT_TOKEN,
    HUBSPOT_CLIENT_SECRET: HUBSPOT_SECRET,
  });
  return {
    describe: `HubSpot CRM sandbox      ${hubspot.url}   (bearer ${HUBSPOT_TOKEN})`,
    daemonStarted: (tandemUrl) =>
      hubspot.setWebhookTarget({ targetUrl: `${tandemUrl}/webhooks/crm`, clientSecret: HUBSPOT_SECRET }),
    changeCompany: (contactId) => `1. Change a company's phone number in the CRM:

  curl -s -X PATCH ${hubspot.url}/crm/v3/objects/companies/${contactId?.replace('company-', '') ?? '1'} \\
    -H 'Authorization: Bearer ${HUBSPOT_TOKEN}' -H 'Content-Type: application/json' \\
    -d '{"properties":{"phone":"+31 20 555 0199"}}'`,
    close: () => hubspot.close(),
  };
}

/** Starts the Salesforce sandbox (an org with a VAT number field) and points the config's variables at it. */
export async function salesforceSide(port: number): Promise<DemoCrm> {
  const salesforce = await startSalesforceSandbox({
    port,
    clientId: SALESFORCE_CLIENT_ID,
    clientSecret: SALESFORCE_CLIENT_SECRET,
    seed: salesforceSandboxSeed(),
    customFields: { Account: [DEMO_VAT_FIELD] },
    fieldHistory: true,
  });
  Object.assign(process.env, {
    SALESFORCE_BASE_URL: salesforce.url,
    SALESFORCE_CLIENT_ID,
    SALESFORCE_CLIENT_SECRET,
  });
  const token = `curl -s ${salesforce.tokenUrl} -d grant_type=client_credentials -d client_id=${SALESFORCE_CLIENT_ID} -d client_secret=${SALESFORCE_CLIENT_SECRET}`;
  return {
    describe: `Salesforce CRM sandbox   ${salesforce.url}   (client credentials ${SALESFORCE_CLIENT_ID})`,
    // Salesforce has no webhooks here: tandem polls it.
    daemonStarted: () => undefined,
    changeCompany: (contactId) => `1. Change an Account's phone number in the CRM (tandem polls Salesforce every 5 s):

  TOKEN=$(${token} | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
  curl -s -X PATCH ${salesforce.url}${SANDBOX_API_PATH}/sobjects/Account/${contactId?.replace('company-', '') ?? '<Account Id>'} \\
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
    -d '{"Phone":"+31 20 555 0199"}'`,
    close: () => salesforce.close(),
  };
}

/** The CRM connector's kind named in the config file, read before its variables are set. */
function crmKind(file: string): string | undefined {
  try {
    const raw = parseYaml(readFileSync(file, 'utf8')) as { connectors?: { crm?: { kind?: string } } } | null;
    return raw?.connectors?.crm?.kind;
  } catch {
    return undefined; // loadConfig reports the problem properly
  }
}
