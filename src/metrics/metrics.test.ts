import { Metrics } from './metrics';

/** The value of one sample line, or undefined when absent. */
function sample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((candidate) => candidate.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('Metrics', () => {
  it('times a confirmed write from the source modification time, per target', async () => {
    const now = Date.parse('2026-01-01T00:00:02.000Z');
    const metrics = new Metrics({ processMetrics: false, now: () => now });
    metrics.syncObserver.fieldWritten?.('accounting', '2026-01-01T00:00:00.500Z');
    metrics.syncObserver.fieldWritten?.('crm', 'not a time');
    const text = await metrics.exposition();
    expect(sample(text, 'tandem_sync_latency_seconds_count{target="accounting"}')).toBe(1);
    expect(sample(text, 'tandem_sync_latency_seconds_sum{target="accounting"}')).toBe(1.5);
    expect(sample(text, 'tandem_sync_latency_seconds_bucket{le="1",target="accounting"}')).toBe(0);
    expect(sample(text, 'tandem_sync_latency_seconds_bucket{le="2",target="accounting"}')).toBe(1);
    expect(text).not.toContain('target="crm"');
  });

  it('counts API calls, rate-limit waits, conflicts, echoes and webhook rejections', async () => {
    const metrics = new Metrics({ processMetrics: false });
    metrics.observeResponse({ connector: 'crm', method: 'GET', status: 200, durationMs: 5 });
    metrics.observeResponse({ connector: 'crm', method: 'GET', status: 200, durationMs: 5 });
    metrics.observeResponse({ connector: 'accounting', method: 'PATCH', status: 429, durationMs: 5 });
    metrics.rateLimitWait('accounting', 2500);
    metrics.syncObserver.conflict?.('phone');
    metrics.syncObserver.echoSuppressed?.('any');
    metrics.webhookRejected('crm', 401);
    const text = await metrics.exposition();
    expect(sample(text, 'tandem_api_calls_total{connector="crm",method="GET",status="200"}')).toBe(2);
    expect(sample(text, 'tandem_api_calls_total{connector="accounting",method="PATCH",status="429"}')).toBe(1);
    expect(sample(text, 'tandem_rate_limit_waits_total{connector="accounting",source="http"}')).toBe(1);
    expect(sample(text, 'tandem_rate_limit_waits_total{connector="accounting",source="queue"}')).toBe(1);
    expect(sample(text, 'tandem_rate_limit_wait_seconds_total{connector="accounting"}')).toBe(2.5);
    expect(sample(text, 'tandem_conflicts_total{field="phone"}')).toBe(1);
    expect(sample(text, 'tandem_echoes_suppressed_total{system="any"}')).toBe(1);
    expect(sample(text, 'tandem_webhook_rejections_total{connector="crm",status="401"}')).toBe(1);
  });

  it('reads job counts on each scrape and keeps answering when they cannot be read', async () => {
    let failing = false;
    const errors: unknown[] = [];
    const metrics = new Metrics({
      processMetrics: false,
      jobCounts: async () => {
        if (failing) throw new Error('Redis went away');
        return [{ queue: 'intake', counts: { waiting: 3, active: 1, completed: 7 } }];
      },
      onCollectError: (error) => errors.push(error),
    });
    const first = await metrics.exposition();
    expect(sample(first, 'tandem_jobs{queue="intake",state="waiting"}')).toBe(3);
    expect(sample(first, 'tandem_jobs{queue="intake",state="failed"}')).toBe(0);
    failing = true;
    await expect(metrics.exposition()).resolves.toContain('tandem_jobs');
    expect(errors).toHaveLength(1);
  });

  it('keeps each daemon on its own registry, process metrics included', async () => {
    const one = new Metrics();
    const two = new Metrics();
    one.syncObserver.conflict?.('city');
    expect(await one.exposition()).toContain('process_cpu_user_seconds_total');
    expect(await two.exposition()).not.toContain('tandem_conflicts_total{field="city"}');
    expect(one.contentType).toMatch(/^text\/plain/);
  });
});
