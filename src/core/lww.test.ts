import { lastWriterWins, type Candidate, type ConflictReason } from './lww';
import type { System } from './model';

const EARLY = '2024-03-01T09:00:00.000Z';
const LATE = '2024-03-01T10:00:00.000Z';

const crm = (value: string | null, modifiedAt: string): Candidate => ({ system: 'crm', value, modifiedAt });
const account = (relationId: string, rank: number, value: string | null, modifiedAt: string): Candidate => ({
  system: 'accounting',
  relationId,
  rank,
  value,
  modifiedAt,
});

describe('lastWriterWins', () => {
  const CRM_FIRST: System[] = ['crm', 'accounting'];
  const ACCOUNTING_FIRST: System[] = ['accounting', 'crm'];

  it.each<
    [
      string,
      Candidate[],
      System[],
      { value: string | null; system: System; relationId?: string; reason?: ConflictReason },
    ]
  >([
    [
      'the newer CRM value beats an older account value',
      [crm('a', LATE), account('r1', 0, 'b', EARLY)],
      CRM_FIRST,
      { value: 'a', system: 'crm', reason: 'newer' },
    ],
    [
      'the newer account value beats an older CRM value',
      [crm('a', EARLY), account('r1', 0, 'b', LATE)],
      CRM_FIRST,
      { value: 'b', system: 'accounting', relationId: 'r1', reason: 'newer' },
    ],
    [
      'newer wins even against the tie-break order',
      [crm('a', LATE), account('r1', 0, 'b', EARLY)],
      ACCOUNTING_FIRST,
      { value: 'a', system: 'crm', reason: 'newer' },
    ],
    [
      'a tie goes to the CRM with [crm, accounting]',
      [account('r1', 0, 'b', LATE), crm('a', LATE)],
      CRM_FIRST,
      { value: 'a', system: 'crm', reason: 'tieBreak' },
    ],
    [
      'a tie goes to accounting with [accounting, crm]',
      [crm('a', LATE), account('r1', 0, 'b', LATE)],
      ACCOUNTING_FIRST,
      { value: 'b', system: 'accounting', relationId: 'r1', reason: 'tieBreak' },
    ],
    [
      'a tie among accounts goes to the lower rank (customer before vendor)',
      [account('vendor', 1, 'v', LATE), account('customer', 0, 'c', LATE)],
      CRM_FIRST,
      { value: 'c', system: 'accounting', relationId: 'customer', reason: 'tieBreak' },
    ],
    [
      'a tie among accounts goes to the vendor before the bank account',
      [account('bank', 2, 'k', LATE), account('vendor', 1, 'v', LATE)],
      CRM_FIRST,
      { value: 'v', system: 'accounting', relationId: 'vendor', reason: 'tieBreak' },
    ],
    [
      'times compare as instants, not as text',
      [crm('a', '2024-03-01T11:30:00+02:00'), account('r1', 0, 'b', '2024-03-01T09:45:00Z')],
      CRM_FIRST,
      { value: 'b', system: 'accounting', relationId: 'r1', reason: 'newer' },
    ],
    [
      'an emptied field can win',
      [crm(null, LATE), account('r1', 0, 'b', EARLY)],
      CRM_FIRST,
      { value: null, system: 'crm', reason: 'newer' },
    ],
  ])('%s', (_name, candidates, tieBreak, expected) => {
    const { winner, conflict } = lastWriterWins(candidates, tieBreak);
    expect(winner.value).toBe(expected.value);
    expect(winner.system).toBe(expected.system);
    expect(winner.relationId).toBe(expected.relationId);
    expect(conflict?.reason).toBe(expected.reason);
    expect(conflict?.candidates).toHaveLength(candidates.length);
    expect(conflict?.candidates[0]).toBe(winner);
  });

  it('reports no conflict when every candidate has the same value', () => {
    const result = lastWriterWins([crm('same', EARLY), account('r1', 0, 'same', LATE)], CRM_FIRST);
    expect(result.conflict).toBeUndefined();
    expect(result.winner.value).toBe('same');
  });

  it('judges the reason against the best disagreeing candidate, not the runner-up that agrees', () => {
    // The customer agrees with the CRM at the same time; the vendor disagrees but is older.
    const result = lastWriterWins(
      [crm('a', LATE), account('customer', 0, 'a', LATE), account('vendor', 1, 'b', EARLY)],
      CRM_FIRST,
    );
    expect(result.winner.system).toBe('crm');
    expect(result.conflict?.reason).toBe('newer');
  });

  it('does not reorder the caller’s array', () => {
    const candidates = [account('r1', 0, 'b', EARLY), crm('a', LATE)];
    lastWriterWins(candidates, CRM_FIRST);
    expect(candidates.map((candidate) => candidate.system)).toEqual(['accounting', 'crm']);
  });

  describe('a side whose time is the end of a window it shares with other fields', () => {
    const BEFORE = '2024-03-01T08:00:00.000Z';
    const EARLY_IN_WINDOW = '2024-03-01T08:30:00.000Z';
    const LATE_IN_WINDOW = '2024-03-01T09:30:00.000Z';
    // The vendor's field changed somewhere between `since` and LATE, with other fields of its record.
    const shared = (since: string | null, among?: number, alone = false): Candidate => ({
      ...account('vendor', 0, 'b', LATE),
      window: { since, shared: !alone, ...(among !== undefined && { among }) },
    });

    it.each([
      // Two fields: one changed at the end, so this one did with a chance of 1/2: weighed at the end.
      [
        'of two fields reaches back over an exact time: the window wins, uncertain',
        shared(BEFORE, 2),
        LATE_IN_WINDOW,
        'b',
        'uncertain',
      ],
      ['of unknown fields counts as two', shared(BEFORE), LATE_IN_WINDOW, 'b', 'uncertain'],
      // Five fields: weighed at five eighths of the window (09:15), between the two exact times.
      [
        'of five fields over an exact time in its last quarter: that time wins, uncertain',
        shared(BEFORE, 5),
        LATE_IN_WINDOW,
        'a',
        'uncertain',
      ],
      [
        'of five fields over an exact time early in it: the window wins, uncertain',
        shared(BEFORE, 5),
        EARLY_IN_WINDOW,
        'b',
        'uncertain',
      ],
      // Ending at tandem's write: every field seen changing in it changed before, weighed at 09:00.
      [
        'ending at a write of tandem’s, over a later exact time: that time wins, uncertain',
        shared(BEFORE, 0),
        LATE_IN_WINDOW,
        'a',
        'uncertain',
      ],
      ['has no lower bound: its end decides, uncertain', shared(null, 0), EARLY, 'b', 'uncertain'],
      ['opens after the other side’s time: newer', shared(LATE_IN_WINDOW, 0), EARLY, 'b', 'newer'],
      [
        'is the field’s alone: its end is the field’s time, newer',
        shared(BEFORE, undefined, true),
        LATE_IN_WINDOW,
        'b',
        'newer',
      ],
    ] as const)('%s', (_, windowed, crmAt, value, reason) => {
      const result = lastWriterWins([crm('a', crmAt), windowed], CRM_FIRST);
      expect(result.winner.value).toBe(value);
      expect(result.conflict?.reason).toBe(reason);
      expect(result.conflict?.candidates.find((candidate) => candidate.system === 'accounting')?.window).toEqual(
        windowed.window,
      );
    });
  });

  it('refuses an empty list', () => {
    expect(() => lastWriterWins([], CRM_FIRST)).toThrow('at least one candidate');
  });
});
