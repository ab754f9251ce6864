/**
 * Bull Board under /ui/queues, behind the console's auth. Bull Board has no per-user modes, so a
 * viewer gets it read-only here: its changing API calls are refused with 403, and the queue list
 * it is sent says readOnlyMode, which hides the retry, promote and clean buttons.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  authenticate,
  grantAccessLevel,
  hasCsrfHeader,
  isReadMethod,
  type AccessLevel,
  type AdminTokens,
} from '../auth';

/** What the board needs. */
export interface QueueBoardDeps {
  tokens: AdminTokens;
  queues: readonly Queue[];
  basePath: string;
}

const viewers = new WeakSet<FastifyRequest>();

/** Mounts Bull Board at `basePath`. */
export async function registerQueueBoard(app: FastifyInstance, deps: QueueBoardDeps): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(deps.basePath);
  createBullBoard({
    queues: deps.queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'tandem queues' } },
  });
  await app.register(
    async (scope) => {
      scope.addHook('onRequest', async (request, reply) => guard(request, reply, deps));
      scope.addHook('onSend', async (request, _reply, payload) =>
        viewers.has(request) && isQueueList(request) ? readOnlyQueueList(payload) : payload,
      );
      await scope.register(serverAdapter.registerPlugin());
    },
    { prefix: deps.basePath },
  );
}

async function guard(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: QueueBoardDeps,
): Promise<FastifyReply | undefined> {
  const auth = authenticate(request, deps.tokens);
  const isApi = request.url.startsWith(`${deps.basePath}/api/`);
  if (auth.level === null) {
    if (isApi || !isReadMethod(request.method))
      return reply.code(401).send({ error: 'UNAUTHORIZED', message: 'sign in at /ui/login or send a bearer token' });
    return reply
      .code(302)
      .header('location', `/ui/login?next=${encodeURIComponent(deps.basePath)}`)
      .send();
  }
  if (!isReadMethod(request.method)) {
    if (auth.level !== 'admin')
      return reply.code(403).send({
        error: 'FORBIDDEN',
        message: 'a viewer may look at the queues; retry, promote and clean need an admin',
      });
    // Bull Board's own page cannot add the console's CSRF header; the browser's Sec-Fetch-Site
    // (which no other site can set) shows the request came from this origin.
    if (auth.via === 'cookie' && !hasCsrfHeader(request) && request.headers['sec-fetch-site'] !== 'same-origin') {
      return reply
        .code(403)
        .send({ error: 'CSRF', message: 'a change made with the session cookie must come from the console itself' });
    }
  }
  grantAccessLevel(request, auth.level);
  if (auth.level === ('viewer' satisfies AccessLevel)) viewers.add(request);
  return undefined;
}

const isQueueList = (request: FastifyRequest) => request.method === 'GET' && /\/api\/queues(\?|$)/.test(request.url);

function readOnlyQueueList(payload: unknown): unknown {
  if (typeof payload !== 'string') return payload;
  try {
    const list = JSON.parse(payload) as { queues?: Array<Record<string, unknown>> };
    for (const queue of list.queues ?? []) {
      queue.readOnlyMode = true;
      queue.allowRetries = false;
      queue.allowCompletedRetries = false;
    }
    return JSON.stringify(list);
  } catch {
    return payload;
  }
}
