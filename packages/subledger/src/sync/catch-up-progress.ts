import type { CatchUpPassName, SyncProgress } from './progress.ts';

export type CatchUpPass = {
  /** 1-based. */
  pass: number;
  passes: number;
  /** Events this pass has listed so far. */
  listed: number;
  /** Unix seconds: the window the pass lists, from its oldest event time to when the catch-up began. */
  since: number;
  until: number;
  /** `created` of the last event listed: Stripe lists newest first, so the pass has covered until→here. */
  reached: number | null;
  finished: boolean;
};

/**
 * Where a pass of a catch-up stands. Stripe gives no count of the events a list will return, so the
 * count to expect is extrapolated from the share of the window the pass has gone back through, as if
 * events were spread evenly over it; the estimate, and the ETA drawn from it, firm up as the pass goes.
 * Null until the pass has gone back at all (every event so far in the window's last second, or in the
 * future of a test clock).
 */
export function catchUpProgress(pass: CatchUpPass): SyncProgress {
  const kind: CatchUpPassName = `events (${pass.pass} of ${pass.passes})`;
  const base = { job: 'catch-up', kind, done: pass.listed, finished: pass.finished } as const;
  if (pass.finished) return { ...base, expected: pass.listed };
  const window = pass.until - pass.since;
  const covered = pass.reached === null || window <= 0 ? 0 : (pass.until - pass.reached) / window;
  if (covered <= 0) return { ...base, expected: null };
  return { ...base, expected: Math.max(pass.listed, Math.round(pass.listed / Math.min(covered, 1))) };
}
