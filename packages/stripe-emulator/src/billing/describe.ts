import type { Recurrence } from './periods.ts';

/**
 * The human descriptions Stripe writes on invoice lines: `1 × Pro (at $25.00 / month)`,
 * `Free trial for 1 × Pro`, `Unused time on Pro after 10 Nov 2025`.
 */
export function formatAmount(amount: number, currency: string): string {
  const format = new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(amount / 10 ** digits);
}

export function formatInterval(recurrence: Recurrence): string {
  return recurrence.intervalCount === 1
    ? `/ ${recurrence.interval}`
    : `every ${recurrence.intervalCount} ${recurrence.interval}s`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function formatDate(seconds: number): string {
  const date = new Date(seconds * 1000);
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

export type LineSubject = {
  productName: string;
  unitLabel: string | null;
  quantity: number;
};

const quantityOf = (subject: LineSubject) =>
  `${subject.quantity} ${subject.unitLabel ? `${subject.unitLabel} ` : ''}× ${subject.productName}`;

export function recurringLine(
  subject: LineSubject,
  unitAmount: number | null,
  currency: string,
  recurrence: Recurrence,
): string {
  const price =
    unitAmount === null ? '' : ` (at ${formatAmount(unitAmount, currency)} ${formatInterval(recurrence)})`;
  return `${quantityOf(subject)}${price}`;
}

export const trialLine = (subject: LineSubject) => `Free trial for ${quantityOf(subject)}`;

const prorationSubject = (subject: LineSubject) =>
  subject.quantity === 1 ? subject.productName : quantityOf(subject);

export const unusedTimeLine = (subject: LineSubject, at: number) =>
  `Unused time on ${prorationSubject(subject)} after ${formatDate(at)}`;

export const remainingTimeLine = (subject: LineSubject, at: number) =>
  `Remaining time on ${prorationSubject(subject)} after ${formatDate(at)}`;
