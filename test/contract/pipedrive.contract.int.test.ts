/** The Pipedrive connector against its sandbox, held to the connector contract (organizations as company contacts). */
import { createPipedriveConnector } from '../../connectors/pipedrive';
import { startPipedriveSandbox } from '../../connectors/pipedrive/sandbox';
import { describeConnectorContract } from './connector.contract';

describeConnectorContract('pipedrive', async () => {
  // Pipedrive's burst limits are on.
  const sandbox = await startPipedriveSandbox();
  const connector = createPipedriveConnector({
    name: 'crm',
    baseUrl: sandbox.url,
    apiToken: sandbox.apiToken,
    webhookUser: 'tandem',
    webhookPassword: 'contract-webhook-password',
    webhookUrl: 'https://tandem.example/webhooks/crm',
    retry: { baseDelayMs: 1 },
  });
  return {
    connector,
    entity: 'contact',
    field: 'homePage',
    missingId: 'company-999999',
    createRecord: async (value) =>
      `company-${String(sandbox.createOrganization({ name: 'Contract Organization', website: value }).id)}`,
    namedRecord: async (name) => `company-${String(sandbox.createOrganization({ name }).id)}`,
    changeRecord: async (id, value) => {
      sandbox.updateOrganization(id.replace(/^company-/, ''), { website: value });
    },
    // The connector looks its idempotency field up before it creates (see connectors/pipedrive/README.md);
    // Pipedrive requires a name, which the contract's create does not write: it comes as an extra.
    idempotentCreate: (key) => ({ extra: { type: 'company', name: `Contract Created ${key}` } }),
    webhook: {
      url: 'https://tandem.example/webhooks/crm',
      unsignedBody: JSON.stringify({
        meta: {
          id: 'e1',
          action: 'change',
          entity: 'organization',
          entity_id: '1',
          timestamp: new Date().toISOString(),
          version: '2.0',
        },
      }),
    },
    cleanup: async () => {
      await connector.close?.();
      await sandbox.close();
    },
  };
});
