// Relations: search and filter, and the actions that make relations (link, create either side).
import {
  act,
  api,
  esc,
  failed,
  isAdmin,
  pickedId,
  pickerField,
  pickers,
  qs,
  relationLink,
  render,
  show,
  statePill,
  table,
  toast,
  when,
} from './lib.js';

const params = new URLSearchParams(location.search);
const filter = {
  kind: params.get('kind') ?? '',
  state: params.get('state') ?? '',
  text: params.get('text') ?? '',
  offset: Number(params.get('offset') ?? 0),
};
const PAGE = 50;
const KINDS = [
  ['customer', 'Customer'],
  ['vendor', 'Vendor'],
  ['bankAccount', 'Bank account'],
];
const options = (list, selected) =>
  list
    .map(([value, label]) => `<option value="${value}"${value === selected ? ' selected' : ''}>${label}</option>`)
    .join('');

async function load() {
  const { rows, total } = await api('GET', `/api/console/relations${qs({ ...filter, limit: PAGE })}`);
  const app = render(`<h1>Relations</h1>
    <form class="toolbar" id="filter">
      <label>Search<input name="text" type="search" placeholder="name, contact or account id" value="${esc(filter.text)}" size="28"></label>
      <label>Kind<select name="kind"><option value="">any</option>${options(KINDS, filter.kind)}</select></label>
      <label>State<select name="state"><option value="">any</option>${options(
        [
          ['inSync', 'in sync'],
          ['pending', 'pending'],
          ['failing', 'failing'],
          ['conflict', 'in conflict'],
        ],
        filter.state,
      )}</select></label>
      <button type="submit" class="primary">Filter</button>
    </form>
    ${table(
      ['Contact', 'Account', 'Kind', 'Code', 'State', 'Last activity', ''],
      rows.map((r) => [
        `${show(r.contactName)}<div class="muted mono">${esc(r.relation.contactId)}</div>`,
        `${show(r.accountName)}<div class="muted mono">${esc(r.relation.accountId)}</div>`,
        esc(r.relation.accountKind),
        esc(r.relation.relationCode),
        statePill(r.state),
        when(r.lastActivityAt),
        relationLink(r.relation.id, 'Open'),
      ]),
      'No relation matches.',
    )}
    <div class="pager"><button id="prev" ${filter.offset === 0 ? 'disabled' : ''}>Previous</button>
      <span class="muted">${total === 0 ? 0 : filter.offset + 1}–${Math.min(filter.offset + PAGE, total)} of ${total}</span>
      <button id="next" ${filter.offset + PAGE >= total ? 'disabled' : ''}>Next</button></div>
    <section class="admin-only">
      <h2>Make a relation</h2>
      <div class="grid">
        <form class="card" id="link"><h2>Link a contact with an account</h2>
          <div class="toolbar">${pickerField('Contact', 'contactId', { entity: 'contact' })}
          <label>Kind<select name="accountKind">${options(KINDS, 'customer')}</select></label>
          ${pickerField('Account', 'accountId', { kindFrom: 'accountKind' })}
          <label>Winner<select name="winner"><option value="contact">contact</option><option value="account">account</option></select></label>
          <button class="primary">Link</button></div></form>
        <form class="card" id="create-account"><h2>Create an account from a contact</h2>
          <div class="toolbar">${pickerField('Contact', 'contactId', { entity: 'contact' })}
          <label>Kind<select name="accountKind">${options(KINDS, 'customer')}</select></label>
          <label>Template<input name="template" placeholder="optional" size="10"></label>
          <button class="primary">Create account</button></div></form>
        <form class="card" id="create-contact"><h2>Create a contact from an account</h2>
          <div class="toolbar"><label>Kind<select name="kind">${options(KINDS, 'customer')}</select></label>
          ${pickerField('Account', 'accountId', { kindFrom: 'kind' })}
          <button class="primary">Create contact</button></div></form>
      </div>
    </section>`);
  app.querySelector('#filter').addEventListener('submit', (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(event.target));
    location.search = qs({ text: data.text, kind: data.kind, state: data.state });
  });
  app
    .querySelector('#prev')
    .addEventListener('click', () => (location.search = qs({ ...filter, offset: Math.max(0, filter.offset - PAGE) })));
  app
    .querySelector('#next')
    .addEventListener('click', () => (location.search = qs({ ...filter, offset: filter.offset + PAGE })));
  if (!isAdmin) return;
  const onSubmit = (id, call) => {
    const form = app.querySelector(id);
    pickers(form);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const data = Object.fromEntries(new FormData(form));
      for (const name of ['contactId', 'accountId']) if (name in data) data[name] = pickedId(form, name);
      const missing = ['contactId', 'accountId'].find((name) => name in data && data[name] === '');
      if (missing) {
        form.querySelector(`.picker[data-name="${missing}"] .picker-text`).focus();
        return toast(`Pick the ${missing === 'contactId' ? 'contact' : 'account'} first`, true);
      }
      const result = await act(event.submitter ?? event.target.querySelector('button'), () => call(data));
      if (result) location.href = `/ui/relations/${encodeURIComponent(result.relation.id)}`;
    });
  };
  onSubmit('#link', (d) =>
    api('POST', '/api/relations', {
      contactId: d.contactId,
      accountKind: d.accountKind,
      accountId: d.accountId,
      winner: d.winner,
    }),
  );
  onSubmit('#create-account', (d) =>
    api('POST', `/api/contacts/${encodeURIComponent(d.contactId)}/accounts`, {
      accountKind: d.accountKind,
      ...(d.template ? { template: d.template } : {}),
    }),
  );
  onSubmit('#create-contact', (d) =>
    api('POST', `/api/accounts/${encodeURIComponent(d.kind)}/${encodeURIComponent(d.accountId)}/contact`),
  );
}

load().catch(failed);
