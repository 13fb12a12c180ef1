/**
 * When a plan change takes effect, pure: an upgrade (the account pays more per day) at once, prorated,
 * so the user gets what they asked for now; a downgrade at the end of the period already paid for, so
 * they keep what they paid for until then. Prices in different intervals compare by their cost per day.
 */

export type RecurringCost = {
  unitAmount: number;
  interval: 'day' | 'week' | 'month' | 'year';
  intervalCount: number;
};

export type PlanChangeTiming = 'now' | 'period_end';

const DAYS: Record<RecurringCost['interval'], number> = { day: 1, week: 7, month: 365.25 / 12, year: 365.25 };

export function costPerDay(cost: RecurringCost, quantity: number): number {
  return (cost.unitAmount * quantity) / (DAYS[cost.interval] * cost.intervalCount);
}

/** `now` for an upgrade or a change of the same cost; `period_end` for a downgrade. */
export function timingOf(
  current: { cost: RecurringCost; quantity: number },
  next: { cost: RecurringCost; quantity: number },
): PlanChangeTiming {
  return costPerDay(next.cost, next.quantity) < costPerDay(current.cost, current.quantity)
    ? 'period_end'
    : 'now';
}

/** The recurring cost of a Stripe price object, or null when it is not a recurring price with an amount. */
export function recurringCostOf(price: {
  unit_amount?: number | null;
  recurring?: { interval?: string; interval_count?: number } | null;
}): RecurringCost | null {
  const interval = price.recurring?.interval;
  if (price.unit_amount == null || !interval || !(interval in DAYS)) return null;
  return {
    unitAmount: price.unit_amount,
    interval: interval as RecurringCost['interval'],
    intervalCount: price.recurring?.interval_count ?? 1,
  };
}
