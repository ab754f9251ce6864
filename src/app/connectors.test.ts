/** The factory: a registry lookup that builds each kind on its side, with the app's context. */
import nock from 'nock';
import { CONNECTORS } from '../../connectors';
import { connectorSchema } from '../config/schema';
import { buildConnector, ConnectorSlotError } from './connectors';

const CONFIGS = {
  hubspot: { kind: 'hubspot', baseUrl: 'https://api.hubapi.com', credentials: { token: 't' } },
  'business-central': {
    kind: 'business-central',
    baseUrl: 'https://bc.example/api/v2.0',
    companyId: '0f6c8f4a-3a55-4d43-a0b8-6a5c2d8c0c11',
    credentials: { tokenUrl: 'https://login.example/token', clientId: 'id', clientSecret: 's' },
  },
  tryton: {
    kind: 'tryton',
    baseUrl: 'http://127.0.0.1:8000',
    database: 'tandem',
    credentials: { username: 'u', password: 'p' },
  },
  xero: {
    kind: 'xero',
    baseUrl: 'https://xero.example/api.xro/2.0',
    tenantId: 'tenant-1',
    credentials: {
      tokenUrl: 'https://identity.example/connect/token',
      clientId: 'id',
      clientSecret: 's',
      refreshToken: 'from-config',
    },
  },
  salesforce: {
    kind: 'salesforce',
    baseUrl: 'https://example.my.salesforce.com',
    credentials: { clientId: 'id', clientSecret: 's' },
  },
  quickbooks: {
    kind: 'quickbooks',
    baseUrl: 'https://qbo.example/v3/company',
    realmId: '9130357992191236',
    credentials: { clientId: 'id', clientSecret: 's', refreshToken: 'from-config' },
  },
  'dynamics-sales': {
    kind: 'dynamics-sales',
    baseUrl: 'https://example.crm.dynamics.com',
    credentials: { tokenUrl: 'https://login.example/tenant/oauth2/v2.0/token', clientId: 'id', clientSecret: 's' },
  },
  carddav: {
    kind: 'carddav',
    baseUrl: 'https://dav.example/addressbooks/u/contacts/',
    credentials: { username: 'u', password: 'p' },
  },
  pipedrive: { kind: 'pipedrive', baseUrl: 'https://example.pipedrive.com', credentials: { apiToken: 't' } },
} as const;

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('buildConnector', () => {
  it('builds every registered kind on its side, named after its slot', async () => {
    expect(CONNECTORS.map((kind) => kind.name).sort()).toEqual(Object.keys(CONFIGS).sort());
    for (const kind of CONNECTORS) {
      const slot = kind.side;
      const connector = buildConnector(slot, connectorSchema.parse(CONFIGS[kind.name]));
      expect({ kind: kind.name, name: connector.name, system: connector.system }).toEqual({
        kind: kind.name,
        name: slot,
        system: kind.side,
      });
      expect(connector.entities.length).toBeGreaterThan(0);
      await connector.close?.().catch(() => undefined);
    }
  });

  it('refuses a connector on the wrong side', () => {
    expect(() => buildConnector('accounting', connectorSchema.parse(CONFIGS.hubspot))).toThrow(
      new ConnectorSlotError('connectors.accounting: a hubspot connector serves the crm side, not the accounting side'),
    );
    expect(() => buildConnector('crm', connectorSchema.parse(CONFIGS.xero))).toThrow(ConnectorSlotError);
  });

  it("hands a connector its slot's stored secrets and keeps the ones it rotates under that slot", async () => {
    const saved: string[][] = [];
    const connector = buildConnector('accounting', connectorSchema.parse(CONFIGS.xero), {
      storedSecrets: { accounting: { refreshToken: 'rotated-before' }, crm: { refreshToken: 'not this one' } },
      saveSecret: async (slot, name, value) => {
        saved.push([slot, name, value]);
      },
    });
    const identity = nock('https://identity.example')
      .post('/connect/token', (body: Record<string, string>) => body.refresh_token === 'rotated-before')
      .reply(200, { access_token: 'access', expires_in: 1800, refresh_token: 'rotated-now' });
    const api = nock('https://xero.example', { reqheaders: { authorization: 'Bearer access' } })
      .get('/api.xro/2.0/Accounts')
      .query(true)
      .reply(200, { Accounts: [] });
    await connector.checkHealth?.();
    expect(saved).toEqual([['accounting', 'refreshToken', 'rotated-now']]);
    identity.done();
    api.done();
  });
});
