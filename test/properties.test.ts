/**
 * Bad input tried by the thousand: generated bodies for every webhook parser (each signed as its
 * provider would sign it, so that the parser itself is what answers), the config loader and the
 * console's YAML. Each must answer with a refusal it names (a 4xx outcome, a ConfigError, a
 * problem list) or with notices that hold together, never with an exception.
 *
 * The seed is fixed, so a failure repeats; `TANDEM_PROPERTY_RUNS=20000 TANDEM_PROPERTY_SEED=7 npm
 * test -- test/properties` runs longer or other cases.
 */
import fc from 'fast-check';
import { createBusinessCentralWebhook } from '../connectors/business-central/webhook';
import { createHubSpotWebhook, hubSpotSignatureV3 } from '../connectors/hubspot/webhook';
import type { InboundRequest, WebhookAdapter, WebhookOutcome } from '../connectors/kit/types';
import { createXeroWebhook, xeroSignature } from '../connectors/xero/webhook';
import { mergeEditable } from '../src/config/editable';
import { ConfigError, parseConfigText } from '../src/config/load';
import { testConfig } from './support/fakes';
import { bodies, bcNotification, hubSpotEvent, PROPERTY_RUNS, PROPERTY_SEED, xeroEvent } from './support/hostile';

const RUNS = PROPERTY_RUNS;
const SEED = PROPERTY_SEED;
const settings = { numRuns: RUNS, seed: SEED };

const URL_OF = 'https://tandem.example/webhooks/crm';
const HUBSPOT_SECRET = 'hubspot-client-secret';
const XERO_KEY = 'xero-webhook-key';
const COMPANY = '0b4c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3';
const CLIENT_STATE = 'bc-client-state';
const bcItem = bcNotification(COMPANY, CLIENT_STATE);

/** The adapter's answer must be a refusal it names, or notices a queue can carry. */
function checkOutcome(outcome: WebhookOutcome): void {
  if (outcome.kind === 'rejected') {
    expect([400, 401, 413]).toContain(outcome.status);
    expect(outcome.reason.length).toBeGreaterThan(0);
    return;
  }
  if (outcome.kind !== 'notices') return;
  for (const notice of outcome.notices) {
    expect(notice.id.length).toBeGreaterThan(0);
    expect(notice.eventId.length).toBeGreaterThan(0);
    if (notice.occurredAt !== undefined) expect(Number.isNaN(Date.parse(notice.occurredAt))).toBe(false);
  }
}

function signedRequest(rawBody: Buffer, headers: InboundRequest['headers']): InboundRequest {
  return { method: 'POST', url: URL_OF, headers, rawBody };
}

describe('every webhook parser answers any signed body with a named refusal or sound notices', () => {
  const cases: Array<[string, WebhookAdapter, fc.Arbitrary<unknown>, (body: Buffer) => InboundRequest['headers']]> = [
    [
      'HubSpot',
      createHubSpotWebhook({ clientSecret: HUBSPOT_SECRET }),
      fc.array(hubSpotEvent, { maxLength: 120 }),
      (body) => {
        const timestamp = String(Date.now());
        return {
          'x-hubspot-request-timestamp': timestamp,
          'x-hubspot-signature-v3': hubSpotSignatureV3(
            HUBSPOT_SECRET,
            'POST',
            URL_OF,
            body.toString('utf8'),
            timestamp,
          ),
        };
      },
    ],
    [
      'Business Central',
      createBusinessCentralWebhook({ companyId: COMPANY, clientState: CLIENT_STATE }),
      fc.record({ value: fc.array(bcItem, { maxLength: 20 }) }),
      () => ({}),
    ],
    [
      'Xero',
      createXeroWebhook({ key: XERO_KEY, tenantId: '7f2b6b4e-1234-4d2a-9a57-1a2b3c4d5e6f' }),
      fc.record({
        events: fc.array(xeroEvent, { maxLength: 20 }),
        firstEventSequence: fc.integer(),
        lastEventSequence: fc.integer(),
        entropy: fc.string(),
      }),
      (body) => ({ 'x-xero-signature': xeroSignature(body, XERO_KEY) }),
    ],
  ];

  it.each(cases)('%s', (_name, adapter, shaped, sign) => {
    fc.assert(
      fc.property(bodies(shaped), (body) => {
        checkOutcome(adapter.handle(signedRequest(body, sign(body)), new Date()));
      }),
      settings,
    );
  });
});

describe('the config loader and the console YAML', () => {
  /** YAML text: generated documents, and generated documents with aliases and odd scalars. */
  const yamlTexts = fc.oneof(
    fc.string({ maxLength: 400 }),
    fc.json().map((json) => `connectors: ${json}\nmappings: ${json}\n`),
    fc
      .array(fc.constantFrom('a: &x [1,2]', 'b: *x', 'c: [*x, *x, *x]', 'd: !!binary ZZZ', '- x', ': :', '{', 'e: ~'), {
        maxLength: 12,
      })
      .map((lines) => lines.join('\n')),
  );

  it('answer any text with the config or a ConfigError', () => {
    fc.assert(
      fc.property(yamlTexts, (text) => {
        try {
          parseConfigText(text, 'generated.yaml', {});
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
        }
      }),
      settings,
    );
  });

  it("answer any text in the console's editor with a config or named problems", () => {
    const base = testConfig('properties');
    fc.assert(
      fc.property(yamlTexts, (text) => {
        const result = mergeEditable(base, text);
        if (!result.ok) for (const problem of result.problems) expect(problem.message.length).toBeGreaterThan(0);
      }),
      settings,
    );
  });
});
