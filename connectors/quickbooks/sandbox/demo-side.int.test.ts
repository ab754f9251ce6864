/**
 * The demo's QuickBooks side: the sandbox seeded, the config's variables set, the pairs the same
 * as the connector reads them, and the configured refresh token left for the daemon.
 */
import { quickbooksSide } from '../../../src/demo/accounting';
import { createQuickBooksConnector } from '..';

test('quickbooksSide seeds a company whose customers, vendor and bank account the connector reads', async () => {
  const side = await quickbooksSide(0, 'http://127.0.0.1:9/webhooks/accounting');
  const env = (name: string) => {
    const value = process.env[name];
    if (value === undefined) throw new Error(`${name} is not set`);
    return value;
  };
  const connector = createQuickBooksConnector({
    name: 'accounting',
    baseUrl: env('QBO_BASE_URL'),
    realmId: env('QBO_REALM_ID'),
    auth: {
      tokenUrl: env('QBO_TOKEN_URL'),
      clientId: env('QBO_CLIENT_ID'),
      clientSecret: env('QBO_CLIENT_SECRET'),
      refreshToken: env('QBO_REFRESH_TOKEN'),
    },
    webhook: { verifierToken: env('QBO_WEBHOOK_VERIFIER_TOKEN') },
  });
  try {
    // Seeding spends no token: the daemon's connector then reaches QBO with the configured refresh token.
    const pairs = await side.pairs(connector, {} as never);
    for (const { kind, account } of pairs) expect(await connector.get(kind, account.id)).toEqual(account);
    expect(pairs.map(({ kind, account }) => [kind, account.fields.name])).toEqual([
      ['customer', 'Van Dijk Installatietechniek B.V.'],
      ['customer', 'Lindqvist Möbler AB'],
      ['vendor', 'Brenner Werkzeugbau GmbH'],
      ['bankAccount', 'Operating Account'],
    ]);
    // The curl the demo prints reads the customer with the sandbox's own token.
    const curl = /curl -s '([^']+)' -H 'Authorization: ([^']+)'/.exec(await side.tryThis('http://127.0.0.1:8080'));
    expect(curl).not.toBeNull();
    const response = await fetch(curl?.[1] ?? '', {
      headers: { authorization: curl?.[2] ?? '', accept: 'application/json' },
    });
    expect(await response.json()).toMatchObject({ Customer: { DisplayName: 'Van Dijk Installatietechniek B.V.' } });
  } finally {
    await connector.close?.();
    await side.close();
  }
});
