/** The Salesforce connector against its sandbox, held to the connector contract (Accounts as company contacts). */
import { createSalesforceConnector } from '../../connectors/salesforce';
import { startSalesforceSandbox } from '../../connectors/salesforce/sandbox';
import { describeConnectorContract } from './connector.contract';

describeConnectorContract('salesforce', async () => {
  // Small query pages, so that listChanged follows nextRecordsUrl; the org's limits are on.
  const sandbox = await startSalesforceSandbox({ queryBatchSize: 2, fieldHistory: true });
  const connector = createSalesforceConnector({
    name: 'crm',
    baseUrl: sandbox.url,
    clientId: sandbox.clientId,
    clientSecret: sandbox.clientSecret,
    fieldHistory: true,
    retry: { baseDelayMs: 1 },
  });
  return {
    connector,
    entity: 'contact',
    field: 'phone',
    // A well-formed Account id the org never issued.
    missingId: 'company-001Sb0000999999AAA',
    createRecord: async (value) => `company-${sandbox.createAccount({ Name: 'Contract Account', Phone: value }).Id}`,
    namedRecord: async (name) => `company-${sandbox.createAccount({ Name: name }).Id}`,
    changeRecord: async (id, value) => {
      sandbox.updateAccount(id.replace(/^company-/, ''), { Phone: value });
    },
    // The connector looks up its idempotency field before it creates (see connectors/salesforce/README.md).
    // Salesforce requires an Account's Name, which the contract's create does not write: it comes
    // as an extra field, as a template's would.
    idempotentCreate: (key) => ({ extra: { type: 'company', Name: `Contract Created ${key}` } }),
    cleanup: async () => {
      await connector.close?.();
      await sandbox.close();
    },
  };
});
