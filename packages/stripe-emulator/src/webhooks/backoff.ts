import type { RetryPolicy } from './options.ts';

/**
 * How long to wait after attempt number `failedAttempt` (1-based) failed before the next one, or
 * `null` when that was the last attempt: `initialDelayMs · 2^(n-1)`, capped at `maxDelayMs`.
 */
export function retryDelayMs(failedAttempt: number, policy: RetryPolicy): number | null {
  if (failedAttempt >= policy.attempts) return null;
  return Math.min(policy.initialDelayMs * 2 ** (failedAttempt - 1), policy.maxDelayMs);
}

/** Every wait between attempts, in order: the whole schedule of one failing delivery. */
export function retrySchedule(policy: RetryPolicy): number[] {
  const waits: number[] = [];
  for (let attempt = 1; ; attempt++) {
    const wait = retryDelayMs(attempt, policy);
    if (wait === null) return waits;
    waits.push(wait);
  }
}
