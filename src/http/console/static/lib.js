// Shared helpers of the console's pages: API calls with the CSRF header, escaping, small renderers.

/** The signed-in access level ('admin' or 'viewer'). */
export const level = document.body.dataset.level ?? 'viewer';
export const isAdmin = level === 'admin';

/** Calls the API with the session cookie; every call carries the CSRF header. Throws an Error with the API's message. */
export async function api(method, url, body) {
  const headers = { 'x-tandem-request': '1', accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (response.status === 401) {
    location.href = `/ui/login?next=${encodeURIComponent(location.pathname + location.search)}`;
    throw new Error('signed out');
  }
  const text = await response.text();
  const data = text && (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
  if (!response.ok) {
    const error = new Error(data && data.message ? data.message : `${response.status} ${response.statusText}`);
    error.status = response.status;
    error.body = data;
    throw error;
  }
  return data;
}

/** Escapes text for HTML. */
export function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A field value, with null shown as an em dash. */
export const show = (value) =>
  value === null || value === undefined || value === '' ? '<span class="muted">—</span>' : esc(value);

/** A time as local date and time. */
export function when(iso) {
  if (!iso) return '<span class="muted">—</span>';
  const date = new Date(iso);
  return `<time datetime="${esc(iso)}" title="${esc(iso)}">${esc(date.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }))}</time>`;
}

/** A relation state as a coloured pill. */
export const statePill = (state) =>
  `<span class="pill ${esc(state)}">${esc({ inSync: 'in sync', pending: 'pending', failing: 'failing', conflict: 'conflict' }[state] ?? state)}</span>`;

/** A table with a sticky header; `rows` are arrays of cell HTML. */
export function table(headers, rows, empty = 'Nothing here.') {
  const head = headers
    .map((h) => (h.startsWith('#') ? `<th class="num">${esc(h.slice(1))}</th>` : `<th>${esc(h)}</th>`))
    .join('');
  const body = rows.length
    ? rows
        .map(
          (cells) =>
            `<tr${cells.attrs ?? ''}>${cells.map((cell) => `<td${cell && cell.cls ? ` class="${cell.cls}"` : ''}>${cell && cell.html !== undefined ? cell.html : (cell ?? '')}</td>`).join('')}</tr>`,
        )
        .join('')
    : `<tr><td colspan="${headers.length}" class="muted">${esc(empty)}</td></tr>`;
  return `<div class="table-wrap"><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

/** Shows a short message at the bottom right. */
export function toast(message, bad = false) {
  const box = document.getElementById('toast');
  const item = document.createElement('div');
  item.className = `msg${bad ? ' bad' : ''}`;
  item.textContent = message;
  box.append(item);
  setTimeout(() => item.remove(), bad ? 8000 : 4000);
}

/** Runs an action from a button: disables it meanwhile and reports the outcome. */
export async function act(button, work, done) {
  button.disabled = true;
  try {
    const result = await work();
    if (done) toast(typeof done === 'function' ? done(result) : done);
    return result;
  } catch (error) {
    toast(error.message, true);
    return undefined;
  } finally {
    button.disabled = false;
  }
}

/** Fills the page. */
export function render(html) {
  const app = document.getElementById('app');
  app.innerHTML = html;
  app.removeAttribute('aria-busy');
  return app;
}

/** Shows a failure to load the page. */
export function failed(error) {
  render(`<h1>${esc(document.title.split(' · ')[0])}</h1><p class="error">Could not load: ${esc(error.message)}</p>`);
}

/** Builds a query string from the non-empty values. */
export function qs(values) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values))
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The relation page's link. */
export const relationLink = (id, text) => `<a href="/ui/relations/${encodeURIComponent(id)}">${esc(text ?? id)}</a>`;

document.getElementById('logout')?.addEventListener('click', async () => {
  await fetch('/ui/logout', { method: 'POST', headers: { 'x-tandem-request': '1' } });
  location.href = '/ui/login';
});

const KIND_WORDS = { customer: 'customer', vendor: 'vendor', bankAccount: 'bank account' };

/**
 * A record picker: the markup for a search box that fills the hidden form field `name` with the
 * id of the record picked. `entity` is a side ('contact') or, with `kindFrom`, the name of the
 * form's kind select. Wire it with `pickers(form)`.
 */
export const pickerField = (label, name, { entity = '', kindFrom = '' } = {}) =>
  `<label>${esc(label)}<span class="picker" data-name="${esc(name)}" data-entity="${esc(entity)}" data-kind-from="${esc(kindFrom)}">
    <input type="search" class="picker-text" autocomplete="off" spellcheck="false" size="26"
      placeholder="name, no., e-mail, VAT, id" aria-autocomplete="list" aria-expanded="false" role="combobox">
    <input type="hidden" name="${esc(name)}">
    <ul class="picker-results" role="listbox" hidden></ul>
    <span class="picker-chosen muted"></span></span></label>`;

/** What a search hit shows besides its name: number, e-mail, VAT no., city, and the relations it is in. */
const hitDetails = (hit) =>
  [hit.type === 'person' ? 'person' : '', hit.number, hit.email, hit.vatRegistrationNo, hit.city]
    .filter(Boolean)
    .map(esc)
    .join(' · ');
const hitRelations = (hit) =>
  hit.relations
    .map((relation) =>
      hit.entity === 'contact'
        ? `<span class="pill">${esc(KIND_WORDS[relation.accountKind] ?? relation.accountKind)}</span>`
        : `<span class="pill">linked</span>`,
    )
    .join(' ');

/**
 * Wires every picker of a form: typing searches the record's system (after a pause, at least two
 * characters), arrows and Enter pick, Escape closes. Text typed and not picked is taken as an id,
 * so a record can still be named by its id where a system cannot search.
 */
export function pickers(form) {
  for (const box of form.querySelectorAll('.picker')) {
    const text = box.querySelector('.picker-text');
    const hidden = box.querySelector('input[type=hidden]');
    const list = box.querySelector('.picker-results');
    const chosen = box.querySelector('.picker-chosen');
    const kindSelect = box.dataset.kindFrom ? form.querySelector(`[name="${box.dataset.kindFrom}"]`) : null;
    const entity = () => (kindSelect ? kindSelect.value : box.dataset.entity);
    let hits = [];
    let active = -1;
    let timer;
    let asked = 0;
    const close = () => {
      list.hidden = true;
      text.setAttribute('aria-expanded', 'false');
      active = -1;
    };
    const open = (html) => {
      list.innerHTML = html;
      list.hidden = false;
      text.setAttribute('aria-expanded', 'true');
    };
    const mark = () =>
      list
        .querySelectorAll('[role=option]')
        .forEach((item, at) => item.setAttribute('aria-selected', String(at === active)));
    const pick = (hit) => {
      hidden.value = hit.id;
      text.value = hit.name ?? hit.id;
      chosen.textContent = [hit.number, hit.id].filter(Boolean).join(' · ');
      box.dataset.picked = hit.id;
      close();
    };
    const search = async () => {
      const query = text.value.trim();
      if (query.length < 2) return close();
      const ask = ++asked;
      try {
        const found = await api('GET', `/api/search${qs({ entity: entity(), text: query, limit: 8 })}`);
        if (ask !== asked) return; // a later search is on its way
        hits = found;
        active = hits.length > 0 ? 0 : -1;
        open(
          hits.length === 0
            ? `<li class="muted">Nothing found for “${esc(query)}”</li>`
            : hits
                .map(
                  (hit, at) =>
                    `<li role="option" data-at="${at}"><strong>${show(hit.name)}</strong> ${hitRelations(hit)}<div class="muted">${hitDetails(hit)}</div></li>`,
                )
                .join(''),
        );
        mark();
      } catch (error) {
        if (ask === asked) open(`<li class="error">${esc(error.message)}</li>`);
      }
    };
    text.addEventListener('input', () => {
      hidden.value = '';
      chosen.textContent = '';
      delete box.dataset.picked;
      clearTimeout(timer);
      timer = setTimeout(search, 300);
    });
    text.addEventListener('keydown', (event) => {
      if (list.hidden || hits.length === 0) return;
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        active = (active + (event.key === 'ArrowDown' ? 1 : hits.length - 1)) % hits.length;
        mark();
      } else if (event.key === 'Enter' && active >= 0) {
        event.preventDefault();
        pick(hits[active]);
      } else if (event.key === 'Escape') close();
    });
    list.addEventListener('mousedown', (event) => {
      const item = event.target.closest('[role=option]');
      if (!item) return;
      event.preventDefault();
      pick(hits[Number(item.dataset.at)]);
    });
    text.addEventListener('blur', () => setTimeout(close, 150));
    kindSelect?.addEventListener('change', () => {
      hidden.value = '';
      chosen.textContent = '';
      delete box.dataset.picked;
      if (text.value.trim().length >= 2) search();
    });
  }
}

/** The id a picker holds: the record picked, or the text typed as an id. */
export const pickedId = (form, name) => {
  const box = form.querySelector(`.picker[data-name="${name}"]`);
  return box.querySelector('input[type=hidden]').value || box.querySelector('.picker-text').value.trim();
};
