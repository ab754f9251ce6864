/** The Dynamics 365 Sales connector against its sandbox, held to the connector contract (accounts as company contacts). */
import { createDynamicsSalesConnector } from '../../connectors/dynamics-sales';
import { startDynamicsSandbox } from '../../connectors/dynamics-sales/sandbox';
import { bodyViolations, recordViolations } from '../support/dynamics/manifest';
import { describeConnectorContract } from './connector.contract';

describeConnectorContract('dynamics-sales', async () => {
  // The service protection limits are on.
  const sandbox = await startDynamicsSandbox();
  const connector = createDynamicsSalesConnector({
    name: 'crm',
    baseUrl: sandbox.url,
    tokenUrl: sandbox.tokenUrl,
    clientId: sandbox.clientId,
    clientSecret: sandbox.clientSecret,
    retry: { baseDelayMs: 1 },
  });
  return {
    connector,
    entity: 'contact',
    field: 'phone',
    // A well-formed accountid the environment never issued.
    missingId: 'company-00000000-0000-4000-8000-000000000404',
    createRecord: async (value) =>
      `company-${String(sandbox.createAccount({ name: 'Contract Account', telephone1: value }).accountid)}`,
    namedRecord: async (name) => `company-${String(sandbox.createAccount({ name }).accountid)}`,
    changeRecord: async (id, value) => {
      sandbox.updateAccount(id.replace(/^company-/, ''), { telephone1: value });
    },
    // The row id is derived from the idempotency key (see connectors/dynamics-sales/README.md).
    idempotentCreate: () => ({ extra: { type: 'company' } }),
    cleanup: async () => {
      // Everything the connector sent set only columns valid for the operation; every row it got carries real columns.
      for (const entry of sandbox.requests) {
        const set = /^(accounts|contacts)/.exec(entry.path)?.[1];
        if (set === undefined) continue;
        if (entry.method === 'POST' || entry.method === 'PATCH')
          expect(bodyViolations(set, entry.method, entry.requestBody)).toEqual([]);
        const answer = entry.responseBody as { value?: unknown[] } | undefined;
        if (entry.status === 200 || entry.status === 201)
          for (const row of answer?.value ?? [answer])
            if (!JSON.stringify(row).includes('$deletedEntity')) expect(recordViolations(set, row)).toEqual([]);
      }
      await connector.close?.();
      await sandbox.close();
    },
  };
});
