// Mapping editor: the editable config as YAML, checked against the file's schema while typing; a
// preview (dry run) before saving; stored versions that can be restored.
import { act, api, esc, failed, isAdmin, render, show, table, when } from './lib.js';

let previewedText = null;

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
    <div class="editor">
      <section>
        <label for="yaml" class="muted">Mappings, directions, relation codes, templates, match rules (YAML, same schema as the file)</label>
        <textarea id="yaml" spellcheck="false" ${isAdmin ? '' : 'readonly'}>${esc(state.yaml)}</textarea>
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
  if (!isAdmin) return;
  const yaml = app.querySelector('#yaml');
  const problems = app.querySelector('#problems');
  const save = app.querySelector('#save');
  let timer;
  let sequence = 0;
  const validate = async () => {
    const mine = ++sequence;
    const result = await api('POST', '/api/console/config/validate', { yaml: yaml.value }).catch((error) => ({
      problems: [{ path: '', message: error.message }],
    }));
    if (mine !== sequence) return;
    problems.innerHTML = result.problems.length
      ? `<ul class="problems">${result.problems.map((p) => `<li><code>${esc(p.path || '(root)')}</code>: ${esc(p.message)}</li>`).join('')}</ul>`
      : '<p class="valid">Valid</p>';
    problems.dataset.valid = String(result.problems.length === 0);
  };
  yaml.addEventListener('input', () => {
    save.disabled = true;
    previewedText = null;
    clearTimeout(timer);
    timer = setTimeout(validate, 250);
  });
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
      (v) => `Saved and applied as version ${v.version}`,
    );
    if (saved) load().catch(failed);
  });
  for (const button of app.querySelectorAll('.restore')) {
    button.addEventListener('click', async () => {
      const restored = await act(
        button,
        () => api('POST', `/api/console/config/versions/${button.dataset.version}/restore`),
        (v) => `Version ${button.dataset.version} restored as version ${v.version}`,
      );
      if (restored) load().catch(failed);
    });
  }
  validate();
}

load().catch(failed);
