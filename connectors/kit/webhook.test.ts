import { z } from 'zod';
import type { InboundRequest } from './types';
import { headerValue, secretsEqual, webhookAdapter } from './webhook';

const NOW = new Date('2024-05-01T12:00:00.000Z');

function request(body: string, headers: InboundRequest['headers'] = { 'x-signature': 'good' }): InboundRequest {
  return { method: 'POST', url: 'https://tandem.example/webhooks/crm', headers, rawBody: Buffer.from(body, 'utf8') };
}

const adapter = webhookAdapter({
  handshake: (incoming) =>
    incoming.url.includes('?validationToken=')
      ? { kind: 'respond', status: 200, contentType: 'text/plain', body: 'token' }
      : undefined,
  verify: (incoming, now) => {
    expect(now).toBe(NOW);
    return headerValue(incoming.headers, 'X-Signature') === 'good' ? undefined : 'signature mismatch';
  },
  body: z.array(z.object({ id: z.string() })),
  bodyName: 'an array of events',
  events: { of: (json) => json, max: 3 },
  read: (events) =>
    events.some((event) => event.id === 'ping')
      ? { kind: 'respond', status: 200, contentType: 'text/plain', body: '' }
      : events.map((event) => ({ entity: 'contact' as const, id: event.id, eventId: `e-${event.id}` })),
});

describe('webhookAdapter', () => {
  it('reads a verified, valid body into notices', () => {
    expect(adapter.handle(request('[{"id":"7"}]'), NOW)).toEqual({
      kind: 'notices',
      notices: [{ entity: 'contact', id: '7', eventId: 'e-7' }],
    });
  });

  it('passes on a whole outcome the connector chose', () => {
    expect(adapter.handle(request('[{"id":"ping"}]'), NOW)).toMatchObject({ kind: 'respond', body: '' });
  });

  it('answers a handshake before any check', () => {
    const handshake = { ...request('not json', {}), url: 'https://tandem.example/webhooks/crm?validationToken=t' };
    expect(adapter.handle(handshake, NOW)).toMatchObject({ kind: 'respond', body: 'token' });
  });

  it('rejects a call that fails verification with 401, before reading its body', () => {
    expect(adapter.handle(request('not json', { 'x-signature': 'forged' }), NOW)).toEqual({
      kind: 'rejected',
      status: 401,
      reason: 'signature mismatch',
    });
  });

  it('refuses with 413 more events than the provider sends in one call, before checking them', () => {
    const events = (count: number) =>
      JSON.stringify(Array.from({ length: count }, (_, index) => ({ id: String(index) })));
    expect(adapter.handle(request(events(3)), NOW)).toMatchObject({ kind: 'notices' });
    expect(adapter.handle(request('[1, 2, 3, 4]'), NOW)).toEqual({
      kind: 'rejected',
      status: 413,
      reason: '4 events in one call, more than the 3 the provider sends at most',
    });
  });

  it('answers 400 to a verified body that is not JSON or not of the schema', () => {
    expect(adapter.handle(request('{not json'), NOW)).toEqual({
      kind: 'rejected',
      status: 400,
      reason: 'body is not JSON',
    });
    // The reason names the field that is wrong.
    expect(adapter.handle(request('[{"id":7}]'), NOW)).toEqual({
      kind: 'rejected',
      status: 400,
      reason: expect.stringMatching(/^body is not an array of events: 0\.id: \S/) as unknown,
    });
  });
});

describe('secretsEqual and headerValue', () => {
  it('compares in constant time and tolerates other lengths', () => {
    expect(secretsEqual('abc', 'abc')).toBe(true);
    expect(secretsEqual('abc', 'abcd')).toBe(false);
    expect(secretsEqual('', 'abc')).toBe(false);
  });

  it('finds a header in any case, the first of repeated values, or nothing', () => {
    const headers = { 'X-Hub-Signature': ['one', 'two'], 'content-type': 'application/json' };
    expect(headerValue(headers, 'x-hub-signature')).toBe('one');
    expect(headerValue(headers, 'Content-Type')).toBe('application/json');
    expect(headerValue(headers, 'x-missing')).toBeUndefined();
  });
});
