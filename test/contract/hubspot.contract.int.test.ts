/** The HubSpot connector against its sandbox, held to the connector contract (companies as contacts). */
import { createHubSpotConnector } from '../../connectors/hubspot';
import { startHubSpotSandbox } from '../../connectors/hubspot/sandbox';
import { describeConnectorContract } from './connector.contract';

const TOKEN = 'contract-token';
const WEBHOOK_URL = 'https://tandem.example/webhooks/crm';

describeConnectorContract('hubspot', async () => {
  const sandbox = await startHubSpotSandbox({ token: TOKEN, log: () => undefined });
  const connector = createHubSpotConnector({
    name: 'crm',
    baseUrl: sandbox.url,
    token: TOKEN,
    retry: { baseDelayMs: 1 },
    webhookSecret: 'contract-secret',
  });
  return {
    connector,
    entity: 'contact',
    field: 'phone',
    missingId: 'company-999999999',
    createRecord: async (value) => `company-${sandbox.createCompany({ name: 'Contract Company', phone: value }).id}`,
    namedRecord: async (name) => `company-${sandbox.createCompany({ name }).id}`,
    changeRecord: async (id, value) => {
      sandbox.updateCompany(id.replace(/^company-/, ''), { phone: value });
    },
    // The connector looks up tandem_idempotency_key before it creates (see connectors/hubspot/README.md).
    idempotentCreate: () => ({ extra: { type: 'company' } }),
    webhook: {
      url: WEBHOOK_URL,
      unsignedBody: JSON.stringify([
        {
          eventId: 1,
          subscriptionId: 1,
          portalId: 1,
          appId: 1,
          occurredAt: Date.now(),
          subscriptionType: 'company.propertyChange',
          attemptNumber: 0,
          objectId: 1,
          propertyName: 'phone',
          propertyValue: '+1',
          changeSource: 'CRM_UI',
        },
      ]),
    },
    cleanup: async () => {
      await connector.close?.();
      await sandbox.close();
    },
  };
});
