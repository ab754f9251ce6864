import { cronFor } from './poller';

describe('cronFor', () => {
  test.each([
    [1_000, '*/1 * * * * *'],
    [15_000, '*/15 * * * * *'],
    [30_000, '*/30 * * * * *'],
    [60_000, '0 */1 * * * *'],
    [5 * 60_000, '0 */5 * * * *'],
    [30 * 60_000, '0 */30 * * * *'],
    [3_600_000, '0 0 */1 * * *'],
    [6 * 3_600_000, '0 0 */6 * * *'],
  ])('%i ms ticks as %s', (intervalMs, expression) => {
    expect(cronFor(intervalMs)).toBe(expression);
  });

  test.each([7_000, 45_000, 7 * 60_000, 45 * 60_000, 90 * 60_000, 2 * 24 * 3_600_000, 0, 100])(
    '%i ms is refused with a readable reason',
    (intervalMs) => {
      expect(() => cronFor(intervalMs)).toThrow(/must divide a minute/);
    },
  );
});
