/** The exit codes of `tandem`, which scripts rely on, and the errors that lead to them. */

/** Exit codes. */
export const EXIT = {
  ok: 0,
  /** Anything unexpected (a 500 from the daemon, an answer not in the documented shape, a bug). */
  failure: 1,
  /** Bad usage, an invalid config, or input the daemon refused (400). */
  usage: 2,
  /** Redis unreachable (start), or the daemon unreachable (every other command). */
  unreachable: 3,
  /** An unknown contact, account, relation or document (404). */
  notFound: 4,
  /** The operation conflicts with the current state (409). */
  conflict: 5,
  /** No token, a wrong token, or a viewer token for a change (401, 403). */
  unauthorized: 6,
  /** The CRM or the accounting system failed the operation (502). */
  upstream: 7,
} as const;

/** The exit code for an HTTP error status of the admin API. */
export function exitCodeForStatus(status: number): number {
  if (status === 400 || status === 413 || status === 415 || status === 422) return EXIT.usage;
  if (status === 401 || status === 403) return EXIT.unauthorized;
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  if (status === 502 || status === 503 || status === 504) return EXIT.upstream;
  return EXIT.failure;
}

/** The command line itself is wrong. */
export class UsageError extends Error {
  readonly code = 'USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
