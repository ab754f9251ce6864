/**
 * Business Central's webhook calls: the validationToken handshake and change notifications.
 * https://learn.microsoft.com/dynamics365/business-central/dev-itpro/api-reference/v2.0/dynamics-subscriptions
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ACCOUNT_KINDS, type AccountKind, type Entity } from '../../src/core/model';
import type { ChangeNotice, WebhookAdapter } from '../kit/types';
import { secretsEqual, webhookAdapter } from '../kit/webhook';
import { COLLECTIONS } from './mappers';
import { GUID } from './odata';

/** The most notifications BC sends in one call: beyond them it sends a `collection` notification. */
const MAX_NOTIFICATIONS = 1000;

/** The body BC posts to a notification URL. */
const notificationSchema = z.object({
  value: z.array(
    z.object({
      subscriptionId: z.string(),
      clientState: z.string().nullish(),
      resource: z.string().min(1),
      changeType: z.enum(['created', 'updated', 'deleted', 'collection']),
      // It becomes the change's time: a text no date can be read from is not a notification.
      lastModifiedDateTime: z.string().refine((text) => !Number.isNaN(Date.parse(text)), 'must be a date and time'),
    }),
  ),
});

/** A notice's event id: stable across BC's redeliveries of the same change. */
export function notificationEventId(
  item: Record<'subscriptionId' | 'resource' | 'changeType' | 'lastModifiedDateTime', string>,
): string {
  const parts = [item.subscriptionId, item.resource, item.changeType, item.lastModifiedDateTime];
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);
}

/** Splits `api/v2.0/companies(<cid>)/customers(<id>)` (leading slash and query optional). */
function parseResource(resource: string): { companyId: string; entity: AccountKind; id: string | null } | null {
  const [, company, collection = '', id] =
    /^\/?api\/v2\.0\/companies\(([^)]+)\)\/([A-Za-z]+)(?:\(([^)]+)\))?\/?(?:\?.*)?$/.exec(resource) ?? [];
  const entity = ACCOUNT_KINDS.find((kind) => COLLECTIONS[kind].toLowerCase() === collection.toLowerCase());
  if (company === undefined || entity === undefined) return null;
  const unquote = (value: string) => value.replace(/^'(.*)'$/, '$1');
  return { companyId: unquote(company), entity, id: id === undefined ? null : unquote(id) };
}

/**
 * Creates the adapter that verifies and parses BC's webhook calls for one company; `clientState`
 * is the secret sent when subscribing, which BC echoes in every notification.
 */
export function createBusinessCentralWebhook(options: { companyId: string; clientState: string }): WebhookAdapter {
  const { companyId, clientState } = options;
  return webhookAdapter({
    // BC calls the URL with ?validationToken= when a subscription is created or renewed, and
    // registers it only if the token comes back as the plain-text body with 200.
    handshake: (request) => {
      const token = new URL(request.url, 'http://localhost').searchParams.get('validationToken');
      return token === null ? undefined : { kind: 'respond', status: 200, contentType: 'text/plain', body: token };
    },
    body: notificationSchema,
    bodyName: 'a Business Central notification',
    // Over 1,000 changes within BC's delay come as one `collection` notification instead.
    events: { of: (json) => (json as { value?: unknown } | null)?.value, max: MAX_NOTIFICATIONS },
    read: ({ value }) => {
      // The secret travels in the body, not in a signature: every item must carry it.
      if (value.some((item) => typeof item.clientState !== 'string' || !secretsEqual(item.clientState, clientState)))
        return { kind: 'rejected', status: 401, reason: 'clientState does not match' };
      const notices: ChangeNotice[] = [];
      const pollEntities = new Set<Entity>();
      for (const [index, item] of value.entries()) {
        const resource = parseResource(item.resource);
        if (resource === null || resource.companyId.toLowerCase() !== companyId.toLowerCase()) continue;
        // BC names records by GUID: anything else did not come from BC, and no retry would change it.
        if (resource.id !== null && !GUID.test(resource.id))
          return { kind: 'rejected', status: 400, reason: `value.${index}.resource names no record by GUID` };
        // A collection notification (over 1,000 changes within BC's delay) names no record: poll.
        if (item.changeType === 'collection' || resource.id === null) pollEntities.add(resource.entity);
        else
          notices.push({
            entity: resource.entity,
            id: resource.id,
            eventId: notificationEventId(item),
            occurredAt: item.lastModifiedDateTime,
            deleted: item.changeType === 'deleted',
          });
      }
      return { kind: 'notices', notices, ...(pollEntities.size > 0 && { pollEntities: [...pollEntities] }) };
    },
  });
}
