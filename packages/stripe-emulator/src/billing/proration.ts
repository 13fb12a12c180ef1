import type { Period } from './periods.ts';

/**
 * Prorations, Stripe's way: when an item changes mid-period, the customer is credited for the unused
 * time on what they had and charged for the remaining time on what they have now, each share being
 * `amount × (period end − change time) / (period length)`, rounded to the minor unit per line.
 */
export function remainingShare(amount: number, period: Period, at: number): number {
  const length = period.end - period.start;
  if (length <= 0 || at >= period.end) return 0;
  const from = Math.max(at, period.start);
  return Math.round((amount * (period.end - from)) / length);
}

export type ItemTerms = { amount: number; period: Period };

export type ProrationPair = { credit: number; debit: number };

/**
 * The credit (≤ 0) for the old terms and the charge (≥ 0) for the new ones when an item changes at
 * `at`. An item that did not exist before has `before = null`; one removed has `after = null`. No
 * line is produced when both sides are equal.
 */
export function prorate(before: ItemTerms | null, after: ItemTerms | null, at: number): ProrationPair {
  const credit = before ? -remainingShare(before.amount, before.period, at) : 0;
  const debit = after ? remainingShare(after.amount, after.period, at) : 0;
  return { credit: credit === 0 ? 0 : credit, debit };
}
