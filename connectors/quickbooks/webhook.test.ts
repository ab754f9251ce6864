/**
 * The webhook adapter, proven with the SDK's own test vector (recorded in the manifest's facts):
 * its verifier token signs its payload to its signature; every rejection path has a test.
 */
import { z } from 'zod';
import { qboFact } from '../../test/support/quickbooks/qbo-schema';
import type { InboundRequest } from '../kit/types';
import { createQboWebhook, intuitSignature } from './webhook';

const { testVector } = z
  .object({ testVector: z.object({ verifierToken: z.string(), payload: z.string(), signature: z.string() }) })
  .parse(qboFact('webhook.signature.testVector'));
/** The realm of the vector's payload. */
const REALM = '1185883450';

function inbound(body: string, signature?: string): InboundRequest {
  return {
    method: 'POST',
    url: 'https://tandem.example/webhooks/accounting',
    headers: {
      'content-type': 'application/json',
      ...(signature === undefined ? {} : { 'intuit-signature': signature }),
    },
    rawBody: Buffer.from(body, 'utf8'),
  };
}

const adapter = createQboWebhook({ verifierToken: testVector.verifierToken, realmId: REALM });
const signed = (body: string) => inbound(body, intuitSignature(body, testVector.verifierToken));
const notification = (realmId: string, entities: { name: string; id: string; operation: string }[]) =>
  JSON.stringify({
    eventNotifications: [
      {
        realmId,
        dataChangeEvent: {
          entities: entities.map((entity) => ({ ...entity, lastUpdated: '2015-10-05T14:42:19-0700' })),
        },
      },
    ],
  });

describe('QuickBooks webhooks', () => {
  test("the SDK's test vector: its token signs its payload to its signature, and another token does not", () => {
    expect(intuitSignature(testVector.payload, testVector.verifierToken)).toBe(testVector.signature);
    expect(intuitSignature(testVector.payload, '1234')).not.toBe(testVector.signature);
  });

  test('accepts the vector and reads its customer, acknowledged with a 200', () => {
    const outcome = adapter.handle(inbound(testVector.payload, testVector.signature), new Date());
    expect(outcome).toEqual({
      kind: 'notices',
      notices: [
        {
          entity: 'customer',
          id: '1',
          eventId: expect.stringMatching(/^qbo-/),
          occurredAt: '2015-10-05T21:42:19.000Z',
        },
      ],
      ack: { status: 200, emptyBody: true },
    });
  });

  test('the same event twice has one event id; another operation another', () => {
    const ids = (operation: string) => {
      const outcome = adapter.handle(signed(notification(REALM, [{ name: 'Vendor', id: '7', operation }])), new Date());
      return outcome.kind === 'notices' ? outcome.notices.map((notice) => notice.eventId) : [];
    };
    expect(ids('Update')).toEqual(ids('Update'));
    expect(ids('Update')).not.toEqual(ids('Merge'));
  });

  test('reads customers, vendors and accounts, passes over other entities and other companies', () => {
    const body = JSON.stringify({
      eventNotifications: [
        ...JSON.parse(
          notification(REALM, [
            { name: 'Customer', id: '1', operation: 'Update' },
            { name: 'Vendor', id: '2', operation: 'Create' },
            { name: 'Account', id: '3', operation: 'Update' },
            { name: 'Invoice', id: '4', operation: 'Create' },
          ]),
        ).eventNotifications,
        ...JSON.parse(notification('999', [{ name: 'Customer', id: '5', operation: 'Update' }])).eventNotifications,
      ],
    });
    const outcome = adapter.handle(signed(body), new Date());
    expect(outcome.kind === 'notices' && outcome.notices.map((notice) => [notice.entity, notice.id])).toEqual([
      ['customer', '1'],
      ['vendor', '2'],
      ['bankAccount', '3'],
    ]);
  });

  test('a merge plans the record merged away too, and tells the connector which survivor it went to', () => {
    const merges: string[][] = [];
    const merging = createQboWebhook({
      verifierToken: testVector.verifierToken,
      realmId: REALM,
      onMerge: (kind, from, survivor) => merges.push([kind, from, survivor]),
    });
    const body = JSON.stringify({
      eventNotifications: [
        {
          realmId: REALM,
          dataChangeEvent: {
            entities: [
              { name: 'Vendor', id: '9', operation: 'Merge', lastUpdated: '2026-12-01T10:00:00Z', deletedId: '8' },
            ],
          },
        },
      ],
    });
    const outcome = merging.handle(signed(body), new Date());
    expect(
      outcome.kind === 'notices' && outcome.notices.map((notice) => [notice.entity, notice.id, notice.mergedInto]),
    ).toEqual([
      ['vendor', '9', undefined],
      // The notice itself says where it went: the job carries it to whichever process handles it.
      ['vendor', '8', '9'],
    ]);
    expect(merges).toEqual([['vendor', '8', '9']]);
  });

  test('refuses a call without intuit-signature (401)', () => {
    expect(adapter.handle(inbound(testVector.payload), new Date())).toMatchObject({ kind: 'rejected', status: 401 });
    expect(adapter.handle(inbound(testVector.payload, ''), new Date())).toMatchObject({
      kind: 'rejected',
      status: 401,
    });
  });

  test('refuses a wrong signature, and a body changed after signing (401)', () => {
    const wrongToken = intuitSignature(testVector.payload, '1234');
    expect(adapter.handle(inbound(testVector.payload, wrongToken), new Date())).toMatchObject({ status: 401 });
    const tampered = testVector.payload.replace('"id":"1"', '"id":"2"');
    expect(adapter.handle(inbound(tampered, testVector.signature), new Date())).toMatchObject({ status: 401 });
  });

  test('refuses a signed body that is not JSON, or not a notification (400)', () => {
    expect(adapter.handle(signed('{"eventNotifications": ['), new Date())).toMatchObject({ status: 400 });
    const outcome = adapter.handle(signed('{"eventNotifications":[{"realmId":"1"}]}'), new Date());
    expect(outcome).toMatchObject({ kind: 'rejected', status: 400, reason: expect.stringMatching(/dataChangeEvent/) });
  });

  test('refuses more notifications than one call carries (413)', () => {
    const many = JSON.stringify({
      eventNotifications: Array.from({ length: 1001 }, () => ({ realmId: REALM, dataChangeEvent: { entities: [] } })),
    });
    expect(adapter.handle(signed(many), new Date())).toMatchObject({ kind: 'rejected', status: 413 });
  });
});
