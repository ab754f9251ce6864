/** Pipedrive webhooks v2: basic auth, the replay window, the body, and what each event means for tandem. */
import type { InboundRequest } from '../kit/types';
import { eventMillis, pipedriveWebhook } from './webhook';

const credentials = { user: 'tandem', password: 'correct horse battery staple' };
const now = new Date('2026-12-01T12:00:00.000Z');
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

function event(meta: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    data: { id: 42, name: 'Boulangerie Moreau' },
    previous: null,
    meta: {
      action: 'change',
      entity: 'organization',
      entity_id: '42',
      id: '8b7f4c1e-2a3d-4e5f-9a0b-1c2d3e4f5a6b',
      timestamp: '2026-12-01T11:59:58.120Z',
      version: '2.0',
      attempt: 1,
      ...meta,
    },
  };
}

const VALID = basic(credentials.user, credentials.password);

/** A delivery of `body` with `authorization` (null: none). */
function handle(body: unknown, authorization: string | null = VALID) {
  const request: InboundRequest = {
    method: 'POST',
    url: 'https://tandem.example/webhooks/crm',
    headers: { 'content-type': 'application/json', ...(authorization !== null && { authorization }) },
    rawBody: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  };
  return pipedriveWebhook(credentials).handle(request, now);
}

describe('Pipedrive webhook v2', () => {
  it('reads a change of an organization as a change of its company contact, named by the event id', () => {
    expect(handle(event())).toEqual({
      kind: 'notices',
      notices: [
        {
          entity: 'contact',
          id: 'company-42',
          eventId: 'pipedrive-8b7f4c1e-2a3d-4e5f-9a0b-1c2d3e4f5a6b',
          occurredAt: '2026-12-01T11:59:58.120Z',
        },
      ],
    });
  });

  it('reads a deleted person as a deletion, and the delete of a merge as a move to the survivor', () => {
    const deleted = handle(event({ entity: 'person', entity_id: 7, action: 'delete' }));
    expect(deleted).toMatchObject({ notices: [{ id: 'person-7', deleted: true }] });
    const merged = handle(event({ entity: 'person', entity_id: '7', action: 'delete', merged_to_id: '9' }));
    expect(merged).toMatchObject({ notices: [{ id: 'person-7', mergedInto: 'person-9' }] });
    expect(merged).not.toMatchObject({ notices: [{ deleted: true }] });
  });

  it('accepts the epoch seconds the guide describes as well as RFC 3339', () => {
    expect(eventMillis(1764590398)).toBe(1764590398000);
    expect(eventMillis('1764590398')).toBe(1764590398000);
    expect(eventMillis('2026-12-01T11:59:58Z')).toBe(Date.parse('2026-12-01T11:59:58Z'));
    expect(handle(event({ timestamp: Math.floor(now.getTime() / 1000) - 5 }))).toMatchObject({ kind: 'notices' });
  });

  it('hands on nothing for entities tandem does not sync', () => {
    expect(handle(event({ entity: 'deal' }))).toEqual({ kind: 'notices', notices: [] });
  });

  it.each([
    ['no Authorization', null, 'missing Authorization (HTTP basic auth)'],
    ['a bearer token', 'Bearer abc', 'Authorization is not HTTP basic auth'],
    ['a wrong password', basic('tandem', 'wrong'), 'wrong basic auth credentials'],
    ['a wrong user', basic('someone', credentials.password), 'wrong basic auth credentials'],
    ['a longer password', basic('tandem', `${credentials.password}!`), 'wrong basic auth credentials'],
    ['an empty one', basic('', ''), 'wrong basic auth credentials'],
  ])('refuses %s with 401', (_case, authorization, reason) => {
    expect(handle(event(), authorization)).toEqual({ kind: 'rejected', status: 401, reason });
  });

  it.each([
    ['older than 10 minutes (a replay)', '2026-12-01T11:49:59.000Z', 'event older than the 10 minute window'],
    ['more than 5 minutes ahead', '2026-12-01T12:05:01.000Z', 'event more than 5 minutes ahead'],
    ['not a time', 'yesterday', 'meta.timestamp is not a time'],
  ])('refuses an event %s with 401', (_case, timestamp, reason) => {
    expect(handle(event({ timestamp }))).toEqual({ kind: 'rejected', status: 401, reason });
  });

  it('accepts the last retry, 150 s after a first attempt made 33 s late', () => {
    expect(handle(event({ timestamp: '2026-12-01T11:56:57.000Z' }))).toMatchObject({ kind: 'notices' });
  });

  it('checks the credentials before the body: a stranger learns nothing of what is valid', () => {
    expect(handle('not json', basic('x', 'y'))).toMatchObject({ status: 401 });
  });

  it.each([
    ['text that is not JSON', 'not json', 'body is not JSON'],
    [
      'a v1 event',
      { meta: { ...(event().meta as object), version: '1.0' } },
      'body is not a Pipedrive webhook v2 event',
    ],
    [
      'an event without id',
      { meta: { ...(event().meta as object), id: undefined } },
      'body is not a Pipedrive webhook v2 event',
    ],
    ['an entity id that is no number', event({ entity_id: 'abc' }), 'body is not a Pipedrive webhook v2 event'],
  ])('refuses %s with 400', (_case, body, reason) => {
    const outcome = handle(body);
    expect(outcome).toMatchObject({ kind: 'rejected', status: 400 });
    expect((outcome as { reason: string }).reason.startsWith(reason)).toBe(true);
  });

  it('refuses several events in one call with 413', () => {
    expect(handle([event(), event()])).toMatchObject({ kind: 'rejected', status: 413 });
  });
});
