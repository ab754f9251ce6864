/**
 * Webhook side of the sandbox: subscriptions, checked with BC's validationToken handshake on
 * creation and renewal, and batched change notifications delivered the way BC delivers them
 * (after a delay, one POST per notification URL, `collection` when too many records changed, a
 * few retries for 408/429/5xx, and the subscription deleted when the subscriber answers with any
 * other error).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { WebhookOutbox, type WebhookDisorder } from '../../kit/sandbox/webhooks';
import { WEBHOOK_COLLECTIONS, type CollectionName } from './collections';
import { badRequest, notFound } from './odata';
import { view, type Change, type EntitySet, type SandboxStore, type Stored } from './store';

const SUBSCRIPTION_LIFETIME_MS = 3 * 24 * 60 * 60 * 1000;
const subscriptionBodySchema = z.object({
  notificationUrl: z.string(),
  resource: z.string(),
  clientState: z.string().max(2048).optional(),
});
type SubscriptionBody = z.infer<typeof subscriptionBodySchema>;

/** BusinessCentralSandboxOptions' notification options, with their defaults applied. */
type NotifierOptions = { companyId: string; delayMs: number; collectionThreshold: number; deliveryAttempts: number };

/** The webhook collection a resource such as /api/v2.0/companies(<id>)/customers names, if any. */
function subscribedCollection(resource: string, companyId: string): CollectionName | undefined {
  const [, company = '', name = ''] =
    /^\/?api\/v2\.0\/companies\(([^)]+)\)\/([A-Za-z]+)\/?$/.exec(resource.trim()) ?? [];
  if (company.replace(/^'(.*)'$/, '$1').toLowerCase() !== companyId) return undefined;
  return WEBHOOK_COLLECTIONS.find((collection) => collection.toLowerCase() === name.toLowerCase());
}

/** BC's handshake: POSTs ?validationToken= to the URL and accepts only a 200 with the token as body. */
async function validates(notificationUrl: string): Promise<boolean> {
  const token = randomBytes(16).toString('hex');
  try {
    const url = new URL(notificationUrl);
    url.searchParams.set('validationToken', token);
    const response = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(5000) });
    return response.status === 200 && (await response.text()).trim() === token;
  } catch {
    return false;
  }
}

/** The tenant's subscriptions as an entity set, and the notifications of the store's changes. */
export function startNotifier({ records }: SandboxStore, options: NotifierOptions) {
  const { companyId } = options;
  const deliveries: Array<{ notificationUrl: string; status: number; items: number }> = [];
  const live = () =>
    records
      .list('subscriptions')
      .filter((subscription) => Date.parse(String(subscription.fields.expirationDateTime)) > Date.now());
  const remove = (id: string) => records.delete('subscriptions', id, 'api');
  const shown = (subscription: Stored) => view(subscription, 'subscriptionId');
  const parse = <Body>(schema: z.ZodType<Body>, body: unknown): Body => {
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw badRequest('notificationUrl and resource must be strings, clientState at most 2048.');
    return parsed.data;
  };
  /** Checks the resource and performs the handshake; the expiration of a subscription accepted for three days. */
  const accept = async ({ resource, notificationUrl }: SubscriptionBody) => {
    if (subscribedCollection(resource, companyId) === undefined)
      throw badRequest(`The resource '${resource}' does not support webhooks.`);
    if (!(await validates(notificationUrl)))
      throw badRequest('The subscription was not validated: the notification URL did not return the validation token.');
    return new Date(Date.now() + SUBSCRIPTION_LIFETIME_MS).toISOString();
  };

  const subscriptions: EntitySet = {
    list: () => live().map(shown),
    get: (id) => subscriptions.list().find((subscription) => subscription.subscriptionId === id),
    create: async (body) => {
      const { clientState = '', ...fields } = parse(subscriptionBodySchema, body);
      const expirationDateTime = await accept(fields);
      const userId = '00000000-0000-0000-0000-000000000001';
      const id = randomUUID().replace(/-/g, '');
      const subscription = { clientState, userId, ...fields, expirationDateTime };
      return shown(records.create('subscriptions', subscription, 'api', id));
    },
    update: async (id, body) => {
      const subscription = live().find((candidate) => candidate.id === id);
      if (subscription === undefined) throw notFound(`The subscription '${id}' does not exist.`);
      const fields = { ...subscription.fields, ...parse(subscriptionBodySchema.partial(), body) };
      const expirationDateTime = await accept(parse(subscriptionBodySchema, fields));
      return shown(records.update('subscriptions', subscription, { ...fields, expirationDateTime }, 'api'));
    },
    delete: remove,
  };

  const retries = Math.max(0, options.deliveryAttempts - 1);
  const retryDelaysMs = Array.from({ length: retries }, (_, index) => 20 * 2 ** index);
  const retryable = (status: number) => status === 0 || status === 408 || status === 429 || status >= 500;

  /** One item per record (BC sends a record once even if it changed several times in the delay), or one `collection` item. */
  const itemsFor = ({ id, fields }: Stored, collection: CollectionName, changes: Change[]) => {
    const base = { subscriptionId: id, clientState: fields.clientState, expirationDateTime: fields.expirationDateTime };
    const prefix = `api/v2.0/companies(${companyId})/${collection}`;
    const latest = new Map<string, { changeType: Change['kind']; at: number }>();
    for (const { kind, record } of changes) {
      const created = latest.get(record.id)?.changeType === 'created' && kind === 'updated';
      latest.set(record.id, { changeType: created ? 'created' : kind, at: record.updatedAt });
    }
    const iso = (at: number) => new Date(at).toISOString();
    if (latest.size > options.collectionThreshold) {
      const times = changes.map((change) => change.record.updatedAt);
      const resource = `/${prefix}?$filter=lastModifiedDateTime%20gt%20${iso(Math.min(...times) - 1)}`;
      return [{ ...base, resource, changeType: 'collection', lastModifiedDateTime: iso(Math.max(...times)) }];
    }
    return [...latest].map(([recordId, { changeType, at }]) => ({
      ...base,
      resource: `${prefix}(${recordId})`,
      changeType,
      lastModifiedDateTime: iso(at),
    }));
  };

  const dispatch = (changes: Change[]) => {
    const byUrl = new Map<string, Array<ReturnType<typeof itemsFor>[number]>>();
    for (const subscription of live()) {
      const collection = subscribedCollection(String(subscription.fields.resource), companyId);
      const relevant = changes.filter((change) => change.collection === collection);
      if (collection === undefined || relevant.length === 0) continue;
      const url = String(subscription.fields.notificationUrl);
      byUrl.set(url, [...(byUrl.get(url) ?? []), ...itemsFor(subscription, collection, relevant)]);
    }
    for (const [url, items] of byUrl) {
      const call = () => ({ headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ value: items }) });
      const onAttempt = (status: number) => deliveries.push({ notificationUrl: url, status, items: items.length });
      void outbox.deliver({ url, call, retryDelaysMs, retryable, onAttempt }).then((status) => {
        // BC deletes a subscription whose endpoint refuses a notification with another code.
        if ((status < 200 || status >= 300) && !retryable(status))
          for (const item of items) remove(item.subscriptionId);
      });
    }
  };
  const outbox = new WebhookOutbox<Change>(dispatch, () => options.delayMs);

  return {
    subscriptions,
    deliveries,
    /** Collects a change of the store; those of the subscriptions themselves notify nobody. */
    enqueue: (change: Change) => {
      if (change.collection !== 'subscriptions') outbox.add([change]);
    },
    /** Makes notifications late (out of order) and duplicated. */
    disorder: (disorder: WebhookDisorder) => outbox.setDisorder(disorder),
    /** Sends what is pending now and resolves when every delivery has finished. */
    flush: () => outbox.flush(),
    /** Stops timers and cancels deliveries in flight. */
    close: () => outbox.close(),
  };
}
