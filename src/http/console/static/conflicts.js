// Conflicts: every field both sides changed, both values and times and the winner; one click
// writes the losing value instead (audited like any change).
import { act, api, esc, failed, isAdmin, relationLink, render, show, table, when } from './lib.js';

async function load() {
  const conflicts = await api('GET', '/api/console/conflicts?limit=500');
  const app = render(`<h1>Conflicts</h1>
    <p class="muted">Both sides changed these fields since the last sync; the newer change won. Use the losing value to write it to both sides instead.</p>
    ${table(
      ['When', 'Relation', 'Field', 'Winner', 'Losing value', 'Why', ''],
      conflicts.map((c) => [
        when(c.at),
        c.relationId ? relationLink(c.relationId, c.contactId ?? c.relationId) : esc(c.contactId ?? ''),
        esc(c.field),
        {
          cls: 'value',
          html: `${show(c.winner.value)}<div class="muted">${esc(c.winner.system)} · ${when(c.winner.modifiedAt)}</div>`,
        },
        {
          cls: 'value',
          html: c.losers
            .map((l) => `${show(l.value)}<div class="muted">${esc(l.system)} · ${when(l.modifiedAt)}</div>`)
            .join(''),
        },
        esc(c.reason),
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
    )}`);
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
      if (result) setTimeout(() => load().catch(failed), 1000);
    });
  }
}

load().catch(failed);
