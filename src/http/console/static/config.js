// Mapping editor: a table of mapped field pairs per account kind (fields as the providers describe
// them, custom ones included; direction, transform, value table) and the kind's sync filters, or
// the editable config as YAML. Either is checked against the file's schema while editing; a
// preview (dry run) comes before saving; stored versions can be restored.
import { act, api, esc, failed, isAdmin, render, show, table, when } from './lib.js';

let previewedText = null;

const KINDS = ['customer', 'vendor', 'bankAccount'];
const DIRECTIONS = [
  ['both', 'both ways'],
  ['toAccounting', 'to accounting only'],
  ['toCrm', 'to the CRM only'],
];
const TRANSFORMS = [
  ['', 'as it is'],
  ['trim', 'trim'],
  ['upper', 'upper case'],
  ['lower', 'lower case'],
  ['country', 'country name ⇄ ISO code'],
  ['phone-e164', 'phone as E.164'],
];
const OPERATORS = [
  ['in', 'is one of'],
  ['notIn', 'is none of'],
  ['empty', 'is empty'],
  ['filled', 'is not empty'],
];

const option = (value, label, selected) =>
  `<option value="${esc(value)}"${selected ? ' selected' : ''}>${esc(label)}</option>`;

/** A select of fields as a provider describes them; a field the list lacks (mapped before) stays choosable. */
function fieldSelect(cls, fields, value) {
  const known = fields.some((field) => field.name === value);
  const options = [
    ...(value && !known ? [option(value, `${value} (not described)`, true)] : []),
    ...(value ? [] : [option('', 'choose a field', true)]),
    ...fields.map((field) =>
      option(
        field.name,
        `${field.label}${field.custom ? ` (${field.name})` : ''}${field.writable ? '' : ' · read-only'}`,
        field.name === value,
      ),
    ),
  ];
  return `<select class="${cls}">${options.join('')}</select>`;
}

/** A value table as lines of `CRM value = accounting value`. */
const tableText = (values) =>
  Object.entries(values ?? {})
    .map(([crm, accounting]) => `${crm} = ${accounting}`)
    .join('\n');

function parseTable(text) {
  const values = {};
  for (const line of text.split('\n')) {
    const cut = line.indexOf('=');
    if (cut <= 0) continue;
    values[line.slice(0, cut).trim()] = line.slice(cut + 1).trim();
  }
  return Object.keys(values).length > 0 ? values : undefined;
}

function mappingRow(mapping, fields) {
  const transform = typeof mapping.transform === 'string' ? mapping.transform : (mapping.transform?.name ?? '');
  const region = mapping.transform?.region ?? '';
  // A transform's other options (a country's language) are kept while its name stays.
  const spec = typeof mapping.transform === 'object' ? JSON.stringify(mapping.transform) : '';
  return `<tr class="mapping" data-transform="${esc(spec)}">
    <td>${fieldSelect('contact', fields.contact, mapping.contact)}</td>
    <td><select class="direction">${DIRECTIONS.map(([value, label]) => option(value, label, value === (mapping.direction ?? 'both'))).join('')}</select></td>
    <td>${fieldSelect('account', fields.account, mapping.account)}</td>
    <td><select class="transform">${TRANSFORMS.map(([value, label]) => option(value, label, value === transform)).join('')}</select>
      <input class="region" size="3" placeholder="NL" value="${esc(region)}" title="default region for numbers without a country code"${transform === 'phone-e164' ? '' : ' hidden'}></td>
    <td><textarea class="values" rows="2" placeholder="CRM value = accounting value">${esc(tableText(mapping.values))}</textarea></td>
    <td><select class="unmapped">${['keep', 'blank', 'hold'].map((rule) => option(rule, rule === 'hold' ? 'hold for review' : rule, rule === (mapping.unmapped ?? 'keep'))).join('')}</select></td>
    <td><button class="remove" title="Remove this mapping">✕</button></td>
  </tr>`;
}

function conditionRow(side, condition, fields) {
  const operator = 'in' in condition ? 'in' : 'notIn' in condition ? 'notIn' : condition.empty ? 'empty' : 'filled';
  const values = condition.in ?? condition.notIn ?? [];
  return `<tr class="condition" data-side="${side}">
    <td>${side === 'contact' ? 'contact (CRM)' : 'account'}</td>
    <td>${fieldSelect('field', side === 'contact' ? fields.contact : fields.account, condition.field)}</td>
    <td><select class="operator">${OPERATORS.map(([value, label]) => option(value, label, value === operator)).join('')}</select></td>
    <td><input class="list" size="30" placeholder="values, comma-separated" value="${esc(values.join(', '))}"${operator === 'in' || operator === 'notIn' ? '' : ' hidden'}></td>
    <td><button class="remove" title="Remove this condition">✕</button></td>
  </tr>`;
}

/** The mappings of a kind as the table shows them (a kind without its own list maps every common field). */
function readMappings(body) {
  return [...body.querySelectorAll('tr.mapping')].map((row) => {
    const mapping = {
      contact: row.querySelector('.contact').value,
      account: row.querySelector('.account').value,
      direction: row.querySelector('.direction').value,
    };
    const transform = row.querySelector('.transform').value;
    const kept = row.dataset.transform ? JSON.parse(row.dataset.transform) : null;
    if (transform === 'phone-e164')
      mapping.transform = { name: transform, region: row.querySelector('.region').value.trim() };
    else if (kept && kept.name === transform) mapping.transform = kept;
    else if (transform) mapping.transform = transform;
    const values = parseTable(row.querySelector('.values').value);
    if (values) mapping.values = values;
    const unmapped = row.querySelector('.unmapped').value;
    if ((transform || values) && unmapped !== 'keep') mapping.unmapped = unmapped;
    return mapping;
  });
}

function readFilter(body) {
  const filter = {};
  for (const row of body.querySelectorAll('tr.condition')) {
    const side = row.dataset.side;
    const field = row.querySelector('.field').value;
    const operator = row.querySelector('.operator').value;
    const list = row
      .querySelector('.list')
      .value.split(',')
      .map((value) => value.trim())
      .filter(Boolean);
    const condition =
      operator === 'in' || operator === 'notIn' ? { field, [operator]: list } : { field, empty: operator === 'empty' };
    (filter[side] ??= []).push(condition);
  }
  return filter;
}

function sourceBanner(state) {
  const source = state.source === 'stored' ? `stored version ${state.version}` : 'the config file';
  const differs = state.fileDiffers
    ? `<div class="banner">The config file differs from the version in force. <details><summary>Show the file's sections</summary><pre class="mono">${esc(state.fileYaml)}</pre></details></div>`
    : '';
  return `<p>In force: <b id="source">${esc(source)}</b>${state.fileDiffers ? '' : ' <span class="muted">(the file agrees)</span>'}</p>${differs}`;
}

function previewHtml(p) {
  return `<p><b>${p.writes.length}</b> write(s) over <b>${p.relationsChecked}</b> relation(s) checked. Changed: ${p.changedKeys.length ? p.changedKeys.map((k) => `<code>${esc(k)}</code>`).join(', ') : '<span class="muted">nothing</span>'}</p>
    ${table(
      ['Side', 'Field', '#Records'],
      p.summary.map((s) => [esc(s.system), esc(s.field), { cls: 'num', html: String(s.records) }]),
      'Nothing would be written.',
    )}
    <h2>Writes</h2>
    ${table(
      ['Relation', 'Side', 'Record', 'Field', 'From', 'To'],
      p.writes
        .slice(0, 200)
        .map((w) => [
          `<span class="mono">${esc(w.relationId)}</span>`,
          esc(w.system),
          `${esc(w.entity)} <span class="mono">${esc(w.recordId)}</span>`,
          esc(w.field),
          { cls: 'value', html: show(w.from) },
          { cls: 'value', html: show(w.to) },
        ]),
      'None.',
    )}
    ${p.writes.length > 200 ? `<p class="muted">and ${p.writes.length - 200} more</p>` : ''}`;
}

async function load() {
  const [state, versions] = await Promise.all([
    api('GET', '/api/console/config'),
    api('GET', '/api/console/config/versions'),
  ]);
  previewedText = null;
  const app = render(`<h1>Mapping editor</h1>
    ${sourceBanner(state)}
    <div class="toolbar" role="tablist">
      <button id="view-table" role="tab" aria-selected="true">Table</button>
      <button id="view-yaml" role="tab" aria-selected="false">YAML</button>
    </div>
    <div class="editor">
      <section>
        <div id="table-view">
          <label class="muted">Account kind <select id="kind">${KINDS.map((kind) => option(kind, kind, kind === 'customer')).join('')}</select></label>
          <p id="table-note" class="muted"></p>
          <div class="table-wrap"><table class="mapping-table">
            <thead><tr><th>CRM field</th><th>Direction</th><th>Accounting field</th><th>Transform</th><th>Value table</th><th>Without an entry</th><th></th></tr></thead>
            <tbody id="mappings"></tbody>
          </table></div>
          <div class="toolbar admin-only"><button id="add-mapping">Add a mapping</button></div>
          <h2>Sync filter</h2>
          <p class="muted">Records of this kind take part only while every condition holds; the others are left alone.</p>
          <div class="table-wrap"><table class="mapping-table"><tbody id="conditions"></tbody></table></div>
          <div class="toolbar admin-only"><button id="add-contact-condition">Add a CRM condition</button><button id="add-account-condition">Add an accounting condition</button></div>
        </div>
        <div id="yaml-view" hidden>
          <label for="yaml" class="muted">Mappings, filters, directions, relation codes, templates, match rules (YAML, same schema as the file)</label>
          <textarea id="yaml" spellcheck="false" ${isAdmin ? '' : 'readonly'}>${esc(state.yaml)}</textarea>
        </div>
        <div id="problems" aria-live="polite"></div>
        <div class="toolbar admin-only">
          <button id="preview">Preview</button>
          <input id="comment" placeholder="comment (optional)" size="30">
          <button id="save" class="primary" disabled title="Preview first">Save and apply</button>
        </div>
      </section>
      <section><h2 class="flush">Preview</h2><div id="preview-out" class="muted">${isAdmin ? 'Edit, then preview what the new config would write.' : 'Viewers can read the config in force.'}</div></section>
    </div>
    <h2>Versions</h2>
    ${table(
      ['Version', 'Saved', 'By', 'Comment', ''],
      versions.map((v) => [
        String(v.version),
        when(v.savedAt),
        esc(v.savedBy),
        show(v.comment),
        isAdmin && v.version !== state.version
          ? `<button class="restore" data-version="${v.version}">Restore</button>`
          : v.version === state.version
            ? '<span class="pill ok">in force</span>'
            : '',
      ]),
      'No stored versions yet: the file is in force.',
    )}`);
  const yaml = app.querySelector('#yaml');
  const problems = app.querySelector('#problems');
  const save = app.querySelector('#save');
  const mappingsBody = app.querySelector('#mappings');
  const conditionsBody = app.querySelector('#conditions');
  const kindSelect = app.querySelector('#kind');
  const fieldsOf = new Map();
  let editable = null;
  let timer;
  let sequence = 0;

  const validate = async () => {
    const mine = ++sequence;
    const result = await api('POST', '/api/console/config/validate', { yaml: yaml.value }).catch((error) => ({
      problems: [{ path: '', message: error.message }],
    }));
    if (mine !== sequence) return result;
    problems.innerHTML = result.problems.length
      ? `<ul class="problems">${result.problems.map((p) => `<li><code>${esc(p.path || '(root)')}</code>: ${esc(p.message)}</li>`).join('')}</ul>`
      : '<p class="valid">Valid</p>';
    problems.dataset.valid = String(result.problems.length === 0);
    return result;
  };
  const changed = () => {
    save.disabled = true;
    previewedText = null;
    clearTimeout(timer);
    timer = setTimeout(validate, 250);
  };

  // The table: the editable sections as data, shown one kind at a time; each edit writes them back as the YAML (JSON is YAML).
  const fields = async (kind) => {
    if (!fieldsOf.has(kind))
      fieldsOf.set(kind, await api('GET', `/api/console/fields?kind=${encodeURIComponent(kind)}`));
    return fieldsOf.get(kind);
  };
  const showKind = async () => {
    const kind = kindSelect.value;
    if (editable === null) {
      app.querySelector('#table-note').textContent =
        'The YAML does not parse: fix it in the YAML view to edit the table.';
      mappingsBody.innerHTML = '';
      conditionsBody.innerHTML = '';
      return;
    }
    const described = await fields(kind);
    const own = editable.mappings?.[kind];
    // A kind without its own list maps every field both sides know, both ways.
    const shown =
      own ??
      described.contact
        .filter((field) => !field.custom && described.account.some((other) => other.name === field.name))
        .map((field) => ({ contact: field.name, account: field.name, direction: 'both' }));
    app.querySelector('#table-note').textContent = own
      ? ''
      : `No mappings of its own: every field both sides know, both ways. Editing makes them ${kind}'s own.`;
    mappingsBody.innerHTML = shown.map((mapping) => mappingRow(mapping, described)).join('');
    const filter = editable.filters?.[kind] ?? {};
    conditionsBody.innerHTML = [
      ...(filter.contact ?? []).map((condition) => conditionRow('contact', condition, described)),
      ...(filter.account ?? []).map((condition) => conditionRow('account', condition, described)),
    ].join('');
    if (!isAdmin)
      for (const input of app.querySelectorAll('#table-view select, #table-view input, #table-view textarea'))
        input.disabled = true;
  };
  const writeBack = () => {
    const kind = kindSelect.value;
    editable.mappings = { ...editable.mappings, [kind]: readMappings(mappingsBody) };
    const filter = readFilter(conditionsBody);
    const filters = { ...editable.filters };
    if (Object.keys(filter).length > 0) filters[kind] = filter;
    else delete filters[kind];
    editable.filters = filters;
    yaml.value = JSON.stringify(editable, null, 2);
    changed();
  };
  const tableView = app.querySelector('#table-view');
  tableView.addEventListener('change', (event) => {
    if (event.target === kindSelect) return;
    if (event.target.classList.contains('transform'))
      event.target.closest('tr').querySelector('.region').hidden = event.target.value !== 'phone-e164';
    if (event.target.classList.contains('operator')) {
      const op = event.target.value;
      event.target.closest('tr').querySelector('.list').hidden = op !== 'in' && op !== 'notIn';
    }
    writeBack();
  });
  tableView.addEventListener('click', async (event) => {
    const button = event.target.closest('button');
    if (!button || !isAdmin) return;
    const described = await fields(kindSelect.value);
    if (button.classList.contains('remove')) button.closest('tr').remove();
    else if (button.id === 'add-mapping')
      mappingsBody.insertAdjacentHTML(
        'beforeend',
        mappingRow({ contact: '', account: '', direction: 'both' }, described),
      );
    else if (button.id === 'add-contact-condition')
      conditionsBody.insertAdjacentHTML('beforeend', conditionRow('contact', { field: '', in: [] }, described));
    else if (button.id === 'add-account-condition')
      conditionsBody.insertAdjacentHTML('beforeend', conditionRow('account', { field: '', in: [] }, described));
    else return;
    writeBack();
  });
  // Typing in a value table or list counts at once, not only once the field loses focus.
  tableView.addEventListener('input', (event) => {
    if (event.target.matches('.values, .region, .list')) writeBack();
  });
  kindSelect.addEventListener('change', () => showKind().catch(failed));
  const view = async (which) => {
    const toTable = which === 'table';
    if (toTable) {
      // What the YAML says now becomes the table's.
      const result = await validate();
      editable = result.editable ?? null;
      await showKind();
    }
    tableView.hidden = !toTable;
    app.querySelector('#yaml-view').hidden = toTable;
    app.querySelector('#view-table').setAttribute('aria-selected', String(toTable));
    app.querySelector('#view-yaml').setAttribute('aria-selected', String(!toTable));
  };
  app.querySelector('#view-table').addEventListener('click', () => view('table').catch(failed));
  app.querySelector('#view-yaml').addEventListener('click', () => view('yaml').catch(failed));
  await view('table');

  if (!isAdmin) return;
  yaml.addEventListener('input', changed);
  app.querySelector('#preview').addEventListener('click', async (event) => {
    const text = yaml.value;
    const result = await act(event.target, () => api('POST', '/api/console/config/preview', { yaml: text }));
    if (!result) return;
    app.querySelector('#preview-out').classList.remove('muted');
    app.querySelector('#preview-out').innerHTML = previewHtml(result);
    previewedText = text;
    save.disabled = yaml.value !== previewedText;
  });
  save.addEventListener('click', async () => {
    const comment = app.querySelector('#comment').value.trim();
    const saved = await act(
      save,
      () => api('POST', '/api/console/config', { yaml: yaml.value, ...(comment ? { comment } : {}) }),
      (v) => `Saved and applied as version ${v.version}${RESYNC[v.resync] ?? ''}`,
    );
    if (saved) load().catch(failed);
  });
  for (const button of app.querySelectorAll('.restore')) {
    button.addEventListener('click', async () => {
      const restored = await act(
        button,
        () => api('POST', `/api/console/config/versions/${button.dataset.version}/restore`),
        (v) => `Version ${button.dataset.version} restored as version ${v.version}${RESYNC[v.resync] ?? ''}`,
      );
      if (restored) load().catch(failed);
    });
  }
}

/** What a save says about applying a changed mapping to the relations there are. */
const RESYNC = {
  started: '; a drift sweep is applying it to every relation',
  running: '; a drift sweep is running, the next one applies it to every relation',
  none: '; the next drift sweep applies it to every relation',
};

load().catch(failed);
