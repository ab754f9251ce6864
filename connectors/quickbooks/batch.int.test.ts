/** Many updates against the sandbox: batches of at most BATCH_LIMIT, each item held to its SyncToken. */
import { checkQboEntity } from '../../test/support/quickbooks/qbo-schema';
import { BATCH_LIMIT } from './client';
import { createQuickBooksConnector } from '.';
import { startQuickBooksSandbox } from './sandbox';

test('23 updates go as batches of at most 10, the strictest figure Intuit publishes, and all land', async () => {
  expect(BATCH_LIMIT).toBe(10);
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
  });
  try {
    const ids = Array.from({ length: 23 }, (_, index) =>
      String(sandbox.create('Customer', { DisplayName: `Batch Customer ${index}` }).Id),
    );
    const results = await connector.batchUpdate!(
      'customer',
      ids.map((id, index) => ({ id, fields: { city: `City ${index}` } })),
    );
    expect(results.every((result) => result.ok)).toBe(true);
    const batches = sandbox.requests.filter((request) => request.method === 'POST' && request.path.endsWith('/batch'));
    const sizes = batches.map(
      (request) => (request.requestBody as { BatchItemRequest: unknown[] }).BatchItemRequest.length,
    );
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBeGreaterThanOrEqual(23);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
    expect((await connector.get('customer', ids[22] as string))?.fields.city).toBe('City 22');
  } finally {
    await connector.close?.();
    await sandbox.close();
  }
});
