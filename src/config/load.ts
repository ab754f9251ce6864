/**
 * Loads config/tandem.yaml: resolves `${VAR}` references from the environment, applies
 * `TANDEM_*` overrides, and parses the result with the schema. Every problem is reported in one
 * readable message naming the file, the key path and the reason.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { CONNECTORS } from '../../connectors';
import { configSchema, type TandemConfig } from './schema';

/** Keys whose values are secrets, as the connectors declare them: the file may only reference them from the environment. */
const SECRET_KEYS = new Set(CONNECTORS.flatMap((kind) => kind.secrets));
const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE_SECRET_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

/** A config that cannot be used; `message` is meant to be printed as it is. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file} is not valid:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Reads and validates a config file. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): TandemConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [`cannot be read: ${(error as Error).message}`]);
  }
  return parseConfigText(text, file, env);
}

/** Validates config text; `file` is only used in messages. */
export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env): TandemConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? ` (line ${error.linePos[0].line})` : '';
    throw new ConfigError(file, [`is not valid YAML${where}: ${(error as Error).message.split('\n')[0]}`]);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(file, ['must be a YAML mapping with a `connectors` key']);
  }
  const problems: string[] = [];
  const resolved = resolveReferences(raw as Json, [], env, problems);
  applyOverrides(resolved as { [key: string]: Json }, env, problems);
  if (problems.length > 0) throw new ConfigError(file, problems);
  const parsed = configSchema.safeParse(resolved);
  if (!parsed.success) throw new ConfigError(file, formatIssues(parsed.error));
  return parsed.data;
}

/** One line per zod issue: `connectors.crm.baseUrl: Invalid URL`. */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    if (issue.code === 'unrecognized_keys')
      return `${path}: unknown key ${issue.keys.map((key) => `'${key}'`).join(', ')}`;
    return `${path}: ${issue.message}`;
  });
}

function resolveReferences(value: Json, path: string[], env: NodeJS.ProcessEnv, problems: string[]): Json {
  if (Array.isArray(value))
    return value.map((item, index) => resolveReferences(item, [...path, String(index)], env, problems));
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const [key, child] of Object.entries(value))
      out[key] = resolveReferences(child, [...path, key], env, problems);
    return out;
  }
  if (typeof value !== 'string') {
    if (SECRET_KEYS.has(path[path.length - 1] ?? '') && value !== null) {
      problems.push(`${path.join('.')}: secrets come from the environment only: write \${SOME_VARIABLE}`);
    }
    return value;
  }
  const key = path[path.length - 1] ?? '';
  if (SECRET_KEYS.has(key) && !WHOLE_SECRET_REFERENCE.test(value.trim())) {
    problems.push(`${path.join('.')}: secrets come from the environment only: write \${SOME_VARIABLE}, not the value`);
    return value;
  }
  return value.replace(ENV_REFERENCE, (_match, name: string, fallback: string | undefined) => {
    const found = env[name];
    if (found !== undefined && found !== '') return found;
    if (fallback !== undefined) return fallback;
    problems.push(`${path.join('.')}: environment variable ${name} is not set`);
    return '';
  });
}

/**
 * `TANDEM_SERVER__PORT=9090` sets server.port: the prefix, then the key path with `__` between
 * keys; keys match case-insensitively and ignore `_`, so `BASE_URL` finds `baseUrl`. A name
 * without `__` (`TANDEM_CONFIG`) is a setting of the process, not an override. Values stay text:
 * the schema converts them where it expects a number or boolean, so `CLIENT_ID=12345` stays a
 * string.
 */
function applyOverrides(root: { [key: string]: Json }, env: NodeJS.ProcessEnv, problems: string[]): void {
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('TANDEM_') || value === undefined) continue;
    const segments = name.slice('TANDEM_'.length).split('__').filter(Boolean);
    if (segments.length < 2) continue;
    let node: { [key: string]: Json } = root;
    const path: string[] = [];
    for (const [index, segment] of segments.entries()) {
      const existing = Object.keys(node).find((key) => normalizeKey(key) === normalizeKey(segment));
      const key = existing ?? toCamel(segment);
      path.push(key);
      if (index === segments.length - 1) {
        node[key] = value;
        break;
      }
      const child = node[key];
      if (child === undefined) node[key] = {};
      else if (child === null || typeof child !== 'object' || Array.isArray(child)) {
        problems.push(`${name}: ${path.join('.')} is not a section that can hold keys`);
        break;
      }
      node = node[key] as { [key: string]: Json };
    }
  }
}

function normalizeKey(key: string): string {
  return key.replace(/_/g, '').toLowerCase();
}

function toCamel(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_m, letter: string) => letter.toUpperCase());
}
