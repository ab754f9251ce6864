/** The process logger: JSON lines, secrets redacted wherever they appear in a logged object. */
import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type Logger } from 'pino';

/**
 * Paths that may carry credentials; pino replaces their values. A `*` matches one level only, so
 * the places where headers and config sit deeper (an axios error's request config, a printed
 * config's connectors) are listed one by one.
 */
export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  'headers.Authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.headers.cookie',
  '*.*.headers.authorization',
  '*.*.headers.Authorization',
  '*.*.*.headers.authorization',
  '*.*.*.headers.Authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-hubspot-signature-v3"]',
  'req.headers["x-hubspot-signature"]',
  'token',
  '*.token',
  'clientSecret',
  '*.clientSecret',
  'client_secret',
  '*.client_secret',
  'webhookSecret',
  '*.webhookSecret',
  'webhookClientState',
  '*.webhookClientState',
  'credentials',
  '*.credentials',
  'connectors.*.credentials',
  '*.connectors.*.credentials',
  'access_token',
  '*.access_token',
];

/**
 * Secrets inside free text (an error message quoting a header, a URL with a token) are beyond
 * path redaction; these patterns are replaced in every line before it is written.
 */
const SECRET_PATTERNS: Array<[RegExp, string]> = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/gi, '$1 [redacted]'],
  // HubSpot private-app tokens: pat-<region>-<uuid>.
  [/\bpat-[a-z]{2,4}\d?-[0-9a-f-]{8,}/gi, '[redacted]'],
  [/\b(client_secret|access_token|refresh_token)=[^&\s"]+/gi, '$1=[redacted]'],
];

/** Replaces secrets found in free text. */
export function scrubSecrets(line: string): string {
  let scrubbed = line;
  for (const [pattern, replacement] of SECRET_PATTERNS) scrubbed = scrubbed.replace(pattern, replacement);
  return scrubbed;
}

/**
 * The request id of the webhook call a job descends from, for code that runs inside the job but
 * builds its own payloads (the write jobs a plan enqueues). Set by the intake worker.
 */
export const requestContext = new AsyncLocalStorage<{ requestId?: string }>();

/** The request id of the job running in this async context, if any. */
export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}

/** Creates the logger; LOG_LEVEL sets the level (default info, silent in tests). */
export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? (process.env.JEST_WORKER_ID ? 'silent' : 'info');
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { service: 'tandem' },
      hooks: { streamWrite: scrubSecrets },
    },
    options.destination,
  );
}
