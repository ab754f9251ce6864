/**
 * Business Central's webhook calls: the validationToken handshake and change notifications.
 * https://learn.microsoft.com/dynamics365/business-central/dev-itpro/api-reference/v2.0/dynamics-subscriptions
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AccountKind, Entity } from '../../src/core/model';
import type { ChangeNotice, InboundRequest, WebhookAdapter, WebhookOutcome } from '../kit/types';
import { bcNotificationSchema } from './schemas';

const ENTITY_BY_COLLECTION: Record<string, AccountKind> = {
  customers: 'customer',
  vendors: 'vendor',
  bankaccounts: 'bankAccount',
};

/** What the adapter checks notifications against. */
export interface BusinessCentralWebhookOptions {
  companyId: string;
  /** The secret sent as clientState when subscribing; BC echoes it in every notification. */
  clientState: string;
}

/**
 * Compares secrets in constant time. Both sides are hashed first so their lengths match and a
 * length difference does not leak through an early return.
 */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

/** A notice's event id: stable across BC's redeliveries of the same change. */
export function notificationEventId(item: {
  subscriptionId: string;
  resource: string;
  changeType: string;
  lastModifiedDateTime: string;
}): string {
  return createHash('sha256')
    .update([item.subscriptionId, item.resource, item.changeType, item.lastModifiedDateTime].join('\n'))
    .digest('hex')
    .slice(0, 32);
}

/** Splits `api/v2.0/companies(<cid>)/customers(<id>)` (leading slash and query optional). */
export function parseResource(resource: string): { companyId: string; entity: AccountKind; id: string | null } | null {
  const path = resource.split('?')[0]!;
  const match = /^\/?api\/v2\.0\/companies\(([^)]+)\)\/([A-Za-z]+)(?:\(([^)]+)\))?\/?$/.exec(path);
  if (match === null) return null;
  const entity = ENTITY_BY_COLLECTION[match[2]!.toLowerCase()];
  if (entity === undefined) return null;
  const unquote = (value: string) => value.replace(/^'(.*)'$/, '$1');
  return { companyId: unquote(match[1]!), entity, id: match[3] === undefined ? null : unquote(match[3]) };
}

/** Creates the adapter that verifies and parses BC's webhook calls for one company. */
export function createBusinessCentralWebhook(options: BusinessCentralWebhookOptions): WebhookAdapter {
  const companyId = options.companyId.toLowerCase();
  return {
    handle(request: InboundRequest): WebhookOutcome {
      const url = new URL(request.url, 'http://localhost');
      const validationToken = url.searchParams.get('validationToken');
      if (validationToken !== null) {
        // BC calls the URL with ?validationToken= when a subscription is created or renewed, and
        // registers it only if the token comes back as the plain-text body with 200.
        return { kind: 'respond', status: 200, contentType: 'text/plain', body: validationToken };
      }
      let json: unknown;
      try {
        json = JSON.parse(request.rawBody.toString('utf8'));
      } catch {
        return { kind: 'rejected', status: 400, reason: 'body is not JSON' };
      }
      const parsed = bcNotificationSchema.safeParse(json);
      if (!parsed.success)
        return { kind: 'rejected', status: 400, reason: 'body is not a Business Central notification' };
      for (const item of parsed.data.value) {
        if (
          item.clientState === undefined ||
          item.clientState === null ||
          !secretsEqual(item.clientState, options.clientState)
        ) {
          return { kind: 'rejected', status: 401, reason: 'clientState does not match' };
        }
      }
      const notices: ChangeNotice[] = [];
      const pollEntities = new Set<Entity>();
      for (const item of parsed.data.value) {
        const resource = parseResource(item.resource);
        if (resource === null || resource.companyId.toLowerCase() !== companyId) continue;
        if (item.changeType === 'collection' || resource.id === null) {
          pollEntities.add(resource.entity);
          continue;
        }
        notices.push({
          entity: resource.entity,
          id: resource.id,
          eventId: notificationEventId(item),
          occurredAt: item.lastModifiedDateTime,
          deleted: item.changeType === 'deleted',
        });
      }
      return pollEntities.size === 0
        ? { kind: 'notices', notices }
        : { kind: 'notices', notices, pollEntities: [...pollEntities] };
    },
  };
}
