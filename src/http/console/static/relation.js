// One relation: both records field by field, its jobs, its conflicts and its history, with resync,
// unlink, apply-the-losing-value and undo.
import { act, api, esc, failed, isAdmin, render, show, table, when } from './lib.js';

const id = decodeURIComponent(location.pathname.split('/').pop());
const ARROWS = { both: '⇄', toAccounting: '→', toCrm: '←' };

function undoButton(entry) {
  return isAdmin && (entry.kind === 'fieldChange' || entry.kind === 'conflict')
    ? `<button class="undo" data-audit="${esc(entry.id)}">Undo</button>`
    : '';
}

async function load() {
  const [status, history, conflicts] = await Promise.all([
    api('GET', `/api/relations/${encodeURIComponent(id)}/status`),
    api('GET', `/api/console/relations/${encodeURIComponent(id)}/history?limit=200`),
    api('GET', `/api/console/conflicts?relationId=${encodeURIComponent(id)}`),
  ]);
  const r = status.relation;
  const contactName = status.contact?.fields.name ?? r.contactId;
  const accountName = status.account?.fields.name ?? r.accountId;
  const app = render(`<h1>${esc(contactName)} ⇄ ${esc(accountName)} ${
    status.filtered
      ? `<span class="pill pending" id="filtered" title="A sync filter leaves the ${esc(status.filtered)} out: nothing is written either way">filtered</span>`
      : `<span class="pill ${status.inSync ? 'ok' : 'pending'}">${status.inSync ? 'in sync' : 'differs'}</span>`
  }</h1>
    <div class="toolbar center">
      <span class="muted">${esc(r.accountKind)} · code ${esc(r.relationCode)} · ${esc(r.origin)} · since ${when(r.createdAt)}</span>
      <span class="actions admin-only"><button id="resync" class="primary">Resync now</button><button id="unlink" class="danger">Unlink</button></span>
    </div>
    <div class="split">
      <section class="card"><h2>Contact (CRM)</h2><dl class="kv"><dt>Id</dt><dd class="mono">${esc(r.contactId)}</dd><dt>Type</dt><dd>${esc(status.contact?.type ?? 'missing')}</dd><dt>Modified</dt><dd>${when(status.contact?.modifiedAt)}</dd></dl></section>
      <section class="card"><h2>${esc(r.accountKind)} (accounting)</h2><dl class="kv"><dt>Id</dt><dd class="mono">${esc(r.accountId)}</dd><dt>No.</dt><dd>${show(status.account?.number)}</dd><dt>Modified</dt><dd>${when(status.account?.modifiedAt)}</dd></dl></section>
    </div>
    <h2>Fields</h2>
    ${table(
      ['Contact field', '', 'Account field', 'Contact value', 'Account value', 'Newer'],
      status.fields.map((f) =>
        Object.assign(
          [
            esc(f.contactField),
            `<span title="${esc(f.direction)}">${ARROWS[f.direction] ?? esc(f.direction)}</span>`,
            esc(f.accountField),
            { cls: `value${f.newer === 'contact' ? ' newer' : ''}`, html: show(f.contactValue) },
            { cls: `value${f.newer === 'account' ? ' newer' : ''}`, html: show(f.accountValue) },
            f.inSync
              ? '<span class="pill ok">same</span>'
              : f.newer
                ? `<span class="pill pending">${esc(f.newer)}</span>`
                : '<span class="pill">unknown</span>',
          ],
          { attrs: f.inSync ? '' : ' class="differs"' },
        ),
      ),
    )}
    <div class="split">
      <section><h2>Pending jobs</h2>${table(
        ['Queue', 'Job', 'State'],
        status.pendingJobs.map((j) => [esc(j.queue), `<span class="mono">${esc(j.id)}</span>`, esc(j.state)]),
        'None.',
      )}</section>
      <section><h2>Last failure</h2>${status.lastError ? `<div class="card"><dl class="kv"><dt>When</dt><dd>${when(status.lastError.at)}</dd><dt>Job</dt><dd class="mono">${esc(status.lastError.jobId)}</dd><dt>Reason</dt><dd class="error">${esc(status.lastError.reason)}</dd></dl></div>` : '<p class="muted">None.</p>'}</section>
    </div>
    <h2>Conflicts</h2>
    ${table(
      ['When', 'Field', 'Winner', 'Losing value', ''],
      conflicts.map((c) => [
        when(c.at),
        esc(c.field),
        `${show(c.winner.value)}<div class="muted">${esc(c.winner.system)} · ${when(c.winner.modifiedAt)}</div>`,
        c.losers
          .map((l) => `${show(l.value)}<div class="muted">${esc(l.system)} · ${when(l.modifiedAt)}</div>`)
          .join(''),
        c.overriddenBy
          ? `<span class="muted">applied by ${esc(c.overriddenBy)}</span>`
          : isAdmin
            ? c.losers
                .map(
                  (_l, i) =>
                    `<button class="apply-loser" data-audit="${esc(c.auditId)}" data-index="${i}">Use losing value</button>`,
                )
                .join(' ')
            : '',
      ]),
      'No conflicts.',
    )}
    <h2>History</h2>
    ${table(
      ['When', 'Kind', 'Field', 'Old', 'New', 'Source', ''],
      history.map((e) => [
        when(e.appliedAt),
        esc(e.kind),
        esc(e.field ?? ''),
        { cls: 'value', html: show(e.oldValue) },
        { cls: 'value', html: show(e.newValue) },
        esc([e.sourceSystem, e.direction].filter(Boolean).join(' · ')),
        undoButton(e),
      ]),
      'No audit entries.',
    )}`);

  if (!isAdmin) return;
  app.querySelector('#resync').addEventListener('click', (event) =>
    act(
      event.target,
      () => api('POST', `/api/console/relations/${encodeURIComponent(id)}/resync`),
      (res) => `Sync enqueued (job ${res.jobId})`,
    ).then(() => setTimeout(() => load().catch(failed), 1200)),
  );
  app.querySelector('#unlink').addEventListener('click', async (event) => {
    if (!confirm('Unlink these records? Both stay; they are no longer kept in step.')) return;
    if (await act(event.target, () => api('DELETE', `/api/relations/${encodeURIComponent(id)}`), 'Unlinked'))
      location.href = '/ui/relations';
  });
  for (const button of app.querySelectorAll('.apply-loser')) {
    button.addEventListener('click', async () => {
      const result = await act(
        button,
        () =>
          api('POST', `/api/console/conflicts/${encodeURIComponent(button.dataset.audit)}/apply-loser`, {
            loserIndex: Number(button.dataset.index),
          }),
        (res) => `Losing value applied (${res.writes} writes)`,
      );
      if (result) setTimeout(() => load().catch(failed), 1200);
    });
  }
  for (const button of app.querySelectorAll('.undo')) {
    button.addEventListener('click', async () => {
      const result = await act(
        button,
        () => api('POST', `/api/console/audit/${encodeURIComponent(button.dataset.audit)}/undo`),
        (res) => `Change undone (${res.writes} writes)`,
      );
      if (result) setTimeout(() => load().catch(failed), 1200);
    });
  }
}

load().catch(failed);
