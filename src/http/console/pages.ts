/**
 * The console's page shells: a top nav, a main element the page's module fills, and the access
 * level on the body so the module can hide actions a viewer may not take.
 */
import type { AccessLevel } from '../auth';

/** One page of the console. */
export interface ConsolePage {
  /** Fastify syntax, under /ui. */
  path: string;
  title: string;
  /** The module under /ui/static that fills the page. */
  script: string;
  /** The nav entry it belongs to. */
  nav: string;
}

/** Every page (Bull Board, at /ui/queues, brings its own). */
export const CONSOLE_PAGES: readonly ConsolePage[] = [
  { path: '/ui', title: 'Overview', script: 'overview.js', nav: '/ui' },
  { path: '/ui/relations', title: 'Relations', script: 'relations.js', nav: '/ui/relations' },
  { path: '/ui/relations/:id', title: 'Relation', script: 'relation.js', nav: '/ui/relations' },
  { path: '/ui/matches', title: 'Matching review', script: 'matches.js', nav: '/ui/matches' },
  { path: '/ui/conflicts', title: 'Conflicts', script: 'conflicts.js', nav: '/ui/conflicts' },
  { path: '/ui/config', title: 'Mapping editor', script: 'config.js', nav: '/ui/config' },
  { path: '/ui/audit', title: 'Audit log', script: 'audit.js', nav: '/ui/audit' },
];

const NAV: ReadonlyArray<[string, string]> = [
  ['/ui', 'Overview'],
  ['/ui/relations', 'Relations'],
  ['/ui/matches', 'Matching'],
  ['/ui/conflicts', 'Conflicts'],
  ['/ui/config', 'Mapping'],
  ['/ui/audit', 'Audit log'],
  ['/ui/queues', 'Queues'],
];

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function shell(title: string, body: string, bodyAttributes = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · tandem</title>
<link rel="stylesheet" href="/ui/static/console.css">
</head>
<body${bodyAttributes}>
${body}
</body>
</html>
`;
}

/** A page for a signed-in user. */
export function pageHtml(page: ConsolePage, level: AccessLevel): string {
  const links = NAV.map(
    ([href, label]) => `<a href="${href}"${href === page.nav ? ' aria-current="page"' : ''}>${label}</a>`,
  ).join('');
  return shell(
    page.title,
    `<header class="top">
  <a class="brand" href="/ui">tandem</a>
  <nav>${links}</nav>
  <span class="who"><span class="badge ${level}">${level}</span><button type="button" id="logout" class="link">Sign out</button></span>
</header>
<main id="app" aria-busy="true"><h1>${escapeHtml(page.title)}</h1><p class="muted">Loading…</p></main>
<div id="toast" role="status" aria-live="polite"></div>
<script type="module" src="/ui/static/${page.script}"></script>`,
    ` data-level="${level}"`,
  );
}

/** The sign-in form; works as a plain form post, the script only keeps the token out of history. */
export function loginPage(options: { next: string; error?: string }): string {
  return shell(
    'Sign in',
    `<main class="login">
  <form method="post" action="/ui/login" id="login-form" class="card">
    <h1>tandem console</h1>
    <p class="muted">Sign in with an admin or viewer token (TANDEM_ADMIN_TOKENS / TANDEM_VIEWER_TOKENS).</p>
    <label for="token">Token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
    <input type="hidden" name="next" value="${escapeHtml(options.next)}">
    <p class="error" id="login-error"${options.error ? '' : ' hidden'}>${escapeHtml(options.error ?? '')}</p>
    <button type="submit" class="primary">Sign in</button>
  </form>
</main>
<script type="module" src="/ui/static/login.js"></script>`,
  );
}
