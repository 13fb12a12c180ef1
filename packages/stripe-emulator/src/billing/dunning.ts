import { days } from './periods.ts';

/**
 * What happens after an automatic payment fails: retries on a fixed schedule (Stripe's "custom retry
 * schedule"), then a final action on the subscription and on the invoice once every retry has failed.
 */
export type DunningPolicy = {
  /** Days after the first failed attempt at which to retry, ascending: `[3, 5, 7]` = three retries. */
  retryDays: number[];
  /** What the subscription becomes when the last retry fails. */
  subscriptionOutcome: 'cancel' | 'mark_unpaid' | 'leave_past_due';
  /** What the invoice becomes when the last retry fails. */
  invoiceOutcome: 'mark_uncollectible' | 'void' | 'leave_open';
};

export const DEFAULT_DUNNING: DunningPolicy = {
  retryDays: [3, 5, 7],
  subscriptionOutcome: 'cancel',
  invoiceOutcome: 'mark_uncollectible',
};

/**
 * When to try again after `failedAttempts` automatic attempts have failed (the first one included),
 * or `null` when the schedule is used up and the final outcome applies.
 */
export function nextRetryAt(
  policy: DunningPolicy,
  firstFailedAt: number,
  failedAttempts: number,
): number | null {
  const offset = policy.retryDays[failedAttempts - 1];
  return offset === undefined ? null : firstFailedAt + days(offset);
}

/** A policy is usable when its retry days are positive and strictly increasing. */
export function checkPolicy(policy: DunningPolicy): DunningPolicy {
  policy.retryDays.forEach((day, index) => {
    const previous = index === 0 ? 0 : (policy.retryDays[index - 1] ?? 0);
    if (!(day > previous))
      throw new RangeError(`dunning retryDays must increase: ${policy.retryDays.join(', ')}`);
  });
  return policy;
}
