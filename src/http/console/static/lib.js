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
