/**
 * Webhook routes, one per connector with webhooks: verify the provider's signature on the raw
 * body, drop event ids already seen, enqueue, and answer 2xx at once. Bad signature: 401 and
 * nothing enqueued. Malformed body: 400. Store or queue unreachable: 503, so the provider delivers
 * again later; nothing is acknowledged before it is stored.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ChangeNotice, Connector } from '../../connectors/kit/types';
import type { Entity } from '../core/model';
import type { ConnectorSlot } from '../core/model';
import type { ChangeJob } from '../app/ports/changes';
import { STORE_RETRY_AFTER_SECONDS, storeUnavailableIn, type Store } from '../app/ports/store';

/** What the webhook routes need. */
export interface WebhookDeps {
  connectors: Partial<Record<ConnectorSlot, Connector>>;
  store: Store;
  logger: Logger;
  /** The public base URL providers call (signatures cover the full URL). */
  publicUrl: string;
  enqueue(changes: ChangeJob[]): Promise<void>;
  /** Poll these entities now (a provider summarised many changes). */
  pollNow?(slot: ConnectorSlot, entities: Entity[]): void;
  onRejected?(slot: ConnectorSlot, status: number): void;
}

/** The path of a connector's webhook route. */
export const webhookPath = (slot: ConnectorSlot) => `/webhooks/${slot}`;

/** Registers the webhook routes in their own scope, so the raw-body parser stays theirs. */
export async function registerWebhookRoutes(app: FastifyInstance, deps: WebhookDeps): Promise<void> {
  await app.register((scope, _options, done) => {
    // Signatures are computed over the exact bytes, so the body must not be parsed first.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 5 * 1024 * 1024 }, (_request, body, done) =>
      done(null, body),
    );

    for (const slot of ['crm', 'accounting'] as const) {
      const connector = deps.connectors[slot];
      const adapter = connector?.webhook;
      if (!connector || !adapter) continue;
      scope.post(webhookPath(slot), async (request: FastifyRequest, reply) => {
        const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const outcome = adapter.handle(
          {
            method: request.method,
            url: new URL(request.url, deps.publicUrl).toString(),
            headers: request.headers,
            rawBody,
          },
          new Date(),
        );
        if (outcome.kind === 'respond') return reply.code(outcome.status).type(outcome.contentType).send(outcome.body);
        if (outcome.kind === 'rejected') {
          deps.onRejected?.(slot, outcome.status);
          request.log.warn({ connector: slot, reason: outcome.reason }, 'webhook rejected');
          return reply.code(outcome.status).send({ error: outcome.reason });
        }
        const { fresh, marked, failure } = await markFresh(deps.store, connector.name, slot, outcome.notices, request);
        try {
          // What was marked is enqueued even when a later mark failed: the provider's redelivery
          // will drop those as duplicates, so they must be in the queue by then.
          await deps.enqueue(fresh);
        } catch (error) {
          // Unmark, so the provider's redelivery is not dropped as a duplicate.
          await forgetMarked(deps.store, connector.name, marked, request);
          request.log.error({ err: error }, 'could not enqueue webhook changes');
          return reply.code(503).send({ error: 'queue unavailable, retry later' });
        }
        if (failure !== undefined) {
          // Never 2xx for what is not stored: the provider delivers the event again later.
          request.log.warn({ err: failure, connector: slot }, 'could not record webhook events; asked for redelivery');
          return reply
            .code(503)
            .header('Retry-After', String(STORE_RETRY_AFTER_SECONDS))
            .send({ error: 'store unavailable, retry later' });
        }
        if (outcome.pollEntities && outcome.pollEntities.length > 0) deps.pollNow?.(slot, outcome.pollEntities);
        if (outcome.ack) return reply.code(outcome.ack.status).send();
        return reply.code(202).send({ accepted: fresh.length, duplicates: outcome.notices.length - fresh.length });
      });
    }
    done();
  });
}

/** The changes of the notices not seen before, the event ids marked, and the store's failure if any. */
async function markFresh(
  store: Store,
  source: string,
  slot: ConnectorSlot,
  notices: readonly ChangeNotice[],
  request: FastifyRequest,
): Promise<{ fresh: ChangeJob[]; marked: string[]; failure?: unknown }> {
  const fresh: ChangeJob[] = [];
  const marked: string[] = [];
  const unknown: string[] = [];
  let failure: unknown;
  // Asked all at once, so that the store marks them in one statement (see store/coalesce.ts).
  const results = await Promise.allSettled(notices.map((notice) => store.markEventProcessed(source, notice.eventId)));
  results.forEach((result, index) => {
    const notice = notices[index] as ChangeNotice;
    if (result.status === 'rejected') {
      failure ??= result.reason;
      // The mark may have been stored before the connection broke: undone (if the store answers
      // again in time), or the redelivery would be dropped as a duplicate.
      if (storeUnavailableIn(result.reason)?.details.outcomeUnknown) unknown.push(notice.eventId);
      return;
    }
    if (!result.value) return;
    marked.push(notice.eventId);
    fresh.push({
      connector: slot,
      entity: notice.entity,
      id: notice.id,
      occurredAt: notice.occurredAt,
      eventId: notice.eventId,
      deleted: notice.deleted,
      ...(notice.mergedInto !== undefined && { mergedInto: notice.mergedInto }),
      source: 'webhook',
      requestId: request.id,
    });
  });
  if (unknown.length > 0) await forgetMarked(store, source, unknown, request);
  return failure === undefined ? { fresh, marked } : { fresh, marked, failure };
}

/** Unmarks event ids; a failure is logged, as the caller is answering an error already. */
async function forgetMarked(store: Store, source: string, eventIds: string[], request: FastifyRequest): Promise<void> {
  const results = await Promise.allSettled(eventIds.map((eventId) => store.forgetProcessedEvent(source, eventId)));
  for (const [index, result] of results.entries()) {
    if (result.status === 'rejected') {
      request.log.error(
        { err: result.reason, eventId: eventIds[index] },
        'could not unmark a webhook event; its redelivery will be taken for a duplicate until the next poll',
      );
    }
  }
}
