import type { Period } from '../catalog/index.ts';

const DAY = 86_400;

/**
 * The usage window `now` falls in, for windows of `period` laid end to end from `anchor` (Unix seconds),
 * as Stripe anchors billing cycles: a monthly window keeps the anchor's day of the month, or the month's
 * last day when it has fewer (anchored on the 31st: Jan 31, Feb 28, Mar 31…), and its time of day.
 */
export function periodWindow(anchor: number, period: Period, now: number): { start: number; end: number } {
  if (period === 'day' || period === 'week') {
    const length = period === 'day' ? DAY : 7 * DAY;
    const start = anchor + Math.floor((now - anchor) / length) * length;
    return { start, end: start + length };
  }
  const months = period === 'month' ? 1 : 12;
  let index = Math.floor(monthsBetween(anchor, now) / months);
  // The month count is a first guess: a window may end earlier in its month than the anchor's day.
  while (addMonths(anchor, index * months) > now) index--;
  while (addMonths(anchor, (index + 1) * months) <= now) index++;
  return { start: addMonths(anchor, index * months), end: addMonths(anchor, (index + 1) * months) };
}

function monthsBetween(from: number, to: number): number {
  const a = new Date(from * 1000);
  const b = new Date(to * 1000);
  return (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + (b.getUTCMonth() - a.getUTCMonth());
}

/** `anchor` moved by whole months, its day of the month clamped to the target month's length. */
export function addMonths(anchor: number, months: number): number {
  const date = new Date(anchor * 1000);
  const target = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(date.getUTCDate(), lastDay));
  target.setUTCHours(date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds());
  return Math.floor(target.getTime() / 1000);
}
