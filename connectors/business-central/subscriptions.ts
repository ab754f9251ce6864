/**
 * Webhook subscriptions: one per subscribed collection, renewed before BC lets them lapse.
 * https://learn.microsoft.com/dynamics365/business-central/dev-itpro/api-reference/v2.0/dynamics-subscriptions
 */
import type { AccountKind } from '../../src/core/model';
import type { HttpClient } from '../kit/http';
import { COLLECTIONS } from './mappers';
import { bcSubscriptionListSchema, bcSubscriptionSchema, parseResponse, type BcSubscription } from './schemas';

/**
 * The account kinds BC sends notifications for. BC's list of webhook-supported APIs names
 * customers and vendors but not bankAccounts, so bank accounts are always polled.
 */
export const WEBHOOK_ENTITIES: readonly AccountKind[] = ['customer', 'vendor'];

/** Renew a subscription when it expires within this window (BC keeps them three days). */
export const RENEW_WITHIN_MS = 24 * 60 * 60 * 1000;

/** The `resource` of a subscription to an entity's collection. */
export function subscriptionResource(companyId: string, entity: AccountKind): string {
  return `/api/v2.0/companies(${companyId})/${COLLECTIONS[entity]}`;
}

function sameResource(a: string, b: string): boolean {
  const normal = (value: string) => value.replace(/^\//, '').toLowerCase();
  return normal(a) === normal(b);
}

/** What ensureSubscriptions needs to know. */
export interface EnsureSubscriptionsInput {
  http: HttpClient;
  companyId: string;
  notificationUrl: string;
  clientState: string;
  now?: Date;
}

/**
 * Creates the missing subscriptions for `notificationUrl`, renews those expiring within a day
 * (or carrying another clientState), and returns when the next renewal is due.
 */
export async function ensureSubscriptions(input: EnsureSubscriptionsInput): Promise<{ renewAt?: string }> {
  const now = input.now ?? new Date();
  const listed = await input.http.request({ method: 'GET', url: 'subscriptions' });
  const existing = parseResponse(bcSubscriptionListSchema, listed.data, 'subscription list').value;
  const body = (resource: string) => ({
    notificationUrl: input.notificationUrl,
    resource,
    clientState: input.clientState,
  });

  const active: BcSubscription[] = [];
  for (const entity of WEBHOOK_ENTITIES) {
    const resource = subscriptionResource(input.companyId, entity);
    const current = existing.find(
      (subscription) =>
        subscription.notificationUrl === input.notificationUrl && sameResource(subscription.resource, resource),
    );
    if (current === undefined) {
      const created = await input.http.request({
        method: 'POST',
        url: 'subscriptions',
        data: body(resource),
        headers: { 'Content-Type': 'application/json' },
      });
      active.push(parseResponse(bcSubscriptionSchema, created.data, 'created subscription'));
      continue;
    }
    const expiresAt = Date.parse(current.expirationDateTime);
    // BC has been seen to store clientState lower-cased, so compare without case.
    const otherSecret = (current.clientState ?? '').toLowerCase() !== input.clientState.toLowerCase();
    if (Number.isNaN(expiresAt) || expiresAt - now.getTime() < RENEW_WITHIN_MS || otherSecret) {
      const renewed = await input.http.request({
        method: 'PATCH',
        url: `subscriptions('${encodeURIComponent(current.subscriptionId)}')`,
        data: body(resource),
        headers: { 'Content-Type': 'application/json', 'If-Match': current['@odata.etag'] ?? '*' },
      });
      active.push(parseResponse(bcSubscriptionSchema, renewed.data, 'renewed subscription'));
    } else {
      active.push(current);
    }
  }
  const expiries = active
    .map((subscription) => Date.parse(subscription.expirationDateTime))
    .filter((time) => !Number.isNaN(time));
  if (expiries.length === 0) return {};
  const renewAt = Math.max(now.getTime(), Math.min(...expiries) - RENEW_WITHIN_MS);
  return { renewAt: new Date(renewAt).toISOString() };
}
