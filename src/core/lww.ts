/**
 * Per-field last-writer-wins: of several sides that changed one field, the one whose source
 * system says it changed last wins; equal times are broken by the configured order. Where the
 * winner's time is only the end of a window it shares with other fields of its record (see
 * core/observe.ts), and that window reaches back before the runner-up's time, the order cannot be
 * told apart: the conflict says so ('uncertain'), with both values and both times.
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
 * the order is uncertain (decided by the times as they are, and recorded as such).
 */
export type ConflictReason = 'newer' | 'tieBreak' | 'uncertain';

/** Picks the winning candidate; `tieBreak` lists systems from strongest to weakest. */
export function lastWriterWins(candidates: readonly Candidate[], tieBreak: readonly System[]): Resolution {
  if (candidates.length === 0) throw new Error('lastWriterWins needs at least one candidate');
  const ordered = [...candidates].sort((a, b) => {
    const byTime = Date.parse(b.modifiedAt) - Date.parse(a.modifiedAt);
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

function reasonOf(winner: Candidate, runnerUp: Candidate): ConflictReason {
  const runnerUpAt = Date.parse(runnerUp.modifiedAt);
  if (runnerUpAt === Date.parse(winner.modifiedAt)) return 'tieBreak';
  const window = winner.window;
  if (window?.shared && (window.since === null || Date.parse(window.since) < runnerUpAt)) return 'uncertain';
  return 'newer';
}
