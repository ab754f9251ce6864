/**
 * The failures an operation reports to its caller as they are: the admin API and the console
 * answer them with their HTTP status and stable code, the CLI maps them to exit codes.
 */

/** The base of every failure an API caller should see as it is. `status` is the HTTP status. */
export abstract class Problem extends Error {
  abstract readonly status: 400 | 404 | 409 | 422 | 502;
  abstract readonly code: string;
}

/** Bad input: names the field and the reason. */
export class InvalidInputProblem extends Problem {
  readonly status = 400;
  readonly code = 'INVALID_INPUT';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'InvalidInputProblem';
  }
}

/** An unknown contact, account, relation or document. */
export class NotFoundProblem extends Problem {
  readonly status = 404;
  readonly code = 'NOT_FOUND';
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundProblem';
  }
}

/** The operation conflicts with the current state: says why. */
export class ConflictProblem extends Problem {
  readonly status = 409;
  constructor(
    readonly code:
      | 'RELATION_EXISTS'
      | 'ACCOUNT_LINKED'
      | 'RELATION_CODE_MISSING'
      | 'NO_RELATION'
      | 'PERSON_CONTACT'
      | 'IN_PROGRESS'
      | 'NOT_SUPPORTED'
      | 'TEMPLATE_MISSING'
      | 'FILTERED',
    message: string,
  ) {
    super(message);
    this.name = 'ConflictProblem';
  }
}

/** The other system refused or failed the operation. */
export class UpstreamProblem extends Problem {
  readonly status = 502;
  readonly code = 'UPSTREAM_FAILED';
  /** `cause`: the connector's error, which tells whether trying again can help. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpstreamProblem';
  }
}

/** An idempotency key sent again with another request: it stays bound to the one it was first used for. */
export class IdempotencyKeyReusedProblem extends Problem {
  readonly status = 422;
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  constructor(key: string, operation: string) {
    super(
      `idempotency key ${key} was first used for another ${operation} request (other records, template or values); send a new key for a new request`,
    );
    this.name = 'IdempotencyKeyReusedProblem';
  }
}
