/** The QuickBooks sandbox behaves as QBO documents it, and every body it answers passes Intuit's schema. */
import { createHmac } from 'node:crypto';
import Fastify from 'fastify';
import { checkQboBody, checkQboEntity } from '../../../test/support/quickbooks/qbo-schema';
import { startQuickBooksSandbox, type QboSandbox } from '.';

type Json = Record<string, unknown>;

async function tokenFor(sandbox: QboSandbox): Promise<{ access: string; refresh: string; status: number }> {
  const response = await fetch(sandbox.tokenUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${sandbox.clientId}:${sandbox.clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: sandbox.refreshToken }).toString(),
  });
  const body = (await response.json()) as { access_token?: string; refresh_token?: string };
  return { access: body.access_token ?? '', refresh: body.refresh_token ?? '', status: response.status };
}

describe('the QuickBooks sandbox', () => {
  let sandbox: QboSandbox;
  let access: string;
  let base: string;
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json', accept: 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Json };
  };
  const errorCode = (body: Json) => (body as { Fault?: { Error?: { code?: string }[] } }).Fault?.Error?.[0]?.code;

  beforeAll(async () => {
    // The limits have their own test below; these calls come faster than 10 a second.
    sandbox = await startQuickBooksSandbox({ checkEntity: checkQboEntity, rateLimits: { second: false } });
    access = (await tokenFor(sandbox)).access;
    base = `${sandbox.url}/${sandbox.realmId}`;
  });
  afterAll(async () => {
    // Every answer the sandbox gave is something QBO could send.
    const violations = sandbox.requests
      .filter((entry) => entry.path !== 'token' && typeof entry.responseBody === 'object')
      .flatMap((entry) => checkQboBody(entry.responseBody, `${entry.method} ${entry.path}`));
    await sandbox.close();
    expect(violations).toEqual([]);
  });

  test('rotates the refresh token on every refresh and refuses a spent one', async () => {
    const spent = sandbox.refreshToken;
    const fresh = await tokenFor(sandbox);
    expect(fresh.refresh).not.toBe(spent);
    expect(sandbox.refreshToken).toBe(fresh.refresh);
    const response = await fetch(sandbox.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: spent,
        client_id: sandbox.clientId,
        client_secret: sandbox.clientSecret,
      }).toString(),
    });
    expect(response.status).toBe(400);
  });

  test('refuses a token of no company and another realm', async () => {
    const bad = await fetch(`${base}/customer/58`, { headers: { authorization: 'Bearer nope' } });
    expect(bad.status).toBe(401);
    const other = await fetch(`${sandbox.url}/123/customer/58`, { headers: { authorization: `Bearer ${access}` } });
    expect(other.status).toBe(403);
  });

  test("offers each entity's direct edits under the names the other sandboxes use", () => {
    const customer = sandbox.createCustomer({ DisplayName: 'Named Edits Ltd' });
    const id = String(customer.Id);
    expect(sandbox.updateCustomer(id, { CompanyName: 'Named Edits Limited' })).toMatchObject({
      DisplayName: 'Named Edits Ltd',
      CompanyName: 'Named Edits Limited',
      SyncToken: '1',
    });
    expect(sandbox.getCustomer(id)).toEqual(sandbox.get('Customer', id));
    expect(sandbox.listCustomers().map((record) => record.Id)).toContain(id);
    const vendor = sandbox.createVendor({ DisplayName: 'Named Edits Supplies' });
    expect(sandbox.getVendor(String(vendor.Id))).toMatchObject({ DisplayName: 'Named Edits Supplies' });
    const bank = sandbox.createAccount({ Name: 'Named Edits Bank', AccountType: 'Bank', AccountSubType: 'Checking' });
    expect(sandbox.listAccounts().map((record) => record.Id)).toContain(bank.Id);
    // A refusal is an Error naming the sandbox, as with create().
    expect(() => sandbox.createVendor({ DisplayName: 'Named Edits Ltd' })).toThrow(/^quickbooks sandbox: /);
  });

  test('creates, reads, and answers an unknown id with Object Not Found (610)', async () => {
    const created = await call('POST', '/customer?minorversion=75', { DisplayName: 'Sandbox Read Co' });
    expect(created.status).toBe(200);
    const id = String((created.body.Customer as Json).Id);
    const read = await call('GET', `/customer/${id}`);
    expect(read.body.Customer).toMatchObject({ Id: id, SyncToken: '0', DisplayName: 'Sandbox Read Co', Active: true });
    expect((read.body.Customer as { MetaData: { LastUpdatedTime: string } }).MetaData.LastUpdatedTime).toMatch(
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-08:00$/,
    );
    const missing = await call('GET', '/customer/99999');
    expect([missing.status, errorCode(missing.body)]).toEqual([400, '610']);
  });

  test('keeps DisplayName unique across customers, vendors and employees (6240), without case', async () => {
    sandbox.create('Employee', { DisplayName: 'Shared Name Ltd' });
    const clash = await call('POST', '/vendor', { DisplayName: 'shared name ltd' });
    expect([clash.status, errorCode(clash.body)]).toEqual([400, '6240']);
    const colon = await call('POST', '/customer', { DisplayName: 'Parent:Child' });
    expect(colon.status).toBe(400);
  });

  test('holds updates to the SyncToken: a stale one is a Stale Object Error (5010); sparse keeps the rest', async () => {
    const { Id: id } = sandbox.create('Customer', { DisplayName: 'Sync Token Co', CompanyName: 'Sync Token Co BV' });
    sandbox.update('Customer', String(id), { PrimaryPhone: { FreeFormNumber: '1' } });
    const stale = await call('POST', '/customer?operation=update', {
      Id: id,
      SyncToken: '0',
      sparse: true,
      Fax: { FreeFormNumber: '2' },
    });
    expect([stale.status, errorCode(stale.body)]).toEqual([400, '5010']);
    const fresh = await call('POST', '/customer?operation=update', {
      Id: id,
      SyncToken: '1',
      sparse: true,
      Fax: { FreeFormNumber: '2' },
    });
    expect(fresh.body.Customer).toMatchObject({
      SyncToken: '2',
      CompanyName: 'Sync Token Co BV',
      PrimaryPhone: { FreeFormNumber: '1' },
      Fax: { FreeFormNumber: '2' },
    });
  });

  test('refuses a property the schema does not have (2010) when given the checker', async () => {
    const refused = await call('POST', '/customer', { DisplayName: 'Checked Co', Email: 'a@b.example' });
    expect([refused.status, errorCode(refused.body)]).toEqual([400, '2010']);
  });

  test('answers queries: like with %, an escaped quote, and active names only unless Active is asked for', async () => {
    sandbox.create('Customer', { DisplayName: "O'Brien Query Traders" });
    const { Id: inactive } = sandbox.create('Customer', { DisplayName: 'Query Traders Dormant', Active: false });
    const query = (text: string) => call('GET', `/query?query=${encodeURIComponent(text)}`);
    const quoted = await query("select * from Customer where DisplayName = 'O\\'Brien Query Traders'");
    expect((quoted.body.QueryResponse as { Customer: Json[] }).Customer).toHaveLength(1);
    const like = await query("select * from Customer where DisplayName like '%query traders%'");
    expect((like.body.QueryResponse as { Customer: Json[] }).Customer.map((c) => c.DisplayName)).toEqual([
      "O'Brien Query Traders",
    ]);
    const all = await query(
      "select * from Customer where DisplayName like '%Query Traders%' and Active in (true, false) maxresults 10",
    );
    expect((all.body.QueryResponse as { Customer: Json[] }).Customer.map((c) => c.Id)).toContain(inactive);
    const none = await query("select * from Customer where DisplayName = 'nobody at all'");
    expect(none.body.QueryResponse).toEqual({});
    const or = await query("select * from Customer where DisplayName = 'a' or DisplayName = 'b'");
    expect(or.status).toBe(400);
  });

  test('change data capture reports changes of the second of changedSince onwards, inactive ones too, 30 days back', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const { Id: id } = sandbox.create('Vendor', { DisplayName: 'CDC Vendor' });
    sandbox.update('Vendor', String(id), { Active: false });
    const changes = await call('GET', `/cdc?entities=Vendor&changedSince=${encodeURIComponent(since)}`);
    const [response] = changes.body.CDCResponse as { QueryResponse: { Vendor?: Json[] }[] }[];
    expect(response?.QueryResponse[0]?.Vendor?.find((vendor) => vendor.Id === id)).toMatchObject({ Active: false });
    const old = new Date(Date.now() - 31 * 24 * 3600 * 1000).toISOString();
    expect((await call('GET', `/cdc?entities=Vendor&changedSince=${encodeURIComponent(old)}`)).status).toBe(400);
  });

  test('a merge removes the merged-away name: reads answer 610, CDC reports it Deleted', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const from = String(sandbox.create('Vendor', { DisplayName: 'Merge From Ltd' }).Id);
    const into = String(sandbox.create('Vendor', { DisplayName: 'Merge Into Ltd' }).Id);
    sandbox.merge('Vendor', from, into);
    expect(errorCode((await call('GET', `/vendor/${from}`)).body)).toBe('610');
    const changes = await call('GET', `/cdc?entities=Vendor&changedSince=${encodeURIComponent(since)}`);
    const [response] = changes.body.CDCResponse as { QueryResponse: { Vendor?: Json[] }[] }[];
    expect(response?.QueryResponse[0]?.Vendor).toContainEqual(expect.objectContaining({ Id: from, status: 'Deleted' }));
  });

  test('runs a batch of up to 30 items, each failing on its own, and refuses more', async () => {
    const { Id: id } = sandbox.create('Customer', { DisplayName: 'Batch Co' });
    const answer = await call('POST', '/batch', {
      BatchItemRequest: [
        { bId: 'a', operation: 'update', Customer: { Id: id, SyncToken: '0', sparse: true, Notes: 'batched' } },
        { bId: 'b', operation: 'update', Customer: { Id: '99999', SyncToken: '0', sparse: true, Notes: 'x' } },
        { bId: 'c', Query: `select * from Customer where Id = '${String(id)}'` },
      ],
    });
    const items = answer.body.BatchItemResponse as Json[];
    expect(items.map((item) => [item.bId, Object.keys(item).find((key) => key !== 'bId')])).toEqual([
      ['a', 'Customer'],
      ['b', 'Fault'],
      ['c', 'QueryResponse'],
    ]);
    const tooMany = Array.from({ length: 31 }, (_, index) => ({ bId: String(index), Query: 'select * from Customer' }));
    expect((await call('POST', '/batch', { BatchItemRequest: tooMany })).status).toBe(400);
  });

  test('answers a repeated requestid with the first answer, creating nothing twice', async () => {
    const first = await call('POST', '/customer?requestid=tandem-once', { DisplayName: 'Request Id Co' });
    const again = await call('POST', '/customer?requestid=tandem-once', { DisplayName: 'Request Id Co' });
    expect(again.body).toEqual(first.body);
    expect(sandbox.list('Customer').filter((customer) => customer.DisplayName === 'Request Id Co')).toHaveLength(1);
  });

  test('starts Estimates for customers and PurchaseOrders for vendors, and refuses one without a party or line', async () => {
    const { Id: customerId } = sandbox.create('Customer', { DisplayName: 'Estimate Co' });
    const line = [{ DetailType: 'DescriptionOnly', Description: 'From tandem', DescriptionLineDetail: {} }];
    const estimate = await call('POST', '/estimate', {
      CustomerRef: { value: customerId },
      Line: line,
      DocNumber: 'T1',
    });
    expect(estimate.body.Estimate).toMatchObject({ TxnStatus: 'Pending', DocNumber: 'T1' });
    const twice = await call('POST', '/estimate', { CustomerRef: { value: customerId }, Line: line, DocNumber: 'T1' });
    expect(errorCode(twice.body)).toBe('6140');
    expect((await call('POST', '/purchaseorder', { VendorRef: { value: '99999' }, Line: line })).status).toBe(400);
    expect((await call('POST', '/estimate', { CustomerRef: { value: customerId } })).status).toBe(400);
  });
});

describe('the QuickBooks sandbox webhooks and limits', () => {
  test('notifies changes in one signed call: base64 HMAC-SHA256 of the raw body in intuit-signature', async () => {
    const received: { signature: string; body: string }[] = [];
    const receiver = Fastify();
    receiver.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) =>
      done(null, body),
    );
    receiver.post('/hook', async (request) => {
      received.push({ signature: String(request.headers['intuit-signature']), body: String(request.body) });
      return '';
    });
    const url = await receiver.listen({ port: 0, host: '127.0.0.1' });
    const sandbox = await startQuickBooksSandbox({
      webhookUrl: `${url}/hook`,
      verifierToken: 'verifier',
      webhookDelayMs: 10,
    });
    try {
      sandbox.create('Customer', { DisplayName: 'Hooked Co' });
      sandbox.create('Vendor', { DisplayName: 'Hooked Vendor' });
      await sandbox.flushWebhooks();
      const [from, into] = [
        sandbox.create('Customer', { DisplayName: 'Merged Away' }),
        sandbox.create('Customer', { DisplayName: 'Survivor' }),
      ];
      await sandbox.flushWebhooks();
      sandbox.merge('Customer', String(from.Id), String(into.Id));
      await sandbox.flushWebhooks();
      const merged = JSON.parse(received.at(-1)?.body ?? '{}') as {
        eventNotifications: {
          dataChangeEvent: { entities: { id: string; operation: string; deletedId?: string }[] };
        }[];
      };
      expect(merged.eventNotifications[0]?.dataChangeEvent.entities).toContainEqual(
        expect.objectContaining({ id: into.Id, operation: 'Merge', deletedId: from.Id }),
      );
      expect(sandbox.get('Customer', String(from.Id))).toBeUndefined();
      received.splice(1);
      expect(received).toHaveLength(1);
      const [call] = received;
      expect(call?.signature).toBe(
        createHmac('sha256', 'verifier')
          .update(call?.body ?? '')
          .digest('base64'),
      );
      const body = JSON.parse(call?.body ?? '{}') as {
        eventNotifications: { realmId: string; dataChangeEvent: { entities: { name: string; operation: string }[] } }[];
      };
      expect(body.eventNotifications[0]?.realmId).toBe(sandbox.realmId);
      expect(
        body.eventNotifications[0]?.dataChangeEvent.entities.map((entity) => [entity.name, entity.operation]),
      ).toEqual([
        ['Customer', 'Create'],
        ['Vendor', 'Create'],
      ]);
    } finally {
      await sandbox.close();
      await receiver.close();
    }
  });

  test('throttles at 40 batch requests a minute and 10 requests a second, with 429 ThrottleExceeded', async () => {
    let now = 1_000_000;
    const sandbox = await startQuickBooksSandbox({ now: () => now, rateLimits: { minute: false } });
    try {
      const { access } = await tokenFor(sandbox);
      const batch = () =>
        fetch(`${sandbox.url}/${sandbox.realmId}/batch`, {
          method: 'POST',
          headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json' },
          body: JSON.stringify({ BatchItemRequest: [{ bId: '1', Query: 'select * from Customer' }] }),
        });
      const statuses: number[] = [];
      const retryAfters: (string | null)[] = [];
      for (let second = 0; second < 5; second++) {
        for (let index = 0; index < 10; index++) {
          const response = await batch();
          statuses.push(response.status);
          if (response.status === 429) retryAfters.push(response.headers.get('retry-after'));
        }
        now += 1000;
      }
      // 10 a second pass each second until the minute's 40 batches are spent (refilling 2/3 a second).
      const passed = statuses.filter((status) => status === 200).length;
      expect(passed).toBeGreaterThanOrEqual(40);
      expect(passed).toBeLessThan(44);
      expect(statuses.slice(40)).toContain(429);
      expect(retryAfters.every((seconds) => Number(seconds) >= 1)).toBe(true);
      const burst: number[] = [];
      for (let index = 0; index < 11; index++)
        burst.push(
          (
            await fetch(`${sandbox.url}/${sandbox.realmId}/customer/58`, {
              headers: { authorization: `Bearer ${access}` },
            })
          ).status,
        );
      expect(burst.at(-1)).toBe(429);
    } finally {
      await sandbox.close();
    }
  });
});
