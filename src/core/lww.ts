/**
 * Per-field last-writer-wins: of several sides that changed one field, the one whose source
 * system says it changed last wins; equal times are broken by the configured order.
 *
 * Where a side's time is only the end of a window it shares with other fields of its record (see
 * core/observe.ts), the end is the time of whichever of those fields changed last: with k fields
 * in the window, this one changed at the end with a chance of 1/k, else somewhere inside it. Such
 * a side is weighed at the middle of that spread (the median): at the end while k is 2 or fewer,
 * nearer the middle as k grows, and at the middle where the end is tandem's own write (every
 * field seen changing in it changed before). A window with no lower bound keeps its end. Where the
 * winner's and the runner-up's times cannot be told apart (a window reaches over the other's
 * time), the conflict says so ('uncertain'), with both values, times and windows.
 */
import type { FieldValue, FieldWindow, System } from './model';

/** One side's claim on a field's new value. */
export interface Candidate {
  system: System;
  /** For an account side: which relation it came from (customer, vendor or bank account). */
  relationId?: string;
  /** Order among several accounts at the same time (lower first). */
  rank?: number;
  value: FieldValue;
  /** The source system's modification time (ISO 8601). */
  modifiedAt: string;
  /** Where the time is only the end of a window (see FieldWindow). */
  window?: FieldWindow;
}

/** The outcome of comparing candidates. */
export interface Resolution {
  winner: Candidate;
  /** Present when candidates disagreed on the value. */
  conflict?: { candidates: Candidate[]; reason: ConflictReason };
}

/**
 * Why a conflict went the way it did: the winner changed later, the times were equal and the
 * configured order decided, or the winner's time may belong to another field of its record and
 * the order is uncertain (decided by the times as they are, and recorded as such). `unmapped`: the
 * value has no translation in the mapping's value map, whose rule holds it for review; nothing
 * was written, and the value kept is the winner.
 */
export type ConflictReason = 'newer' | 'tieBreak' | 'uncertain' | 'unmapped';

/** Picks the winning candidate; `tieBreak` lists systems from strongest to weakest. */
export function lastWriterWins(candidates: readonly Candidate[], tieBreak: readonly System[]): Resolution {
  if (candidates.length === 0) throw new Error('lastWriterWins needs at least one candidate');
  const ordered = [...candidates].sort((a, b) => {
    const byTime = estimatedAt(b) - estimatedAt(a);
    if (byTime !== 0) return byTime;
    const bySystem = tieBreak.indexOf(a.system) - tieBreak.indexOf(b.system);
    if (bySystem !== 0) return bySystem;
    return (a.rank ?? 0) - (b.rank ?? 0);
  });
  const winner = ordered[0] as Candidate;
  const disagree = candidates.some((candidate) => candidate.value !== winner.value);
  if (!disagree) return { winner };
  const runnerUp = ordered.find((candidate) => candidate.value !== winner.value) as Candidate;
  return { winner, conflict: { candidates: ordered, reason: reasonOf(winner, runnerUp) } };
}

/**
 * When the candidate's field changed (epoch ms), as the median of what is known: its time, or for
 * a shared window the end with a chance of 1/among and anywhere inside otherwise.
 */
function estimatedAt(candidate: Candidate): number {
  const { since, end } = span(candidate);
  if (since === end || since === Number.NEGATIVE_INFINITY) return end;
  const among = candidate.window?.among ?? 2;
  const atEnd = among === 0 ? 0 : 1 / among;
  return atEnd >= 0.5 ? end : since + ((end - since) * 0.5) / (1 - atEnd);
}

/** The interval the candidate's field changed in: one instant unless its time ends a shared window. */
function span(candidate: Candidate): { since: number; end: number } {
  const end = Date.parse(candidate.modifiedAt);
  const window = candidate.window;
  if (!window?.shared) return { since: end, end };
  return { since: window.since === null ? Number.NEGATIVE_INFINITY : Math.min(Date.parse(window.since), end), end };
}

function reasonOf(winner: Candidate, runnerUp: Candidate): ConflictReason {
  const [won, lost] = [span(winner), span(runnerUp)];
  if (estimatedAt(winner) === estimatedAt(runnerUp)) return 'tieBreak';
  // Either window reaching over the other's interval means the order is a guess.
  const overlap = won.since < lost.end && lost.since < won.end;
  return overlap && (won.since !== won.end || lost.since !== lost.end) ? 'uncertain' : 'newer';
}
