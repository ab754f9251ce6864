/**
 * The config sections an operator may change from the console, and how a version of them is
 * merged over the file's config: connectors, credentials, the server and the queue stay the
 * file's; the editable sections come from the YAML in force and are checked by the same schema.
 */
import { isMap, isScalar, LineCounter, parseDocument, stringify, type Node } from 'yaml';
import type { z } from 'zod';
import { configSchema, type ConnectorConfig, type TandemConfig } from './schema';

/** The sections the console edits; everything else is the file's alone. */
export const EDITABLE_SECTIONS = [
  'mappings',
  'filters',
  'relationCodes',
  'templates',
  'matching',
  'automaticContacts',
  'conflicts',
  'persons',
] as const;
/** One editable section's name. */
export type EditableSection = (typeof EDITABLE_SECTIONS)[number];
/** The editable part of a config. */
export type EditableConfig = Pick<TandemConfig, EditableSection>;

/** A problem with editable YAML: the key path (dotted), the reason, and the line when known. */
export interface EditableProblem {
  path: string;
  message: string;
  line?: number;
}

/** The result of merging editable YAML over a config. */
export type MergeResult =
  { ok: true; config: TandemConfig; editable: EditableConfig } | { ok: false; problems: EditableProblem[] };

const EDITABLE = new Set<string>(EDITABLE_SECTIONS);

/** The editable sections of a parsed config. */
export function pickEditable(config: TandemConfig): EditableConfig {
  return Object.fromEntries(EDITABLE_SECTIONS.map((section) => [section, config[section]])) as EditableConfig;
}

/** The editable sections of a config as YAML, in a fixed order. */
export function editableYaml(config: TandemConfig): string {
  return stringify(pickEditable(config));
}

/** How often the YAML may expand an alias: a real config needs a handful, a "billion laughs" millions. */
const MAX_ALIAS_COUNT = 100;

/**
 * Parses editable YAML and merges it over `base`. A section the YAML leaves out takes its
 * default, exactly as a file without it would: a version always states every editable section.
 */
export function mergeEditable(base: TandemConfig, text: string): MergeResult {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const syntax = document.errors[0];
  if (syntax) {
    const line = syntax.linePos?.[0].line ?? (syntax.pos[0] >= 0 ? lines.linePos(syntax.pos[0]).line : undefined);
    return {
      ok: false,
      problems: [
        {
          path: '(yaml)',
          message: `not valid YAML${line ? ` (line ${line})` : ''}: ${syntax.message.split('\n')[0]}`,
          ...(line ? { line } : {}),
        },
      ],
    };
  }
  if (!isMap(document.contents)) {
    return {
      ok: false,
      problems: [
        {
          path: '(top level)',
          message: `must be a mapping of the editable sections (${EDITABLE_SECTIONS.join(', ')})`,
          line: 1,
        },
      ],
    };
  }
  let raw: Record<string, unknown>;
  try {
    raw = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as Record<string, unknown>;
  } catch (error) {
    // An alias bomb ("billion laughs") stops here, before it grows into a value.
    return { ok: false, problems: [{ path: '(yaml)', message: `cannot be read: ${(error as Error).message}` }] };
  }
  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    const node = document.getIn(
      path.map(String).map((key) => (/^\d+$/.test(key) ? Number(key) : key)),
      true,
    ) as Node | undefined;
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : lines.linePos(offset).line;
  };
  const problems: EditableProblem[] = [];
  const contents = document.contents;
  const keyLine = (key: string): number | undefined => {
    const pair = contents.items.find((item) => isScalar(item.key) && String(item.key.value) === key);
    const offset = isScalar(pair?.key) ? pair.key.range[0] : undefined;
    return offset === undefined ? undefined : lines.linePos(offset).line;
  };
  for (const key of Object.keys(raw)) {
    if (EDITABLE.has(key)) continue;
    const line = keyLine(key);
    const message = ['connectors', 'server', 'queue', 'drift'].includes(key)
      ? 'is not editable from the console: change it in the config file'
      : `is not a config section the console edits (editable: ${EDITABLE_SECTIONS.join(', ')})`;
    problems.push({ path: key, message, ...(line ? { line } : {}) });
  }
  if (problems.length > 0) return { ok: false, problems };

  const parsed = configSchema.safeParse({ ...fileSectionsAsInput(base), ...raw });
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => {
        const line = lineOf(issue.path);
        return {
          path: issue.path.length > 0 ? issue.path.join('.') : '(top level)',
          message: issueMessage(issue),
          ...(line ? { line } : {}),
        };
      }),
    };
  }
  return { ok: true, config: parsed.data, editable: pickEditable(parsed.data) };
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key ${issue.keys.map((key) => `'${key}'`).join(', ')}`;
  return issue.message;
}

/**
 * The file's own sections (connectors, server, queue, drift) in the schema's input form, so the merged
 * whole runs through the one schema again: parsed durations go back to text.
 */
export function fileSectionsAsInput(config: TandemConfig): Record<string, unknown> {
  const ms = (value: number) => `${value}ms`;
  const connector = (settings: ConnectorConfig) => ({
    ...settings,
    pollEvery: ms(settings.pollEvery),
    ...(settings.rateLimit ? { rateLimit: { ...settings.rateLimit, per: ms(settings.rateLimit.per) } } : {}),
  });
  return {
    connectors: { crm: connector(config.connectors.crm), accounting: connector(config.connectors.accounting) },
    server: config.server,
    queue: { ...config.queue, backoff: ms(config.queue.backoff), shutdownGrace: ms(config.queue.shutdownGrace) },
    drift: { ...config.drift, every: config.drift.every === null ? null : ms(config.drift.every) },
  };
}

/** JSON with object keys sorted, so equal configs compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );
}

/** True when two configs' editable sections agree. */
export function sameEditable(a: TandemConfig, b: TandemConfig): boolean {
  return canonical(pickEditable(a)) === canonical(pickEditable(b));
}

/** The editable keys that differ, as `section.key` paths (or the section when it is not a mapping). */
export function changedEditableKeys(before: TandemConfig, after: TandemConfig): string[] {
  const changed: string[] = [];
  for (const section of EDITABLE_SECTIONS) {
    const a = before[section] as unknown;
    const b = after[section] as unknown;
    if (canonical(a) === canonical(b)) continue;
    const isRecord = (value: unknown): value is Record<string, unknown> =>
      value !== null && typeof value === 'object' && !Array.isArray(value);
    if (!isRecord(a) || !isRecord(b)) {
      changed.push(section);
      continue;
    }
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (canonical(a[key]) !== canonical(b[key])) changed.push(`${section}.${key}`);
    }
  }
  return changed;
}
