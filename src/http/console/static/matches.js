// Matching review: proposed pairs with score and rule, ambiguous candidates side by side; accept or
// reject each, or accept every unambiguous pair at once.
import { act, api, esc, failed, isAdmin, render, show, table } from './lib.js';

const pairKey = (p) => `${p.contactId}|${p.accountKind}|${p.accountId}`;
const buttons = (p) =>
  isAdmin
    ? `<span class="actions"><button class="accept primary" data-pair="${esc(pairKey(p))}">Accept</button><button class="reject" data-pair="${esc(pairKey(p))}">Reject</button></span>`
    : '';
const pairRow = (p) => [
  `${show(p.contactName)}<div class="muted mono">${esc(p.contactId)}</div>`,
  `${show(p.accountName)}<div class="muted mono">${esc(p.accountId)}</div>`,
  esc(p.accountKind),
  { cls: 'num', html: String(p.score) },
  esc(p.rule),
  buttons(p),
];

async function load() {
  const proposal = await api('GET', '/api/matches');
  const pairs = new Map();
  for (const p of [...proposal.pairs, ...proposal.review.flatMap((r) => r.candidates)]) pairs.set(pairKey(p), p);
  const app = render(`<h1>Matching review</h1>
    <div class="toolbar"><span class="muted">${proposal.pairs.length} unambiguous pair(s), ${proposal.review.length} to review. Nothing is linked until accepted.</span>
      <button id="accept-all" class="primary admin-only" ${proposal.pairs.length ? '' : 'disabled'}>Accept all unambiguous</button></div>
    <h2>Unambiguous pairs</h2>
    ${table(['Contact', 'Account', 'Kind', '#Score', 'Rule', ''], proposal.pairs.map(pairRow), 'No proposals.')}
    <h2>Ambiguous</h2>
    ${proposal.review.length ? proposal.review.map((r) => `<section class="card stacked"><p><b>${esc(r.reason)}</b></p>${table(['Contact', 'Account', 'Kind', '#Score', 'Rule', ''], r.candidates.map(pairRow))}</section>`).join('') : '<p class="muted">Nothing ambiguous.</p>'}`);
  if (!isAdmin) return;
  app.querySelector('#accept-all').addEventListener('click', (event) =>
    act(
      event.target,
      () => api('POST', '/api/matches/apply', {}),
      (res) => `${res.linked.length} linked, ${res.failed.length} failed`,
    ).then(() => load().catch(failed)),
  );
  for (const button of app.querySelectorAll('.accept, .reject')) {
    button.addEventListener('click', async () => {
      const p = pairs.get(button.dataset.pair);
      const body = { contactId: p.contactId, accountKind: p.accountKind, accountId: p.accountId };
      const accept = button.classList.contains('accept');
      const result = await act(
        button,
        () => (accept ? api('POST', '/api/relations', body) : api('POST', '/api/console/matches/reject', body)),
        accept ? 'Linked' : 'Rejected; it will not be proposed again',
      );
      if (result !== undefined) load().catch(failed);
    });
  }
}

load().catch(failed);
