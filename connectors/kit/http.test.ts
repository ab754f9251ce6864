import {
  AuthFailedError,
  InvalidRequestError,
  NotFoundError,
  PreconditionFailedError,
  RateLimitedError,
  TransientError,
} from './errors';
import nock from 'nock';
import { errorForStatus, HttpClient, parseRetryAfter } from './http';
import type { Limiter } from './limiter';

describe('errorForStatus', () => {
  it('names each failed status the way the queue decides on it', () => {
    expect(errorForStatus(401, 'm')).toBeInstanceOf(AuthFailedError);
    expect(errorForStatus(403, 'm')).toBeInstanceOf(AuthFailedError);
    expect(errorForStatus(404, 'm')).toBeInstanceOf(NotFoundError);
    expect(errorForStatus(410, 'm')).toBeInstanceOf(NotFoundError);
    expect(errorForStatus(412, 'm')).toBeInstanceOf(PreconditionFailedError);
    expect(errorForStatus(400, 'm')).toMatchObject({ code: 'INVALID_REQUEST', status: 400 });
    expect(errorForStatus(422, 'm')).toBeInstanceOf(InvalidRequestError);
    expect(errorForStatus(503, 'm')).toMatchObject({ code: 'TRANSIENT', status: 503 });
    expect(errorForStatus(500, 'm')).toBeInstanceOf(TransientError);
  });

  it('waits a 429 out for its Retry-After, at least one second', () => {
    const limited = errorForStatus(429, 'erp: GET /x answered 429', '30');
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect(limited).toMatchObject({ retryAfterMs: 30_000, message: 'erp: GET /x answered 429 (rate limited)' });
    expect(errorForStatus(429, 'm', '0')).toMatchObject({ retryAfterMs: 1000 });
    expect(errorForStatus(429, 'm')).toMatchObject({ retryAfterMs: 1000 });
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds or an HTTP date, and one second when there is none', () => {
    const now = Date.parse('2024-05-01T00:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('Wed, 01 May 2024 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter(undefined, now)).toBe(1000);
    expect(parseRetryAfter('soon', now)).toBe(1000);
  });
});

describe('HttpClient and its limiter', () => {
  afterEach(() => nock.cleanAll());

  it('tells the limiter of a 429’s Retry-After, so every other call waits as well', async () => {
    nock('https://erp.example').get('/x').reply(429, {}, { 'Retry-After': '0' }).get('/x').reply(200, { ok: true });
    const pauses: number[] = [];
    const limiter: Limiter = { run: (call) => call(), observe: () => undefined, pause: (ms) => void pauses.push(ms) };
    const client = new HttpClient({ connector: 'erp', baseURL: 'https://erp.example', limiter });
    expect((await client.request({ url: '/x' })).data).toEqual({ ok: true });
    expect(pauses).toEqual([0]);
  });
});
