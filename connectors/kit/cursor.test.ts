import { InvalidRequestError } from './errors';
import { cursorAfterPage, isAfterCursor, parseTimeCursor } from './cursor';

describe('time cursors', () => {
  it('reads a saved cursor as ISO 8601, null and empty as the beginning, anything else as a refused cursor', () => {
    expect(parseTimeCursor('2024-05-01T00:00:00Z', 'accounting')).toBe('2024-05-01T00:00:00.000Z');
    expect(parseTimeCursor(null, 'accounting')).toBeNull();
    expect(parseTimeCursor('', 'accounting')).toBeNull();
    expect(() => parseTimeCursor('yesterday', 'accounting')).toThrow(
      new InvalidRequestError('accounting: unexpected cursor (not a date: yesterday)'),
    );
  });

  it('drops what is not later than the cursor', () => {
    expect(isAfterCursor('2024-05-01T00:00:00.001Z', '2024-05-01T00:00:00.000Z')).toBe(true);
    expect(isAfterCursor('2024-05-01T00:00:00.000Z', '2024-05-01T00:00:00.000Z')).toBe(false);
    expect(isAfterCursor(null, '2024-05-01T00:00:00.000Z')).toBe(false);
    expect(isAfterCursor(undefined, null)).toBe(true);
  });

  it('moves to the latest time of a last page, and 1 ms below it on an earlier page', () => {
    const times = ['2024-05-02T10:00:00.000Z', null, '2024-05-02T10:00:05.000Z'];
    expect(cursorAfterPage(times, null, true)).toBe('2024-05-02T10:00:05.000Z');
    expect(cursorAfterPage(times, '2024-05-01T00:00:00.000Z', false)).toBe('2024-05-02T10:00:04.999Z');
  });

  it('never moves back, and stays put on a page without times', () => {
    expect(cursorAfterPage(['2024-05-02T10:00:00.000Z'], '2024-06-01T00:00:00.000Z', true)).toBe(
      '2024-06-01T00:00:00.000Z',
    );
    expect(cursorAfterPage([], '2024-06-01T00:00:00.000Z', true)).toBe('2024-06-01T00:00:00.000Z');
    expect(cursorAfterPage([undefined], null, false)).toBeNull();
  });
});
