/**
 * The one place that decides what a failure means for a job: retried with backoff, rate limited
 * (retried after the provider's wait without using up an attempt), or final.
 */
import { UnrecoverableError } from 'bullmq';
import { ConnectorError, RateLimitedError } from '../../connectors/kit/errors';
import { ChangeRefusedError } from '../app/ports/changes';
import { InvalidInputProblem, NotFoundProblem, UpstreamProblem } from '../app/ports/problems';

/** How a failure is to be handled. */
export type FailureClass =
  { kind: 'rateLimited'; waitMs: number } | { kind: 'final'; reason: string } | { kind: 'retry'; reason: string };

/** Classifies an error thrown while running a job. */
export function classifyFailure(error: unknown): FailureClass {
  if (error instanceof RateLimitedError) return { kind: 'rateLimited', waitMs: error.retryAfterMs };
  // The intake use case's verdict on writes the target refused for good.
  if (error instanceof ChangeRefusedError) return { kind: 'final', reason: error.message };
  // A record that does not exist, or input that is wrong, is the same answer next time.
  if (error instanceof NotFoundProblem || error instanceof InvalidInputProblem)
    return { kind: 'final', reason: `${error.code}: ${error.message}` };
  // A failed call of another system means what the connector's error means.
  if (error instanceof UpstreamProblem && error.cause instanceof ConnectorError) {
    const cause = classifyFailure(error.cause);
    return cause.kind === 'rateLimited' ? cause : { kind: cause.kind, reason: `${error.code}: ${error.message}` };
  }
  if (error instanceof ConnectorError) {
    const reason = `${error.code}: ${error.message}`;
    // A stale etag, a missing record, refused credentials or a rejected payload will fail the
    // same way again: fail the write now, so the planner can re-read and decide afresh.
    if (error.code === 'TRANSIENT') return { kind: 'retry', reason };
    return { kind: 'final', reason };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'retry', reason: message };
}

/** Turns a final failure into BullMQ's UnrecoverableError, keeping the code in the message. */
export function toJobError(error: unknown): Error {
  const failure = classifyFailure(error);
  if (failure.kind === 'final') return new UnrecoverableError(failure.reason);
  if (error instanceof ConnectorError) return new Error(`${error.code}: ${error.message}`);
  return error instanceof Error ? error : new Error(String(error));
}
