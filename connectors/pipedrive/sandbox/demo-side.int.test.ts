/**
 * The demo's Pipedrive side: the sandbox started, the shipped config's variables set, a company
 * contact created the way the demo seeds it, and the curl the demo prints changing its phone.
 */
import { pipedriveSide } from '../../../src/demo/crm';
import { buildConnectors } from '../../../src/app/connectors';
import { loadConfig } from '../../../src/config/load';

test('pipedriveSide serves the shipped config, and its curl changes a company the connector reads', async () => {
  const side = await pipedriveSide(0);
  const config = loadConfig('config/tandem.pipedrive.yaml', {
    ...process.env,
    BC_BASE_URL: 'https://bc.example/api/v2.0',
    BC_COMPANY_ID: '0f6c8f4a-3a55-4d43-a0b8-6a5c2d8c0c11',
    BC_TOKEN_URL: 'https://login.example/token',
    BC_CLIENT_ID: 'id',
    BC_CLIENT_SECRET: 's',
    BC_WEBHOOK_CLIENT_STATE: 'state',
  });
  const { crm, accounting } = buildConnectors(config);
  try {
    const company = await crm.create!(
      'contact',
      { name: 'Van der Meer Groothandel B.V.', phone: '+31 20 624 1190', city: 'Amsterdam' },
      { idempotencyKey: 'demo-customer-1', extra: { type: 'company' } },
    );
    const curl =
      /curl -s -X PATCH (\S+) \\\n\s+-H '([^:]+): ([^']+)' -H 'Content-Type: application\/json' \\\n\s+-d '([^']+)'/.exec(
        side.changeCompany(company.id),
      );
    expect(curl).not.toBeNull();
    const [, url = '', header = '', value = '', body = ''] = curl ?? [];
    const response = await fetch(url, {
      method: 'PATCH',
      headers: { [header]: value, 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(200);
    expect((await crm.get('contact', company.id))?.fields).toMatchObject({
      phone: '+31 20 555 0199',
      city: 'Amsterdam',
    });
  } finally {
    await Promise.all([crm.close?.(), accounting.close?.()]);
    await side.close();
  }
});
