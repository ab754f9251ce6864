/**
 * The Business Central connector against its sandbox, held to the connector contract (customers),
 * with every body it sends and every record the sandbox answers held to the APIV2 manifest.
 */
import { businessCentral } from '../../connectors/business-central';
import { startBusinessCentralSandbox } from '../../connectors/business-central/sandbox';
import { requestLogViolations } from '../support/business-central/manifest';
import { describeConnectorContract } from './connector.contract';

const WEBHOOK_URL = 'https://tandem.example/webhooks/accounting';

describeConnectorContract('business-central', async () => {
  // A small page size, so listChanged crosses page boundaries.
  const sandbox = await startBusinessCentralSandbox({ pageSize: 2 });
  const { url: baseUrl, companyId, tokenUrl, clientId, clientSecret } = sandbox;
  const connector = businessCentral.create(
    {
      baseUrl,
      companyId,
      credentials: { tokenUrl, clientId, clientSecret, webhookClientState: 'contract-client-state' },
    },
    { name: 'accounting', retry: { baseDelayMs: 1 } },
  );
  let numbers = 0;
  return {
    connector,
    entity: 'customer',
    field: 'phone',
    missingId: '00000000-0000-0000-0000-00000000dead',
    createRecord: async (value) =>
      String(sandbox.createCustomer({ displayName: 'Contract Customer', phoneNumber: value }).id),
    namedRecord: async (name) => String(sandbox.createCustomer({ displayName: name }).id),
    changeRecord: async (id, value) => {
      sandbox.updateCustomer(id, { phoneNumber: value });
    },
    // BC has no idempotency key; a create with a chosen number returns the existing record.
    idempotentCreate: () => ({ extra: { number: `CT${String(++numbers).padStart(5, '0')}` } }),
    documentAccount: async (kind) =>
      String(
        (kind === 'customer'
          ? sandbox.createCustomer({ displayName: 'Contract Document Customer' })
          : sandbox.createVendor({ displayName: 'Contract Document Vendor' })
        ).id,
      ),
    webhook: {
      url: WEBHOOK_URL,
      unsignedBody: JSON.stringify({
        value: [
          {
            subscriptionId: 'contract',
            expirationDateTime: new Date(Date.now() + 86_400_000).toISOString(),
            resource: `api/v2.0/companies(${sandbox.companyId})/customers(00000000-0000-0000-0000-00000000beef)`,
            changeType: 'updated',
            lastModifiedDateTime: new Date().toISOString(),
          },
        ],
      }),
    },
    cleanup: async () => {
      await connector.close?.();
      const violations = requestLogViolations(sandbox.requests);
      await sandbox.close();
      expect(violations).toEqual([]);
    },
  };
});
