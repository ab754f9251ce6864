import { createHmac } from 'node:crypto';
import type { InboundRequest } from '../kit/types';
import { secretsEqual } from '../kit/webhook';
import { Signature } from '@hubspot/api-client';
import { createHubSpotWebhook, hubSpotSignatureV3, signatureUri } from './webhook';

const SECRET = 'client-secret-1234';
const URL = 'https://tandem.example.com/webhooks/hubspot';
const NOW = new Date('2024-05-01T12:00:00.000Z');

// Signed independently of the adapter, following HubSpot's v3 recipe.
function signed(
  body: string,
  options: { timestamp?: number; secret?: string; url?: string; method?: string } = {},
): InboundRequest {
  const timestamp = String(options.timestamp ?? NOW.getTime() - 1_000);
  const signature = createHmac('sha256', options.secret ?? SECRET)
    .update(`${options.method ?? 'POST'}${options.url ?? URL}${body}${timestamp}`)
    .digest('base64');
  return {
    method: 'POST',
    url: URL,
    headers: {
      'x-hubspot-signature-v3': signature,
      'x-hubspot-request-timestamp': timestamp,
      'content-type': 'application/json',
    },
    rawBody: Buffer.from(body, 'utf8'),
  };
}

const events = [
  {
    eventId: 101,
    subscriptionId: 1,
    portalId: 62515,
    appId: 54321,
    occurredAt: 1714564700000,
    subscriptionType: 'company.propertyChange',
    attemptNumber: 0,
    objectId: 501,
    propertyName: 'phone',
    propertyValue: '+31 20 1',
    changeSource: 'CRM_UI',
  },
  {
    eventId: 102,
    subscriptionId: 2,
    portalId: 62515,
    appId: 54321,
    occurredAt: 1714564700001,
    subscriptionType: 'contact.creation',
    attemptNumber: 0,
    objectId: 77,
    changeSource: 'CRM_UI',
  },
  {
    eventId: 103,
    subscriptionId: 3,
    portalId: 62515,
    appId: 54321,
    occurredAt: 1714564700002,
    subscriptionType: 'contact.deletion',
    attemptNumber: 0,
    objectId: 78,
    changeSource: 'CRM_UI',
  },
  {
    eventId: 104,
    subscriptionId: 4,
    portalId: 62515,
    appId: 54321,
    occurredAt: 1714564700003,
    subscriptionType: 'contact.associationChange',
    attemptNumber: 0,
    fromObjectId: 77,
    toObjectId: 501,
    associationType: 'CONTACT_TO_COMPANY',
    changeSource: 'CRM_UI',
  },
  {
    eventId: 105,
    subscriptionId: 1,
    portalId: 62515,
    appId: 54321,
    occurredAt: 1714564700004,
    subscriptionType: 'company.propertyChange',
    attemptNumber: 0,
    objectId: 501,
    propertyName: 'city',
    propertyValue: 'Utrecht',
    changeSource: 'CRM_UI',
  },
];

describe('HubSpot webhook adapter', () => {
  const adapter = createHubSpotWebhook({ clientSecret: SECRET });

  it('accepts a signed call and maps every event of it', () => {
    const outcome = adapter.handle(signed(JSON.stringify(events)), NOW);
    expect(outcome).toEqual({
      kind: 'notices',
      notices: [
        { entity: 'contact', id: 'company-501', eventId: 'hubspot-101', occurredAt: '2024-05-01T11:58:20.000Z' },
        { entity: 'contact', id: 'person-77', eventId: 'hubspot-102', occurredAt: '2024-05-01T11:58:20.001Z' },
        {
          entity: 'contact',
          id: 'person-78',
          eventId: 'hubspot-103',
          occurredAt: '2024-05-01T11:58:20.002Z',
          deleted: true,
        },
        { entity: 'contact', id: 'company-501', eventId: 'hubspot-105', occurredAt: '2024-05-01T11:58:20.004Z' },
      ],
    });
  });

  it('maps events of the newer developer platform by object type id', () => {
    const body = JSON.stringify([
      {
        eventId: 9,
        occurredAt: 1714564700000,
        subscriptionType: 'object.propertyChange',
        objectTypeId: '0-2',
        objectId: 3,
      },
    ]);
    const outcome = adapter.handle(signed(body), NOW);
    expect(outcome.kind === 'notices' && outcome.notices.map((notice) => notice.id)).toEqual(['company-3']);
  });

  it("agrees with the official client's signature utility, both ways", () => {
    const body = JSON.stringify(events);
    const timestamp = Date.now() - 1_000;
    // Signed by @hubspot/api-client, accepted by the adapter.
    const theirs = Signature.getSignature('POST', 'v3', {
      signature: '',
      clientSecret: SECRET,
      requestBody: body,
      url: URL,
      timestamp,
    });
    const request = signed(body, { timestamp });
    request.headers['x-hubspot-signature-v3'] = theirs;
    expect(adapter.handle(request, new Date(timestamp + 1_000)).kind).toBe('notices');
    // Signed as tandem's sandbox signs its deliveries, valid by the client.
    const ours = hubSpotSignatureV3(SECRET, 'POST', URL, body, String(timestamp));
    expect(
      Signature.isValid({
        signature: ours,
        clientSecret: SECRET,
        requestBody: body,
        url: URL,
        timestamp,
        signatureVersion: 'v3',
      }),
    ).toBe(true);
    expect(
      Signature.isValid({
        signature: ours,
        clientSecret: 'other',
        requestBody: body,
        url: URL,
        timestamp,
        signatureVersion: 'v3',
      }),
    ).toBe(false);
  });

  it('rejects a wrong signature', () => {
    expect(adapter.handle(signed(JSON.stringify(events), { secret: 'other' }), NOW)).toMatchObject({
      kind: 'rejected',
      status: 401,
    });
  });

  it('rejects a body changed after signing', () => {
    const request = signed(JSON.stringify(events));
    const tampered = { ...request, rawBody: Buffer.from(JSON.stringify(events.slice(1))) };
    expect(adapter.handle(tampered, NOW)).toMatchObject({ kind: 'rejected', status: 401 });
  });

  it('rejects a signature of another length without throwing', () => {
    const request = signed('[]');
    expect(
      adapter.handle({ ...request, headers: { ...request.headers, 'x-hubspot-signature-v3': 'short' } }, NOW),
    ).toMatchObject({ kind: 'rejected', status: 401 });
    expect(secretsEqual('abc', 'abcd')).toBe(false);
    expect(secretsEqual('abc', 'abc')).toBe(true);
  });

  it('rejects a stale and a far-future timestamp', () => {
    expect(adapter.handle(signed('[]', { timestamp: NOW.getTime() - 5 * 60 * 1000 - 1 }), NOW)).toMatchObject({
      kind: 'rejected',
      status: 401,
    });
    expect(adapter.handle(signed('[]', { timestamp: NOW.getTime() + 5 * 60 * 1000 + 1 }), NOW)).toMatchObject({
      kind: 'rejected',
      status: 401,
    });
    expect(adapter.handle(signed('[]', { timestamp: NOW.getTime() - 4 * 60 * 1000 }), NOW)).toEqual({
      kind: 'notices',
      notices: [],
    });
  });

  it('rejects missing headers and a timestamp that is not a number', () => {
    const request = signed('[]');
    expect(
      adapter.handle(
        { ...request, headers: { 'x-hubspot-request-timestamp': request.headers['x-hubspot-request-timestamp'] } },
        NOW,
      ),
    ).toMatchObject({
      kind: 'rejected',
      status: 401,
    });
    expect(
      adapter.handle(
        { ...request, headers: { 'x-hubspot-signature-v3': request.headers['x-hubspot-signature-v3'] } },
        NOW,
      ),
    ).toMatchObject({
      kind: 'rejected',
      status: 401,
    });
    expect(
      adapter.handle({ ...request, headers: { ...request.headers, 'x-hubspot-request-timestamp': 'yesterday' } }, NOW),
    ).toMatchObject({
      kind: 'rejected',
      status: 401,
    });
  });

  it('answers 400 to a signed body that is not JSON or not an array of events', () => {
    expect(adapter.handle(signed('{not json'), NOW)).toMatchObject({ kind: 'rejected', status: 400 });
    expect(adapter.handle(signed(JSON.stringify({ eventId: 1 })), NOW)).toMatchObject({
      kind: 'rejected',
      status: 400,
    });
    expect(
      adapter.handle(signed(JSON.stringify([{ eventId: 1, subscriptionType: 'contact.creation' }])), NOW),
    ).toMatchObject({ kind: 'rejected', status: 400 });
  });

  it('reads headers in any case and arrays of values', () => {
    const request = signed('[]');
    const headers = {
      'X-HubSpot-Signature-v3': [String(request.headers['x-hubspot-signature-v3'])],
      'X-HubSpot-Request-Timestamp': request.headers['x-hubspot-request-timestamp'],
    };
    expect(adapter.handle({ ...request, headers }, NOW)).toEqual({ kind: 'notices', notices: [] });
  });

  it('signs the URI with the characters HubSpot decodes, and can use a configured public URL', () => {
    expect(signatureUri('https://a.example/hook%3Fx%2Fy?q=%20')).toBe('https://a.example/hook?x/y?q=%20');
    const publicUrl = 'https://public.example.com/hooks/hubspot?tenant=acme';
    const behindProxy = createHubSpotWebhook({ clientSecret: SECRET, publicUrl });
    const request = { ...signed('[]', { url: publicUrl }), url: 'http://10.0.0.5:8080/hooks/hubspot' };
    expect(behindProxy.handle(request, NOW)).toEqual({ kind: 'notices', notices: [] });
    expect(adapter.handle(request, NOW)).toMatchObject({ kind: 'rejected', status: 401 });
  });
});
