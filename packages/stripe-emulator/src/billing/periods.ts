/**
 * Billing-period arithmetic, in Unix seconds and UTC, as Stripe does it: a subscription's periods are
 * the boundaries `anchor + n × (interval × interval_count)`. Month and year steps keep the anchor's
 * day of month and time of day, clamped to the month's last day (an anchor on the 31st bills on
 * 28/29 Feb, 31 Mar, 30 Apr …), so a short month never shifts later periods.
 */
export type Interval = 'day' | 'week' | 'month' | 'year';

export type Recurrence = { interval: Interval; intervalCount: number };

export type Period = { start: number; end: number };

const DAY_SECONDS = 86_400;

const daysInMonth = (year: number, monthIndex: number) =>
  new Date(Date.UTC(year, monthIndex + 1, 0)).getUTCDate();

function stepMonths(recurrence: Recurrence): number {
  if (recurrence.interval === 'month') return recurrence.intervalCount;
  if (recurrence.interval === 'year') return recurrence.intervalCount * 12;
  return 0;
}

function stepSeconds(recurrence: Recurrence): number {
  if (recurrence.interval === 'day') return recurrence.intervalCount * DAY_SECONDS;
  if (recurrence.interval === 'week') return recurrence.intervalCount * 7 * DAY_SECONDS;
  return 0;
}

/** The anchor moved by `months` calendar months, keeping its day (clamped) and time of day. */
export function addMonths(anchor: number, months: number): number {
  const date = new Date(anchor * 1000);
  const totalMonths = date.getUTCFullYear() * 12 + date.getUTCMonth() + months;
  const year = Math.floor(totalMonths / 12);
  const monthIndex = totalMonths - year * 12;
  const day = Math.min(date.getUTCDate(), daysInMonth(year, monthIndex));
  return (
    Date.UTC(year, monthIndex, day, date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()) / 1000
  );
}

/** The `n`th boundary after the anchor (`n = 0` is the anchor itself). */
export function boundary(anchor: number, recurrence: Recurrence, n: number): number {
  const months = stepMonths(recurrence);
  return months > 0 ? addMonths(anchor, n * months) : anchor + n * stepSeconds(recurrence);
}

/** The boundary index whose period holds `at` (`at ≥ anchor`): boundary(n) ≤ at < boundary(n + 1). */
function indexAt(anchor: number, recurrence: Recurrence, at: number): number {
  const months = stepMonths(recurrence);
  let n: number;
  if (months > 0) {
    const from = new Date(anchor * 1000);
    const to = new Date(at * 1000);
    const elapsed =
      (to.getUTCFullYear() - from.getUTCFullYear()) * 12 + to.getUTCMonth() - from.getUTCMonth();
    n = Math.max(0, Math.floor(elapsed / months));
  } else n = Math.floor((at - anchor) / stepSeconds(recurrence));
  while (n > 0 && boundary(anchor, recurrence, n) > at) n--;
  while (boundary(anchor, recurrence, n + 1) <= at) n++;
  return n;
}

/**
 * The billing period that holds `at`. Before the anchor (a subscription created with a future
 * `billing_cycle_anchor`) the first, shorter period runs from `start` to the anchor.
 */
export function periodAt(anchor: number, recurrence: Recurrence, at: number, start = anchor): Period {
  if (at < anchor) return { start: Math.min(start, at), end: anchor };
  const n = indexAt(anchor, recurrence, at);
  return { start: boundary(anchor, recurrence, n), end: boundary(anchor, recurrence, n + 1) };
}

/** The first boundary strictly after `at`: when the period holding `at` ends. */
export function nextBoundaryAfter(anchor: number, recurrence: Recurrence, at: number): number {
  return periodAt(anchor, recurrence, at).end;
}

/** `at` moved forward by one whole interval from an arbitrary start (trial lengths, preview periods). */
export function oneIntervalFrom(start: number, recurrence: Recurrence): number {
  return boundary(start, recurrence, 1);
}

export const days = (count: number) => count * DAY_SECONDS;
