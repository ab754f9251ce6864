/** A sandbox's state in a JSON file: read through a schema at start, written whole after every change. */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { z } from 'zod';

/** The state in `file`, parsed by `schema`; undefined without a file or before the first write. */
export function loadState<T>(file: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (file === undefined || !existsSync(file)) return undefined;
  return schema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/**
 * Writes the state to `file` (when there is one; `state` is only asked for then): to a temporary
 * file first, then renamed over, so a crash never leaves half a file.
 */
export function saveState(file: string | undefined, state: () => unknown): void {
  if (file === undefined) return;
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, JSON.stringify(state(), null, 2));
  renameSync(temporary, file);
}
