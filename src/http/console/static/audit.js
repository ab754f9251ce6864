// Audit log: filter by contact, account, field, time range and kind; export the same selection as
// CSV; undo an audited change.
import { act, api, esc, failed, isAdmin, qs, relationLink, render, show, table, when } from './lib.js';

const params = new URLSearchParams(location.search);
const FILTERS = ['contactId', 'accountKind', 'accountId', 'relationId', 'field', 'kind', 'from', 'to'];
const filter = Object.fromEntries(FILTERS.map((key) => [key, params.get(key) ?? '']));
const localInput = (iso) => (iso ? new Date(iso).toISOString().slice(0, 16) : '');
const select = (name, values) =>
  `<select name="${name}"><option value="">any</option>${values.map((v) => `<option${v === filter[name] ? ' selected' : ''}>${v}</option>`).join('')}</select>`;

async function load() {
  const query = qs({ ...filter, limit: 500 });
  const entries = await api('GET', `/api/audit${query}`);
  const app = render(`<h1>Audit log</h1>
    <form class="toolbar" id="filter">
      <label>Contact<input name="contactId" value="${esc(filter.contactId)}" size="16"></label>
      <label>Account kind${select('accountKind', ['customer', 'vendor', 'bankAccount'])}</label>
      <label>Account<input name="accountId" value="${esc(filter.accountId)}" size="16"></label>
      <label>Field<input name="field" value="${esc(filter.field)}" size="10"></label>
      <label>Kind${select('kind', ['fieldChange', 'conflict', 'link', 'unlink', 'create', 'delete', 'drift'])}</label>
      <label>From<input name="from" type="datetime-local" value="${localInput(filter.from)}"></label>
      <label>To<input name="to" type="datetime-local" value="${localInput(filter.to)}"></label>
      <button type="submit" class="primary">Filter</button>
      <a id="csv" href="/api/console/audit.csv${qs(filter)}" download>Export CSV</a>
    </form>
    ${table(
      ['When', 'Kind', 'Relation', 'Record', 'Field', 'Old', 'New', 'Source', ''],
      entries.map((e) => [
        when(e.appliedAt),
        esc(e.kind),
        e.relationId ? relationLink(e.relationId, 'open') : '',
        `<span class="mono">${esc(e.contactId ?? '')}</span>${e.accountId ? `<div class="muted mono">${esc(e.accountKind)} ${esc(e.accountId)}</div>` : ''}`,
        esc(e.field ?? ''),
        { cls: 'value', html: show(e.oldValue) },
        { cls: 'value', html: show(e.newValue) },
        esc([e.sourceSystem, e.direction].filter(Boolean).join(' · ')),
        isAdmin && (e.kind === 'fieldChange' || e.kind === 'conflict')
          ? `<button class="undo" data-audit="${esc(e.id)}">Undo</button>`
          : '',
      ]),
      'No entries match.',
    )}
    <p class="muted">${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} (at most 500 shown; the CSV has them all).</p>`);
  app.querySelector('#filter').addEventListener('submit', (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(event.target));
    for (const key of ['from', 'to']) if (data[key]) data[key] = new Date(data[key]).toISOString();
    location.search = qs(data);
  });
  for (const button of app.querySelectorAll('.undo')) {
    button.addEventListener('click', async () => {
      const result = await act(
        button,
        () => api('POST', `/api/console/audit/${encodeURIComponent(button.dataset.audit)}/undo`),
        (res) => `Change undone (${res.writes} writes)`,
      );
      if (result) setTimeout(() => load().catch(failed), 1000);
    });
  }
}

load().catch(failed);
