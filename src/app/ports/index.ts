/**
 * The ports the use cases need, so they can run against queues and real systems in the daemon
 * and against fakes in unit tests.
 */
import type { Connector } from '../../../connectors/kit/types';
import type { RecordWrite } from '../../core/plan';
import type { WriteOutcome } from '../../core/confirm';
import type { Logger } from 'pino';
import type { TandemConfig } from '../../config/schema';
import type { Store } from './store';

/** Carries out a plan's writes (through the write queues in the daemon) and reports each outcome. */
export interface WriteDispatcher {
  /**
   * Carries out the writes and resolves with each one's outcome (by writeKey). `beforeWrites`, when
   * given, hears each write's job id (by writeKey) before any write goes out.
   */
  dispatch(
    writes: RecordWrite[],
    context: { planId: string; beforeWrites?: (jobIds: ReadonlyMap<string, string>) => Promise<void> },
  ): Promise<Map<string, WriteOutcome>>;
  /** Which of these write jobs completed (wrote), where the dispatcher can still tell. */
  completed?(jobIds: readonly string[]): Promise<ReadonlySet<string>>;
}

/** Observes what the engine does, for metrics. Every method is optional. */
export interface SyncObserver {
  conflict?(field: string): void;
  echoSuppressed?(system: string): void;
  fieldWritten?(system: string, sourceModifiedAt: string): void;
}

/** What a use case may touch. */
export interface Engine {
  config: TandemConfig;
  store: Store;
  crm: Connector;
  accounting: Connector;
  writes: WriteDispatcher;
  logger: Logger;
  observer?: SyncObserver;
  /**
   * Runs `work` while holding the contact's lock, the one the intake worker holds while it syncs
   * that contact, so an operation and a sync of one contact never interleave. Absent in unit
   * tests without Redis: the work then runs unguarded.
   */
  lockContact?<T>(contactId: string, work: () => Promise<T>): Promise<T>;
  /**
   * Configs being previewed now: the connectors read the custom fields they name too, so that a
   * preview of a new custom field's mapping sees its values. Absent: only the config in force.
   */
  previewing?: Set<TandemConfig>;
}
