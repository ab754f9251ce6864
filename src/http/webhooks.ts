/**
 * Webhook routes, one per connector with webhooks: verify the provider's signature on the raw
 * body, drop event ids already seen, enqueue, and answer 2xx at once. Bad signature: 401 and
 * nothing enqueued. Malformed body: 400.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Connector } from '../../connectors/kit/types';
import type { Entity } from '../core/model';
import type { ConnectorSlot } from '../core/model';
import type { ChangeJob } from '../app/ports/changes';
import type { Store } from '../app/ports/store';

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
        const fresh: ChangeJob[] = [];
        const marked: string[] = [];
        for (const notice of outcome.notices) {
          if (!(await deps.store.markEventProcessed(connector.name, notice.eventId))) continue;
          marked.push(notice.eventId);
          fresh.push({
            connector: slot,
            entity: notice.entity,
            id: notice.id,
            occurredAt: notice.occurredAt,
            eventId: notice.eventId,
            deleted: notice.deleted,
            source: 'webhook',
            requestId: request.id,
          });
        }
        try {
          await deps.enqueue(fresh);
        } catch (error) {
          // Unmark, so the provider's redelivery is not dropped as a duplicate.
          await Promise.all(marked.map((eventId) => deps.store.forgetProcessedEvent(connector.name, eventId)));
          request.log.error({ err: error }, 'could not enqueue webhook changes');
          return reply.code(503).send({ error: 'queue unavailable, retry later' });
        }
        if (outcome.pollEntities && outcome.pollEntities.length > 0) deps.pollNow?.(slot, outcome.pollEntities);
        if (outcome.ack) return reply.code(outcome.ack.status).send();
        return reply.code(202).send({ accepted: fresh.length, duplicates: outcome.notices.length - fresh.length });
      });
    }
    done();
  });
}
