import type { InboundRequest } from '../kit/types';
import { createBusinessCentralWebhook, notificationEventId } from './webhook';

const COMPANY = 'b18aed47-c385-49d2-b954-dbdf8ad71780';
const SECRET = 'webhook-secret-42';
const adapter = createBusinessCentralWebhook({ companyId: COMPANY, clientState: SECRET });
const now = new Date('2024-05-01T00:00:00Z');

function post(body: unknown, query = ''): InboundRequest {
  return {
    method: 'POST',
    url: `https://tandem.example.com/webhooks/accounting${query}`,
    headers: { 'content-type': 'application/json' },
    rawBody: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  };
}

function item(overrides: Record<string, unknown> = {}) {
  return {
    subscriptionId: 'sub-customers',
    clientState: SECRET,
    expirationDateTime: '2024-05-04T00:00:00Z',
    resource: `api/v2.0/companies(${COMPANY})/customers(130bbd17-dbb9-4790-9b12-2b0e9c9d22c3)`,
    changeType: 'updated',
    lastModifiedDateTime: '2024-05-01T12:54:20.467Z',
    ...overrides,
  };
}

describe('Business Central webhook adapter', () => {
  it('echoes the validationToken handshake as plain text', () => {
    expect(adapter.handle(post('', '?validationToken=abc%20123'), now)).toEqual({
      kind: 'respond',
      status: 200,
      contentType: 'text/plain',
      body: 'abc 123',
    });
  });

  it('turns notifications into notices with stable event ids', () => {
    const deleted = item({
      resource: `/api/v2.0/companies(${COMPANY})/vendors(4b4f31f0-dc1c-4033-b2aa-ab03ca1d6ebc)`,
      changeType: 'deleted',
    });
    const outcome = adapter.handle(post({ value: [item(), deleted] }), now);
    expect(outcome).toEqual({
      kind: 'notices',
      notices: [
        {
          entity: 'customer',
          id: '130bbd17-dbb9-4790-9b12-2b0e9c9d22c3',
          eventId: notificationEventId(item()),
          occurredAt: '2024-05-01T12:54:20.467Z',
          deleted: false,
        },
        {
          entity: 'vendor',
          id: '4b4f31f0-dc1c-4033-b2aa-ab03ca1d6ebc',
          eventId: notificationEventId(deleted),
          occurredAt: '2024-05-01T12:54:20.467Z',
          deleted: true,
        },
      ],
    });
    const again = adapter.handle(post({ value: [item()] }), now);
    expect(again.kind === 'notices' && again.notices[0]!.eventId).toBe(notificationEventId(item()));
    expect(notificationEventId(item({ changeType: 'created' }))).not.toBe(notificationEventId(item()));
  });

  it('asks to poll an entity on a collection notification', () => {
    const collection = item({
      resource: `/api/v2.0/companies(${COMPANY})/customers?$filter=lastModifiedDateTime%20gt%202024-05-01T11:00:00Z`,
      changeType: 'collection',
    });
    expect(adapter.handle(post({ value: [collection] }), now)).toEqual({
      kind: 'notices',
      notices: [],
      pollEntities: ['customer'],
    });
  });

  it('ignores other companies and resources it does not sync', () => {
    const otherCompany = item({
      resource:
        'api/v2.0/companies(7dbba574-5f69-4167-a43e-fb975045de15)/customers(130bbd17-dbb9-4790-9b12-2b0e9c9d22c3)',
    });
    const items = item({ resource: `api/v2.0/companies(${COMPANY})/items(26814998-936a-401c-81c1-0e848a64971d)` });
    expect(adapter.handle(post({ value: [otherCompany, items] }), now)).toEqual({ kind: 'notices', notices: [] });
  });

  it('rejects a wrong clientState with 401', () => {
    expect(adapter.handle(post({ value: [item(), item({ clientState: 'webhook-secret-43' })] }), now)).toMatchObject({
      kind: 'rejected',
      status: 401,
    });
    expect(adapter.handle(post({ value: [item({ clientState: 'short' })] }), now)).toMatchObject({
      kind: 'rejected',
      status: 401,
    });
  });

  it('rejects a missing clientState with 401', () => {
    const { clientState: _omitted, ...withoutState } = item();
    expect(adapter.handle(post({ value: [withoutState] }), now)).toMatchObject({ kind: 'rejected', status: 401 });
  });

  it('rejects a malformed body with 400', () => {
    expect(adapter.handle(post('{not json'), now)).toMatchObject({ kind: 'rejected', status: 400 });
    expect(adapter.handle(post({ value: [item({ changeType: 'renamed' })] }), now)).toMatchObject({
      kind: 'rejected',
      status: 400,
    });
    expect(adapter.handle(post({ items: [] }), now)).toMatchObject({ kind: 'rejected', status: 400 });
  });
});
