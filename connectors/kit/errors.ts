/**
 * Errors every connector throws, each with a stable `code`. The worker adapter is the one place
 * that decides what is retried and how (see src/queue/failure.ts).
 */

/** The codes a connector error can carry. */
export type ConnectorErrorCode =
  | 'RATE_LIMITED'
  | 'PRECONDITION_FAILED'
  | 'NOT_FOUND'
  | 'AUTH_FAILED'
  | 'TRANSIENT'
  | 'INVALID_REQUEST'
  | 'INVALID_RESPONSE';

/** Base class of every error a connector raises on purpose. */
export class ConnectorError extends Error {
  constructor(
    readonly code: ConnectorErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** HTTP 429 (or a provider's own throttle signal): try again after `retryAfterMs`. */
export class RateLimitedError extends ConnectorError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super('RATE_LIMITED', message, 429);
  }
}

/** The record changed since it was read (HTTP 412 on If-Match): re-read and re-plan. */
export class PreconditionFailedError extends ConnectorError {
  constructor(message: string) {
    super('PRECONDITION_FAILED', message, 412);
  }
}

/** The record does not exist (any more). */
export class NotFoundError extends ConnectorError {
  constructor(message: string) {
    super('NOT_FOUND', message, 404);
  }
}

/** Credentials were refused; retrying will not help until they are fixed. */
export class AuthFailedError extends ConnectorError {
  constructor(message: string, status?: number) {
    super('AUTH_FAILED', message, status);
  }
}

/** A 5xx or network failure that outlived the client's own retries. */
export class TransientError extends ConnectorError {
  constructor(message: string, status?: number) {
    super('TRANSIENT', message, status);
  }
}

/** The provider rejected the request as malformed (4xx other than the above). */
export class InvalidRequestError extends ConnectorError {
  constructor(message: string, status?: number) {
    super('INVALID_REQUEST', message, status);
  }
}

/** An id that cannot name a record of the provider (not its format): refused before any call. */
export class InvalidIdError extends InvalidRequestError {
  constructor(
    readonly connector: string,
    readonly entity: string,
    readonly id: string,
    readonly means: string,
  ) {
    super(`${connector}: '${id}' is not ${means}`);
  }
}

/** The provider answered with something its documented schema does not allow. */
export class InvalidResponseError extends ConnectorError {
  constructor(message: string) {
    super('INVALID_RESPONSE', message);
  }
}

/** A connector was asked for an entity it does not serve (a CRM for customers, say). */
export class EntityNotServedError extends InvalidRequestError {
  constructor(connector: string, entity: string, served: readonly string[]) {
    super(`${connector}: entity '${entity}' is not served (it serves ${served.join(', ')})`);
  }
}

/** The value, or null when the provider says the record does not exist (any more). */
export async function orNullIfNotFound<T>(pending: Promise<T>): Promise<T | null> {
  try {
    return await pending;
  } catch (error) {
    if (error instanceof NotFoundError) return null;
    throw error;
  }
}
