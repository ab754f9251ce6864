/**
 * Which kind of work a provider call is done for. An admin waiting on a link, an unlink, an undo
 * or a create (the admin API, the console) should not queue behind a poll or a drift sweep that
 * has the budget busy, so the HTTP layer marks its handlers interactive and the limiters let
 * interactive calls start first. Everything else (polls, queue sync, matching, drift) is bulk.
 *
 * The mark travels with the async context (AsyncLocalStorage), so no connector method needs a
 * parameter for it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** interactive: someone waits for the answer; bulk: background work. */
export type RequestPriority = 'interactive' | 'bulk';

const storage = new AsyncLocalStorage<RequestPriority>();

/** Runs `work` with every provider call it makes (however deep) counted as `priority`. */
export function withPriority<T>(priority: RequestPriority, work: () => T): T {
  return storage.run(priority, work);
}

/** The priority of the calls made in the current async context: bulk unless marked. */
export function currentPriority(): RequestPriority {
  return storage.getStore() ?? 'bulk';
}
