// Overview: connectors, relation states, queues and the latest errors; refreshes every 5 seconds.
import { api, esc, failed, relationLink, render, table, when } from './lib.js';

function connectorCard(c) {
  const rate = c.rateLimit
    ? `${c.rateLimit.usedInWindow} of ${c.rateLimit.max} per ${Math.round(c.rateLimit.perMs / 1000)} s used (${c.rateLimit.max - c.rateLimit.usedInWindow} left)`
    : 'no limit set';
  const webhooks = c.webhooks.enabled
    ? `on${c.webhooks.subscriptionsRenewAt ? `, subscriptions renew ${when(c.webhooks.subscriptionsRenewAt)}` : ''}`
    : 'off (polling only)';
  return `<section class="card" data-connector="${esc(c.slot)}">
    <h2>${esc(c.slot === 'crm' ? 'CRM' : 'Accounting')} · ${esc(c.kind)} <span class="pill ${c.healthy ? 'ok' : 'bad'}">${c.healthy ? 'healthy' : 'unhealthy'}</span></h2>
    <dl class="kv">
      ${c.healthError ? `<dt>Error</dt><dd class="error">${esc(c.healthError)}</dd>` : ''}
      <dt>Last good poll</dt><dd>${when(c.lastSuccessfulPollAt)}</dd>
      <dt>Webhooks</dt><dd>${webhooks}</dd>
      <dt>Rate limit</dt><dd>${rate}</dd>
    </dl>
  </section>`;
}

function driftSection(drift) {
  if (!drift) return '';
  const { running, last } = drift;
  const progress = running ? `<p>Sweeping now: ${running.done} of ${running.total || '…'} relations compared.</p>` : '';
  const summary = last
    ? `<dl class="kv">
        <dt>Last sweep</dt><dd>${when(last.finishedAt)}: ${last.relations} relations compared</dd>
        <dt>Drifted</dt><dd>${last.drifted} relations (fields: ${last.fields.missed} missed, ${last.fields.inconsistent} inconsistent, ${last.fields.shadow} shadow only)</dd>
        <dt>Repaired</dt><dd>${last.repaired} contacts synchronized again · <a href="/ui/audit?kind=drift">findings in the audit log</a></dd>
      </dl>`
    : '<p class="muted">No sweep has run yet (<code>tandem drift</code> runs one now).</p>';
  return `<h2>Drift sweep</h2><section class="card" data-drift>${progress}${summary}</section>`;
}

function firstSyncSection(firstSync) {
  if (!firstSync) return '';
  const { running, last } = firstSync;
  const progress = running
    ? running.phase === 'reading'
      ? `<p>${running.dryRun ? 'Dry run' : 'First sync'} reading: ${running.read.crm} contacts and ${running.read.accounting} accounts so far.</p>`
      : `<p>First sync linking: ${running.done} of ${running.total} pairs and creations settled.</p>`
    : '';
  const summary = last
    ? `<dl class="kv">
        <dt>Last ${last.dryRun ? 'dry run' : 'run'}</dt><dd>${when(last.finishedAt)}${last.stopped ? ' (stopped: the next start resumes it)' : ''}${last.resumed ? ' (resumed)' : ''}</dd>
        <dt>${last.dryRun ? 'Would link' : 'Linked'}</dt><dd>${last.dryRun ? last.counts.link : `${last.outcome.linked} of ${last.counts.link} pairs (${last.outcome.alreadyLinked} linked already, ${last.outcome.failed} failed)`}</dd>
        <dt>${last.dryRun ? 'Would create' : 'Created'}</dt><dd>${last.dryRun ? last.counts.create : last.outcome.created} contacts${last.createReason ? ` <span class="muted">(${esc(last.createReason)})</span>` : ''}</dd>
        <dt>Ambiguous</dt><dd>${last.counts.ambiguous} · <a href="/ui/matches">matching review</a></dd>
        <dt>Unmatched</dt><dd>${last.counts.unmatched.contacts} contacts, ${last.counts.unmatched.accounts} accounts</dd>
        <dt>Skipped</dt><dd>${last.counts.skipped.alreadyLinked} linked already, ${last.counts.skipped.rejected} rejected, ${last.counts.skipped.missingFields} without match fields, ${last.counts.skipped.persons} persons</dd>
      </dl>`
    : '<p class="muted">No first sync has run yet (<code>tandem first-sync --dry-run</code> counts what it would do).</p>';
  return `<h2>First sync</h2><section class="card" data-first-sync>${progress}${summary}</section>`;
}

async function load() {
  const o = await api('GET', '/api/console/overview');
  const stat = (state, label) =>
    `<div class="stat"><a href="/ui/relations?state=${state}"><span class="muted">${label}</span><b>${o.relations[state]}</b></a></div>`;
  render(`<h1>Overview</h1>
    <div class="grid">${o.connectors.map(connectorCard).join('')}</div>
    <h2>Business relations</h2>
    <div class="stats">
      <div class="stat"><a href="/ui/relations"><span class="muted">Total</span><b>${o.relations.total}</b></a></div>
      ${stat('inSync', 'In sync')}${stat('pending', 'Pending')}${stat('failing', 'Failing')}${stat('conflict', 'In conflict')}
    </div>
    <h2>Queues <span class="muted">(throughput: last 5 minutes)</span> <a href="/ui/queues">open the queue board</a></h2>
    ${table(
      ['Queue', '#Waiting', '#Active', '#Delayed', '#Failed', '#Completed (5 min)', '#Failed (5 min)'],
      o.queues.map((q) => [
        esc(q.name),
        ...[q.waiting, q.active, q.delayed, q.failed, q.completedLast5m, q.failedLast5m].map((n) => ({
          cls: 'num',
          html: String(n),
        })),
      ]),
    )}
    ${firstSyncSection(o.firstSync)}
    ${driftSection(o.drift)}
    <h2>Latest errors</h2>
    ${table(
      ['When', 'Queue', 'Job', 'Reason', 'Record'],
      o.latestErrors.map((e) => [
        when(e.at),
        esc(e.queue),
        `<span class="mono">${esc(e.jobId)}</span>`,
        { cls: 'value', html: esc(e.reason) },
        e.relationId
          ? relationLink(e.relationId, 'relation')
          : e.contactId
            ? `<a href="/ui/relations?text=${encodeURIComponent(e.contactId)}">${esc(e.contactId)}</a>`
            : '<span class="muted">—</span>',
      ]),
      'No failed jobs.',
    )}`);
}

load().catch(failed);
setInterval(() => load().catch(() => undefined), 5000);
