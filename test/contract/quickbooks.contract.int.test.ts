/**
 * The QuickBooks Online connector against its sandbox, held to the connector contract (customers,
 * then vendors and bank accounts), with every entity it writes checked against Intuit's schema.
 */
import { createQuickBooksConnector } from '../../connectors/quickbooks';
import { startQuickBooksSandbox } from '../../connectors/quickbooks/sandbox';
import { checkQboBody, checkQboEntity } from '../support/quickbooks/qbo-schema';
import { describeConnectorContract, type ContractSubject } from './connector.contract';

const WEBHOOK_URL = 'https://tandem.example/webhooks/accounting';

/** A subject for one kind; the sandbox refuses any body Intuit's schema does not allow. */
async function subject(kind: 'customer' | 'vendor' | 'bankAccount'): Promise<ContractSubject> {
  const sandbox = await startQuickBooksSandbox({ checkEntity: checkQboEntity });
  const connector = createQuickBooksConnector({
    name: 'accounting',
    baseUrl: sandbox.url,
    realmId: sandbox.realmId,
    auth: {
      tokenUrl: sandbox.tokenUrl,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
      refreshToken: sandbox.refreshToken,
    },
    retry: { baseDelayMs: 1 },
    webhook: { verifierToken: 'contract-verifier-token' },
    // A small page, so that a poll that falls back to the query endpoint crosses pages.
    pageSize: 2,
  });
  const entity = kind === 'customer' ? 'Customer' : kind === 'vendor' ? 'Vendor' : 'Account';
  let names = 0;
  const record = (name: string, value: string) =>
    kind === 'bankAccount'
      ? { Name: name, AccountType: 'Bank', AccountSubType: 'Checking', CurrencyRef: { value } }
      : { DisplayName: name, PrimaryPhone: { FreeFormNumber: value } };
  const change = (value: string) =>
    kind === 'bankAccount' ? { CurrencyRef: { value } } : { PrimaryPhone: { FreeFormNumber: value } };
  return {
    connector,
    entity: kind,
    // A bank account's writable text is its Name.
    field: kind === 'bankAccount' ? 'name' : 'phone',
    missingId: '999999',
    createRecord: async (value) =>
      String(
        sandbox.create(
          entity,
          kind === 'bankAccount' ? record(value, 'USD') : record(`Contract ${kind} ${++names}`, value),
        ).Id,
      ),
    changeRecord: async (id, value) => {
      sandbox.update(entity, id, kind === 'bankAccount' ? { Name: value } : change(value));
    },
    namedRecord: async (name) => String(sandbox.create(entity, record(name, 'USD')).Id),
    // Creates carry the key as QBO's requestid, answered as the first by a repeat. QBO requires a
    // DisplayName (Name for accounts), which the contract's create does not write: it comes as a template value.
    idempotentCreate: (key) => ({
      extra: kind === 'bankAccount' ? { AccountSubType: 'Checking' } : { DisplayName: `Contract Created ${key}` },
    }),
    documentAccount: async (documentKind) =>
      String(
        sandbox.create(documentKind === 'customer' ? 'Customer' : 'Vendor', {
          DisplayName: `Contract ${documentKind} for documents ${++names}`,
        }).Id,
      ),
    webhook: {
      url: WEBHOOK_URL,
      unsignedBody: JSON.stringify({
        eventNotifications: [
          {
            realmId: sandbox.realmId,
            dataChangeEvent: {
              entities: [{ name: 'Customer', id: '58', operation: 'Update', lastUpdated: '2026-12-01T10:15:30-08:00' }],
            },
          },
        ],
      }),
    },
    cleanup: async () => {
      await connector.close?.();
      const violations = sandbox.requests
        .filter((entry) => entry.path !== 'token')
        .flatMap((entry) => [
          ...(entry.requestBody === undefined ? [] : requestViolations(entry.path, entry.requestBody)),
          ...(typeof entry.responseBody === 'object' ? checkQboBody(entry.responseBody, `${entry.path} answer`) : []),
        ]);
      await sandbox.close();
      expect(violations).toEqual([]);
    },
  };
}

/** A request body: a batch envelope, or the bare entity of POST /<entity>. */
function requestViolations(path: string, body: unknown): string[] {
  if (path.endsWith('/batch')) return checkQboBody(body, 'batch request');
  const entity = {
    customer: 'Customer',
    vendor: 'Vendor',
    account: 'Account',
    estimate: 'Estimate',
    purchaseorder: 'PurchaseOrder',
  }[path.split('/').at(-1) ?? ''];
  return entity === undefined ? [`${path}: a body the contract does not expect`] : checkQboEntity(entity, body);
}

describeConnectorContract('quickbooks customers', () => subject('customer'));
describeConnectorContract('quickbooks vendors', () => subject('vendor'));
describeConnectorContract('quickbooks bank accounts', () => subject('bankAccount'));
