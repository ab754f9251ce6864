/**
 * Prometheus metrics of one daemon. Each Metrics owns a private prom-client Registry (never the
 * global default), so several daemons in one process, and the tests, never collide on names.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ResponseObserver } from '../../connectors/kit/http';
import type { DriftReport } from '../app/ports/drift';
import type { SyncObserver } from '../app/ports/index';
import type { DriftCause } from '../core/drift';

/** Job counts per queue, as BullMQ's getJobCounts answers them. */
export type JobCounts = Array<{ queue: string; counts: Record<string, number> }>;

/** The job states the tandem_jobs gauge reports. */
export const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;

/** Options of Metrics. */
export interface MetricsOptions {
  /** Read on every scrape for tandem_jobs; without it the gauge stays empty. */
  jobCounts?: () => Promise<JobCounts>;
  /** Process metrics (CPU, memory, event loop, GC); default true. */
  processMetrics?: boolean;
  /** Called when reading job counts fails during a scrape; the gauge then keeps its last values. */
  onCollectError?: (error: unknown) => void;
  /** The clock, injectable for tests. */
  now?: () => number;
}

// Sync latency spans webhook pushes (about a second) to hourly polls.
const LATENCY_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600];

/** The daemon's metrics and the hooks that feed them. */
export class Metrics {
  readonly registry = new Registry();
  private readonly now: () => number;
  private readonly latency: Histogram<'target'>;
  private readonly apiCalls: Counter<'connector' | 'method' | 'status'>;
  private readonly rateLimitWaits: Counter<'connector' | 'source'>;
  private readonly rateLimitWaitSeconds: Counter<'connector'>;
  private readonly conflicts: Counter<'field'>;
  private readonly echoes: Counter<'system'>;
  private readonly webhookRejections: Counter<'connector' | 'status'>;
  private readonly driftFields: Counter<'cause'>;
  private readonly driftRelations: Counter<'outcome'>;
  private readonly driftLastSweep: Gauge;

  constructor(options: MetricsOptions = {}) {
    this.now = options.now ?? Date.now;
    const registers = [this.registry];
    const { jobCounts, onCollectError } = options;
    new Gauge({
      name: 'tandem_jobs',
      help: 'Jobs per queue and state, read from Redis at scrape time',
      labelNames: ['queue', 'state'] as const,
      registers,
      async collect() {
        if (!jobCounts) return;
        try {
          for (const { queue, counts } of await jobCounts()) {
            for (const state of JOB_STATES) this.set({ queue, state }, counts[state] ?? 0);
          }
        } catch (error) {
          // A scrape must still answer when Redis is away; readiness reports that instead.
          onCollectError?.(error);
        }
      },
    });
    this.latency = new Histogram({
      name: 'tandem_sync_latency_seconds',
      help: 'From the source modification time to the confirmed write on the target, per target system',
      labelNames: ['target'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.apiCalls = new Counter({
      name: 'tandem_api_calls_total',
      help: 'HTTP calls to the connected systems by connector, method and status (0: no response)',
      labelNames: ['connector', 'method', 'status'] as const,
      registers,
    });
    this.rateLimitWaits = new Counter({
      name: 'tandem_rate_limit_waits_total',
      help: 'Rate-limit waits: source="http" counts every 429 answer, source="queue" every pause of a write queue',
      labelNames: ['connector', 'source'] as const,
      registers,
    });
    this.rateLimitWaitSeconds = new Counter({
      name: 'tandem_rate_limit_wait_seconds_total',
      help: 'Seconds the write queue of a connector was paused because the provider asked to wait',
      labelNames: ['connector'] as const,
      registers,
    });
    this.conflicts = new Counter({
      name: 'tandem_conflicts_total',
      help: 'Fields changed on both sides since the last sync, decided by last-writer-wins',
      labelNames: ['field'] as const,
      registers,
    });
    this.echoes = new Counter({
      name: 'tandem_echoes_suppressed_total',
      help: 'Changes that only reported back what tandem itself had written',
      labelNames: ['system'] as const,
      registers,
    });
    this.webhookRejections = new Counter({
      name: 'tandem_webhook_rejections_total',
      help: 'Webhook calls refused (bad signature or body) by connector and HTTP status',
      labelNames: ['connector', 'status'] as const,
      registers,
    });
    this.driftFields = new Counter({
      name: 'tandem_drift_fields_total',
      help: 'Fields the drift sweep found out of step, by cause (missed, inconsistent, shadow)',
      labelNames: ['cause'] as const,
      registers,
    });
    this.driftRelations = new Counter({
      name: 'tandem_drift_relations_total',
      help: 'Relations the drift sweep compared, by outcome (inStep, drifted)',
      labelNames: ['outcome'] as const,
      registers,
    });
    this.driftLastSweep = new Gauge({
      name: 'tandem_drift_last_sweep_timestamp_seconds',
      help: 'When the last drift sweep finished (Unix time)',
      registers,
    });
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** The engine's observer: confirmed writes, conflicts and echoes. */
  readonly syncObserver: SyncObserver = {
    fieldWritten: (system, sourceModifiedAt) => {
      const source = Date.parse(sourceModifiedAt);
      if (Number.isNaN(source)) return;
      // Clocks of two systems drift a little: a write "before" its source counts as instant.
      this.latency.observe({ target: system }, Math.max(0, (this.now() - source) / 1000));
    },
    conflict: (field) => this.conflicts.inc({ field }),
    echoSuppressed: (system) => this.echoes.inc({ system }),
  };

  /** The HTTP client's response observer (BuildOptions.observe). */
  readonly observeResponse: ResponseObserver = ({ connector, method, status }) => {
    this.apiCalls.inc({ connector, method, status: String(status) });
    if (status === 429) this.rateLimitWaits.inc({ connector, source: 'http' });
  };

  /** A write queue paused for `waitMs` because the provider rate-limited it. */
  rateLimitWait(connector: string, waitMs: number): void {
    this.rateLimitWaits.inc({ connector, source: 'queue' });
    this.rateLimitWaitSeconds.inc({ connector }, Math.max(0, waitMs) / 1000);
  }

  /** A drift sweep finished: what it compared and found (its repairs count as writes like any other). */
  driftSwept(report: DriftReport): void {
    for (const cause of Object.keys(report.fields) as DriftCause[])
      this.driftFields.inc({ cause }, report.fields[cause]);
    this.driftRelations.inc({ outcome: 'drifted' }, report.drifted);
    this.driftRelations.inc({ outcome: 'inStep' }, report.relations - report.drifted);
    this.driftLastSweep.set(Date.parse(report.finishedAt) / 1000);
  }

  /** A webhook call was refused. */
  webhookRejected(connector: string, status: number): void {
    this.webhookRejections.inc({ connector, status: String(status) });
  }

  /** The Content-Type of the exposition format. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text format. */
  async exposition(): Promise<string> {
    return this.registry.metrics();
  }
}
