/**
 * What the console needs of the queues: enqueue a change, and look at jobs (counts, pending,
 * failed, recently completed) with bounded scans. Implemented over BullMQ in
 * src/queue/console-queues.ts; a plain object in unit tests.
 */
import type { ChangeJob } from './changes';

/** The states of a job the console asks about. */
export type JobState = 'waiting' | 'active' | 'delayed' | 'prioritized' | 'failed' | 'completed';

/** A job as the console reads it. */
export interface ScannedJob {
  id?: string;
  data: unknown;
  timestamp: number;
  finishedOn?: number;
  failedReason?: string;
}

/** One queue the console looks into. */
export interface InspectableQueue {
  readonly name: string;
  getJobCounts(...states: JobState[]): Promise<Record<string, number>>;
  /** Jobs of the states, newest first, `start`..`end` inclusive. */
  getJobs(states: JobState[], start: number, end: number): Promise<ScannedJob[]>;
}

/** The queues as the console uses them. */
export interface ConsoleQueues {
  /** Enqueues a change (not again when one with the same id is queued already); resolves with its job id. */
  enqueueChange(change: ChangeJob): Promise<string>;
  readonly queues: readonly InspectableQueue[];
}
