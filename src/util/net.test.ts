import { settlesWithin } from './net';

describe('settlesWithin', () => {
  it('says whether a promise settled in time, and passes a rejection on', async () => {
    await expect(settlesWithin(Promise.resolve('x'), 1_000)).resolves.toBe(true);
    await expect(settlesWithin(new Promise(() => undefined), 20)).resolves.toBe(false);
    await expect(settlesWithin(Promise.reject(new Error('close failed')), 1_000)).rejects.toThrow('close failed');
  });
});
