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
