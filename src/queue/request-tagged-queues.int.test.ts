import { withPriority } from '../../connectors/kit/priority';
import { clearPrefix, REDIS_URL, uniquePrefix } from '../../test/support/fakes';
import { requireServers } from '../../test/support/servers';
import type { WriteJob } from './jobs';
import { createRedis } from './redis';
import { RequestTaggedQueues } from './request-tagged-queues';

const prefix = uniquePrefix();
const connection = createRedis(REDIS_URL);
const queueConfig = { prefix, intakeConcurrency: 1, attempts: 1, backoff: 10, keepCompleted: 100, keepFailed: 100 };
const queues = new RequestTaggedQueues(connection, queueConfig as never, prefix);

beforeAll(() => requireServers(['redis']));
afterAll(async () => {
  await queues.close();
  await clearPrefix(prefix);
  connection.disconnect();
});

const write = (id: string): WriteJob => ({
  connector: 'accounting',
  entity: 'customer',
  id,
  fields: { city: 'Delft' },
  planId: `plan-${id}`,
});

test('a write enqueued for someone waiting carries its priority to the write worker; others do not', async () => {
  const interactive = await withPriority('interactive', () => queues.enqueueWrite(write('i1')));
  const bulk = await queues.enqueueWrite(write('b1'));
  expect(interactive.data.priority).toBe('interactive');
  expect(bulk.data).not.toHaveProperty('priority');
});
