/** The Xero connector against its sandbox, held to the connector contract (customers). */
import { createXeroConnector } from '../../connectors/xero';
import { startXeroSandbox } from '../../connectors/xero/sandbox';
import { describeConnectorContract } from './connector.contract';

const WEBHOOK_URL = 'https://tandem.example/webhooks/accounting';

describeConnectorContract('xero', async () => {
  // A small page size, so listChanged crosses page boundaries.
  const sandbox = await startXeroSandbox({ pageSize: 2 });
  const connector = createXeroConnector({
    name: 'accounting',
    baseUrl: sandbox.url,
    tenantId: sandbox.tenantId,
    auth: {
      tokenUrl: sandbox.tokenUrl,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
      refreshToken: sandbox.refreshToken,
    },
    retry: { baseDelayMs: 1 },
    webhook: { key: 'contract-webhook-key' },
  });
  let names = 0;
  return {
    connector,
    entity: 'customer',
    field: 'phone',
    missingId: '00000000-0000-0000-0000-00000000dead',
    // A contact with a sales invoice: Xero flags it IsCustomer. Contact names are unique in Xero.
    createRecord: async (value) =>
      String(
        sandbox.createContact({
          Name: `Contract Customer ${++names}`,
          IsCustomer: true,
          Phones: [{ PhoneType: 'DEFAULT', PhoneNumber: value }],
        }).ContactID,
      ),
    namedRecord: async (name) => String(sandbox.createContact({ Name: name, IsCustomer: true }).ContactID),
    changeRecord: async (id, value) => {
      sandbox.updateContact(id, {
        Phones: [{ PhoneType: 'DEFAULT', PhoneNumber: value, PhoneAreaCode: '', PhoneCountryCode: '' }],
      });
    },
    // Creates send the key as Xero's Idempotency-Key header; Xero answers a repeat with the first
    // result. Xero requires a name, which the contract's create does not write: it comes as the
    // template value `Name` (see connectors/xero/README.md).
    idempotentCreate: (key) => ({ extra: { Name: `Contract Created ${key}` } }),
    webhook: {
      url: WEBHOOK_URL,
      unsignedBody: JSON.stringify({
        events: [
          {
            resourceUrl: 'https://api.xero.com/api.xro/2.0/Contacts/717f2bfc-c6d4-41fd-b238-3f2f0c0cf777',
            resourceId: '717f2bfc-c6d4-41fd-b238-3f2f0c0cf777',
            eventDateUtc: '2024-06-21T01:15:39.902',
            eventType: 'UPDATE',
            eventCategory: 'CONTACT',
            tenantId: sandbox.tenantId,
            tenantType: 'ORGANISATION',
          },
        ],
        firstEventSequence: 1,
        lastEventSequence: 1,
        entropy: 'S0m3r4Nd0mt3xt',
      }),
    },
    cleanup: async () => {
      await connector.close?.();
      await sandbox.close();
    },
  };
});
