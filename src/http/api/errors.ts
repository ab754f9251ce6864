/**
 * How failures become HTTP answers: a Problem keeps its status and code, bad input names the field
 * and the reason, an unreachable store is a 503 with Retry-After (the call may simply be made
 * again), anything else is a 500 without details (they go to the log with the request id).
 */
import type { z } from 'zod';
import { Problem } from '../../app/ports/problems';
import { storeUnavailableIn } from '../../app/ports/store';

/** A request part that failed its schema. */
export class InvalidRequestError extends Error {
  readonly code = 'INVALID_INPUT';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'InvalidRequestError';
  }
}

/** The first issue of a failed parse, as `field` (`body.accountKind`) and `reason`. */
export function invalidRequest(
  location: 'params' | 'query' | 'body' | 'headers',
  error: z.ZodError,
): InvalidRequestError {
  const issue = error.issues[0];
  if (!issue) return new InvalidRequestError(location, 'invalid');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const path = [...issue.path, key].map(String).join('.');
    return new InvalidRequestError(
      `${location}.${path}`,
      location === 'query' ? 'unknown query parameter' : 'unknown field',
    );
  }
  const path = issue.path.map(String).join('.');
  return new InvalidRequestError(path ? `${location}.${path}` : location, issue.message);
}

/** An error body. */
export interface ProblemBody {
  error: string;
  message?: string;
  field?: string;
  reason?: string;
  requestId?: string;
}

/** The status, body and extra headers an error is answered with; `log` is true for the unexpected ones. */
export function problemReply(
  error: unknown,
  requestId: string,
): { status: number; body: ProblemBody; log: boolean; headers?: Record<string, string> } {
  const unavailable = storeUnavailableIn(error);
  if (unavailable) {
    return {
      status: 503,
      body: { error: unavailable.code, message: unavailable.message, requestId },
      headers: { 'Retry-After': String(unavailable.retryAfterSeconds) },
      log: false,
    };
  }
  if (error instanceof Problem) {
    const detail = error as Problem & { field?: string; reason?: string };
    return {
      status: error.status,
      body: {
        error: error.code,
        message: error.message,
        ...(detail.field ? { field: detail.field, reason: detail.reason } : {}),
      },
      log: false,
    };
  }
  if (error instanceof InvalidRequestError) {
    return {
      status: 400,
      body: { error: error.code, message: error.message, field: error.field, reason: error.reason },
      log: false,
    };
  }
  // Fastify's own client errors: unparseable JSON, a body too large, an unsupported content type.
  const statusCode = (error as { statusCode?: unknown }).statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const reason = (error as Error).message;
    return statusCode === 400
      ? { status: 400, body: { error: 'INVALID_INPUT', message: `body: ${reason}`, field: 'body', reason }, log: false }
      : {
          status: statusCode,
          body: { error: (error as { code?: string }).code ?? 'BAD_REQUEST', message: reason },
          log: false,
        };
  }
  return {
    status: 500,
    body: { error: 'INTERNAL', message: 'an unexpected error; the server log has the details', requestId },
    log: true,
  };
}
