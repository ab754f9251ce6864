import { UnrecoverableError } from 'bullmq';
import {
  AuthFailedError,
  type ConnectorError,
  InvalidRequestError,
  InvalidResponseError,
  NotFoundError,
  PreconditionFailedError,
  RateLimitedError,
  TransientError,
} from '../../connectors/kit/errors';
import { ChangeRefusedError } from '../app/ports/changes';
import { InvalidInputProblem, NotFoundProblem, UpstreamProblem } from '../app/ports/problems';
import { classifyFailure, toJobError } from './failure';

describe('classifyFailure', () => {
  test('a 429 waits as long as the provider asked', () => {
    expect(classifyFailure(new RateLimitedError('slow down', 1500))).toEqual({ kind: 'rateLimited', waitMs: 1500 });
  });

  test('a transient failure and an unexpected error are retried', () => {
    expect(classifyFailure(new TransientError('502', 502))).toEqual({ kind: 'retry', reason: 'TRANSIENT: 502' });
    expect(classifyFailure(new Error('socket hang up'))).toEqual({ kind: 'retry', reason: 'socket hang up' });
    expect(classifyFailure('a string')).toEqual({ kind: 'retry', reason: 'a string' });
  });

  test.each<[ConnectorError, string?]>([
    [new PreconditionFailedError('etag moved'), 'PRECONDITION_FAILED'],
    [new NotFoundError('gone'), 'NOT_FOUND'],
    [new AuthFailedError('token refused', 401), 'AUTH_FAILED'],
    [new InvalidRequestError('bad phone', 400), 'INVALID_REQUEST'],
    [new InvalidResponseError('not a customer')],
  ])('%s is final', (error, code = 'INVALID_RESPONSE') => {
    expect(classifyFailure(error)).toEqual({ kind: 'final', reason: `${code}: ${error.message}` });
  });
});

describe('classifyFailure of the problems an operation reports', () => {
  test('a record that does not exist and input that is wrong are final', () => {
    expect(classifyFailure(new NotFoundProblem('customer x does not exist'))).toEqual({
      kind: 'final',
      reason: 'NOT_FOUND: customer x does not exist',
    });
    expect(classifyFailure(new InvalidInputProblem('accountId', 'not a GUID'))).toMatchObject({ kind: 'final' });
  });

  test("a failed call of another system means what the connector's error means", () => {
    const upstream = (cause: unknown) => new UpstreamProblem('reading customer x: failed', { cause });
    expect(classifyFailure(upstream(new TransientError('502', 502)))).toMatchObject({ kind: 'retry' });
    expect(classifyFailure(upstream(new NotFoundError('gone')))).toEqual({
      kind: 'final',
      reason: 'UPSTREAM_FAILED: reading customer x: failed',
    });
    expect(classifyFailure(upstream(new RateLimitedError('slow down', 900)))).toEqual({
      kind: 'rateLimited',
      waitMs: 900,
    });
    expect(classifyFailure(upstream(new Error('socket hang up')))).toMatchObject({ kind: 'retry' });
  });
});

describe('toJobError', () => {
  test('a final failure becomes an UnrecoverableError keeping the code', () => {
    const error = toJobError(new InvalidRequestError('bad phone', 400));
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error.message).toBe('INVALID_REQUEST: bad phone');
  });

  test('a change the target refused for good becomes an UnrecoverableError with its reason', () => {
    const error = toJobError(new ChangeRefusedError('writes failed: crm contact c1: AUTH_FAILED: token refused'));
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error.message).toBe('writes failed: crm contact c1: AUTH_FAILED: token refused');
  });

  test('a retryable connector error keeps its code but stays retryable', () => {
    const error = toJobError(new TransientError('503', 503));
    expect(error).not.toBeInstanceOf(UnrecoverableError);
    expect(error.message).toBe('TRANSIENT: 503');
  });

  test('other errors pass through', () => {
    const original = new Error('boom');
    expect(toJobError(original)).toBe(original);
    expect(toJobError(42).message).toBe('42');
  });
});
