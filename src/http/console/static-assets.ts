/**
 * The console's stylesheet and page modules, read once from src/http/console/static. The build
 * copies nothing: compiled code (dist/src/http/console) finds them in the source tree.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** One file served under /ui/static. */
export interface StaticAsset {
  type: string;
  body: Buffer;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Where the files are: next to this module when run from source, else in the source tree beside dist. */
export function staticDir(moduleDir = __dirname): string {
  const candidates = [path.join(moduleDir, 'static'), path.resolve(moduleDir, '../../../../src/http/console/static')];
  const found = candidates.find((candidate) => existsSync(path.join(candidate, 'console.css')));
  if (!found) throw new Error(`the console's static files are missing; looked in ${candidates.join(' and ')}`);
  return found;
}

/** Every servable file by name; names outside this map are never read from disk. */
export function loadStaticAssets(dir = staticDir()): Map<string, StaticAsset> {
  const assets = new Map<string, StaticAsset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[path.extname(name)];
    if (!type) continue;
    const body = readFileSync(path.join(dir, name));
    assets.set(name, { type, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  return assets;
}
