/**
 * Webhook subscriptions: one per subscribed collection, renewed before BC lets them lapse.
 * https://learn.microsoft.com/dynamics365/business-central/dev-itpro/api-reference/v2.0/dynamics-subscriptions
 */
import { z } from 'zod';
import type { AccountKind } from '../../src/core/model';
import type { HttpClient } from '../kit/http';
import { COLLECTIONS } from './mappers';

/** A webhook subscription as BC sends it. */
const subscriptionSchema = z.object({
  '@odata.etag': z.string().optional(),
  subscriptionId: z.string().min(1),
  notificationUrl: z.string(),
  resource: z.string(),
  clientState: z.string().nullish(),
  expirationDateTime: z.string().min(1),
});

/**
 * The account kinds BC sends notifications for. BC's list of webhook-supported APIs names
 * customers and vendors but not bankAccounts, so bank accounts are always polled.
 */
const WEBHOOK_ENTITIES: readonly AccountKind[] = ['customer', 'vendor'];

/** Renew a subscription when it expires within this window (BC keeps them three days). */
const RENEW_WITHIN_MS = 24 * 60 * 60 * 1000;

/** The `resource` of a subscription to an entity's collection. */
export function subscriptionResource(companyId: string, entity: AccountKind): string {
  return `/api/v2.0/companies(${companyId})/${COLLECTIONS[entity]}`;
}

function sameResource(a: string, b: string): boolean {
  const normal = (value: string) => value.replace(/^\//, '').toLowerCase();
  return normal(a) === normal(b);
}

/** What ensureSubscriptions needs to know. */
interface EnsureSubscriptionsInput {
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
  const { http, notificationUrl, clientState } = input;
  const now = (input.now ?? new Date()).getTime();
  const listSchema = z.object({ value: z.array(subscriptionSchema) });
  const existing = (await http.json(listSchema, { url: 'subscriptions' })).value;
  const expiries: number[] = [];
  for (const entity of WEBHOOK_ENTITIES) {
    const resource = subscriptionResource(input.companyId, entity);
    const data = { notificationUrl, resource, clientState };
    let current = existing.find(
      (item) => item.notificationUrl === notificationUrl && sameResource(item.resource, resource),
    );
    if (current === undefined) {
      current = await http.json(subscriptionSchema, { method: 'POST', url: 'subscriptions', data });
    } else if (
      // Due within the window (or unreadable), or set up with another secret: BC has been seen
      // to store clientState lower-cased, so that compares without case.
      !(Date.parse(current.expirationDateTime) - now >= RENEW_WITHIN_MS) ||
      (current.clientState ?? '').toLowerCase() !== clientState.toLowerCase()
    ) {
      const url = `subscriptions('${encodeURIComponent(current.subscriptionId)}')`;
      const headers = { 'If-Match': current['@odata.etag'] ?? '*' };
      current = await http.json(subscriptionSchema, { method: 'PATCH', url, data, headers });
    }
    expiries.push(Date.parse(current.expirationDateTime));
  }
  const next = Math.min(...expiries.filter((time) => !Number.isNaN(time)));
  return Number.isFinite(next) ? { renewAt: new Date(Math.max(now, next - RENEW_WITHIN_MS)).toISOString() } : {};
}
