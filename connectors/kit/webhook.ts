/**
 * The one webhook pipeline: answer a provider handshake, verify the call on its raw body (401),
 * JSON.parse it (400), refuse more events than the provider sends in one call (413), validate it
 * with zod (400), then read it into change notices. A connector only
 * says how its provider signs and what its body means.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';
import type { ChangeNotice, InboundRequest, WebhookAdapter, WebhookOutcome } from './types';

/**
 * Compares a given secret or signature with the expected one in constant time. Both are hashed
 * first, so their lengths match and a length difference does not leak through an early return.
 */
export function secretsEqual(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** A request header by name in any case; the first value when it was sent more than once. */
export function headerValue(headers: InboundRequest['headers'], name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/** How one provider's webhook calls are checked and read; `webhookAdapter` runs the steps in order. */
export interface WebhookSpec<Body> {
  /** Answers a provider handshake before any check (Business Central's validationToken); undefined to go on. */
  handshake?: (request: InboundRequest) => WebhookOutcome | undefined;
  /** Checks the call on its raw body (signature, timestamp window); a reason rejects it with 401. */
  verify?: (request: InboundRequest, now: Date) => string | undefined;
  /** The schema of the JSON body. */
  body: z.ZodType<Body>;
  /** What the body should be, for the 400 answer: `body is not <bodyName>`. */
  bodyName: string;
  /**
   * The events of a parsed JSON body, counted before the body is checked any further, and the most
   * the provider sends in one call: a call with more is refused with 413, nothing of it read.
   */
  events: { of: (json: unknown) => unknown; max: number };
  /** The changes a valid body reports, or a whole outcome where the provider wants another answer. */
  read: (body: Body, request: InboundRequest) => ChangeNotice[] | WebhookOutcome;
}

/** Builds the WebhookAdapter of a spec: handshake, verify (401), JSON and schema (400), read. */
export function webhookAdapter<Body>(spec: WebhookSpec<Body>): WebhookAdapter {
  return {
    handle(request: InboundRequest, now: Date): WebhookOutcome {
      const handshake = spec.handshake?.(request);
      if (handshake) return handshake;
      const refused = spec.verify?.(request, now);
      if (refused !== undefined) return { kind: 'rejected', status: 401, reason: refused };
      let json: unknown;
      try {
        json = JSON.parse(request.rawBody.toString('utf8'));
      } catch {
        return { kind: 'rejected', status: 400, reason: 'body is not JSON' };
      }
      const events = spec.events.of(json);
      if (Array.isArray(events) && events.length > spec.events.max)
        return {
          kind: 'rejected',
          status: 413,
          reason: `${events.length} events in one call, more than the ${spec.events.max} the provider sends at most`,
        };
      const parsed = spec.body.safeParse(json);
      if (!parsed.success) {
        const [issue] = parsed.error.issues;
        const where = issue ? `: ${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}` : '';
        return { kind: 'rejected', status: 400, reason: `body is not ${spec.bodyName}${where}` };
      }
      const read = spec.read(parsed.data, request);
      return Array.isArray(read) ? { kind: 'notices', notices: read } : read;
    },
  };
}
