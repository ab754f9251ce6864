import { cursorAfterPage } from './client';

describe('cursorAfterPage', () => {
  const at = (...times: string[]) => times.map((lastModifiedDateTime) => ({ lastModifiedDateTime }));
  it('keeps the previous cursor when a page holds a single timestamp and more pages follow', () => {
    expect(cursorAfterPage(at('2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z'), '2023-12-31T00:00:00.000Z', false)).toBe(
      '2023-12-31T00:00:00.000Z',
    );
  });
  it('never moves backwards', () => {
    expect(cursorAfterPage(at('2024-01-01T00:00:00Z'), '2024-02-01T00:00:00.000Z', true)).toBe(
      '2024-02-01T00:00:00.000Z',
    );
  });
});
