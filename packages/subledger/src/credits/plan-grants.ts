import { addMonths } from '../access/index.ts';
import { type Catalog, type Period, planFeatures } from '../catalog/index.ts';

/** One line of a paid invoice, with the catalog plan its price names (null: none). */
export type InvoiceLine = {
  plan: string | null;
  /** In the smallest currency unit; below zero for a credit (unused time given back). */
  amount: number;
  quantity: number;
  periodStart: number;
  periodEnd: number;
  /** Charges or credits part of a period after a change of plan or quantity. */
  proration: boolean;
};

export type PaidInvoice = { id: string; billingReason: string | null; lines: readonly InvoiceLine[] };

/** Credits of one type an invoice grants, until the end of the period it paid for. */
export type PlanGrant = {
  creditType: string;
  amount: number;
  expiresAt: number;
  /**
   * On a renewal: where the new period starts, and how much of the earlier periods' unused plan credits
   * carry over (0 for a plan without rollover: they end with their period).
   */
  rollover: { cap: number; periodStart: number } | null;
};

const DAY = 86_400;

/**
 * What a paid invoice grants, per the catalog: each plan's grant per unit of quantity for a full period;
 * a proration line counts for the share of the feature's period it covers, a credit line (unused time of
 * the old plan or seats) counts against it. So a quantity change from 3 to 5 grants 2 seats' share, an
 * upgrade grants the difference for the rest of the period, and a downgrade grants nothing. Rounded down.
 */
export function grantsOfInvoice(catalog: Catalog, invoice: PaidInvoice): PlanGrant[] {
  const totals = new Map<string, { amount: number; expiresAt: number; rollover: PlanGrant['rollover'] }>();
  const renewal = invoice.billingReason === 'subscription_cycle';
  for (const line of invoice.lines) {
    if (line.plan === null) continue;
    for (const feature of planFeatures(catalog, line.plan)) {
      if (feature.type !== 'credits') continue;
      const share = line.proration ? shareOfPeriod(line, feature.period) : 1;
      const signed = (line.amount < 0 ? -1 : 1) * feature.grant * line.quantity * share;
      const total = totals.get(feature.id) ?? { amount: 0, expiresAt: line.periodEnd, rollover: null };
      total.amount += signed;
      total.expiresAt = Math.max(total.expiresAt, line.periodEnd);
      // A renewal closes the previous periods' plan credits, carrying what the plan's rollover allows.
      if (renewal && line.amount >= 0)
        total.rollover = { cap: feature.rollover?.cap ?? 0, periodStart: line.periodStart };
      totals.set(feature.id, total);
    }
  }
  return [...totals]
    .map(([creditType, total]) => ({ creditType, ...total, amount: Math.floor(total.amount + 1e-9) }))
    .filter((grant) => grant.amount > 0);
}

/** The part of a full `period` ending where the line ends that the line covers, between 0 and 1. */
function shareOfPeriod(line: InvoiceLine, period: Period): number {
  const full = line.periodEnd - periodStartBefore(line.periodEnd, period);
  return Math.min(1, Math.max(0, (line.periodEnd - line.periodStart) / full));
}

function periodStartBefore(end: number, period: Period): number {
  if (period === 'day') return end - DAY;
  if (period === 'week') return end - 7 * DAY;
  return addMonths(end, period === 'month' ? -1 : -12);
}

/**
 * What a renewal carries over of the previous periods' plan credits: what they had left when their
 * period ended, at most the cap.
 */
export function rolloverAmount(unspent: readonly number[], cap: number): number {
  return Math.min(
    cap,
    unspent.reduce((sum, amount) => sum + Math.max(0, amount), 0),
  );
}
