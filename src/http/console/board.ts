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
  UNVERIFIABLE,
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
      scope.addHook('onSend', async (request, _reply, payload) => {
        if (!viewers.has(request)) return payload;
        return withoutPaths(isQueueList(request) ? readOnlyQueueList(payload) : payload);
      });
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
  const auth = await authenticate(request, deps.tokens);
  const isApi = request.url.startsWith(`${deps.basePath}/api/`);
  if (auth.level === null) {
    if (auth.problem === 'unverifiable')
      return reply.code(503).header('retry-after', '5').send({ error: 'SESSION_UNVERIFIABLE', message: UNVERIFIABLE });
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
  // The server behind the queues (version, memory, clients) is an operator's business.
  if (auth.level !== 'admin' && request.url.startsWith(`${deps.basePath}/api/redis`))
    return reply.code(403).send({ error: 'FORBIDDEN', message: 'the Redis server details are for admins' });
  grantAccessLevel(request, auth.level);
  if (auth.level === ('viewer' satisfies AccessLevel)) viewers.add(request);
  return undefined;
}

/** A stack frame's absolute path, its directories to be dropped: `(/srv/tandem/dist/x.js:1:2)` or `at /srv/x.js:1:2`. */
const FRAME_PATH = /(\(|\bat )(?:file:\/\/)?\/(?:[^\s()/]+\/)*([^\s()/]+:\d+(?::\d+)?)/g;

/** The jobs' stack traces of a board answer with only file names left, for viewers. */
function withoutPaths(payload: unknown): unknown {
  if (typeof payload !== 'string' || !payload.includes('stacktrace')) return payload;
  try {
    const strip = (value: unknown, key?: string): unknown => {
      if (key === 'stacktrace' && Array.isArray(value))
        return (value as unknown[]).map((line: unknown) =>
          typeof line === 'string' ? line.replace(FRAME_PATH, '$1$2') : line,
        );
      if (Array.isArray(value)) return value.map((item) => strip(item));
      if (value !== null && typeof value === 'object')
        return Object.fromEntries(Object.entries(value).map(([name, entry]) => [name, strip(entry, name)]));
      return value;
    };
    return JSON.stringify(strip(JSON.parse(payload)));
  } catch {
    return payload;
  }
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
