/** Xero webhook calls: signature, intent to receive, events to notices. Bodies are checked against xero-webhooks.yaml. */
import type { AccountKind } from '../../src/core/model';
import type { InboundRequest } from '../kit/types';
import { validateWebhookBody } from '../../test/support/xero/openapi-validator';
import { createXeroWebhook, webhookEventId, xeroSignature } from './webhook';

const KEY = 'xero-webhook-key-0123456789';
const TENANT = 'c2cc9b6e-9458-4c7d-93cc-f02b81b0594f';
const KNOWN = '717f2bfc-c6d4-41fd-b238-3f2f0c0cf777';
const UNKNOWN = '3ec601ad-eddc-4ccb-a8ac-736e88293b1b';
const known = new Map<string, AccountKind[]>([[KNOWN, ['customer', 'vendor']]]);
const adapter = createXeroWebhook({ key: KEY, tenantId: TENANT, knownKinds: (id) => known.get(id) });
const now = new Date('2024-06-21T01:16:00Z');

function event(id: string, overrides: Record<string, unknown> = {}) {
  return {
    resourceUrl: `https://api.xero.com/api.xro/2.0/Contacts/${id}`,
    resourceId: id,
    eventDateUtc: '2024-06-21T01:15:39.902',
    eventType: 'UPDATE',
    eventCategory: 'CONTACT',
    tenantId: TENANT,
    tenantType: 'ORGANISATION',
    ...overrides,
  };
}

function payload(events: unknown[]) {
  const body = {
    events,
    firstEventSequence: 1,
    lastEventSequence: Math.max(1, events.length),
    entropy: 'S0m3r4Nd0mt3xt',
  };
  expect(validateWebhookBody(body)).toEqual([]);
  return JSON.stringify(body);
}

function post(raw: string, signature: string | null = xeroSignature(raw, KEY)): InboundRequest {
  return {
    method: 'POST',
    url: 'https://tandem.example/webhooks/accounting',
    headers: { 'content-type': 'application/json', ...(signature === null ? {} : { 'x-xero-signature': signature }) },
    rawBody: Buffer.from(raw, 'utf8'),
  };
}

describe('Xero webhook adapter', () => {
  it('answers the intent-to-receive check with 200 and an empty body when signed', () => {
    expect(adapter.handle(post(payload([])), now)).toEqual({
      kind: 'respond',
      status: 200,
      contentType: 'text/plain',
      body: '',
    });
  });

  it('answers 401 to a bad, missing or differently keyed signature (Xero sends bad ones on purpose)', () => {
    const raw = payload([]);
    expect(adapter.handle(post(raw, 'bm90IHRoZSBzaWduYXR1cmU='), now)).toMatchObject({ kind: 'rejected', status: 401 });
    expect(adapter.handle(post(raw, null), now)).toMatchObject({ kind: 'rejected', status: 401 });
    expect(adapter.handle(post(raw, xeroSignature(raw, 'another-key')), now)).toMatchObject({
      kind: 'rejected',
      status: 401,
    });
    // The signature covers the exact bytes: re-serialised JSON no longer matches.
    expect(adapter.handle(post(`${raw} `, xeroSignature(raw, KEY)), now)).toMatchObject({
      kind: 'rejected',
      status: 401,
    });
  });

  it('answers 400 to a signed body that is not a Xero payload', () => {
    expect(adapter.handle(post('{"events": [ nope'), now)).toMatchObject({ kind: 'rejected', status: 400 });
    expect(adapter.handle(post('{"value": []}'), now)).toMatchObject({ kind: 'rejected', status: 400 });
  });

  it('turns a known contact into a notice per kind, with stable event ids and the event time in UTC', () => {
    const item = event(KNOWN);
    const outcome = adapter.handle(post(payload([item])), now);
    expect(outcome).toEqual({
      kind: 'notices',
      ack: { status: 200, emptyBody: true },
      notices: [
        {
          entity: 'customer',
          id: KNOWN,
          eventId: webhookEventId(item, 'customer'),
          occurredAt: '2024-06-21T01:15:39.902Z',
        },
        {
          entity: 'vendor',
          id: KNOWN,
          eventId: webhookEventId(item, 'vendor'),
          occurredAt: '2024-06-21T01:15:39.902Z',
        },
      ],
    });
    expect(webhookEventId(item, 'customer')).toBe(webhookEventId({ ...item }, 'customer'));
    expect(webhookEventId({ ...item, eventDateUtc: '2024-06-21T01:15:40.000' }, 'customer')).not.toBe(
      webhookEventId(item, 'customer'),
    );
  });

  it('asks both kinds to poll for a contact it has not seen, and ignores other tenants and categories', () => {
    const outcome = adapter.handle(
      post(
        payload([
          event(UNKNOWN, { eventType: 'CREATE' }),
          event(KNOWN, { tenantId: 'aef86862-2015-4b6b-88bc-d89032cecc50' }),
          event(KNOWN, { eventCategory: 'INVOICE', resourceUrl: `https://api.xero.com/api.xro/2.0/Invoices/${KNOWN}` }),
        ]),
      ),
      now,
    );
    expect(outcome).toEqual({
      kind: 'notices',
      notices: [],
      pollEntities: ['customer', 'vendor'],
      ack: { status: 200, emptyBody: true },
    });
  });
});
