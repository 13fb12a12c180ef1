import type { Scope } from '../core/scope.ts';
import { invoicesOfSubscription, saveInvoice } from './invoices.ts';
import type { WireSubscription } from './store.ts';
import { endScheduleOf } from './subscription-schedules.ts';
import { saveSubscription } from './subscription-store.ts';

/**
 * Ending a subscription: canceled (by request, at a scheduled time, or after failed payments) or
 * expired while incomplete. Either way Stripe stops collecting its invoices: open ones are no longer
 * retried and drafts are no longer finalized automatically.
 */
export type Ending = {
  status: 'canceled' | 'incomplete_expired';
  reason: 'cancellation_requested' | 'payment_failed' | null;
  /** An immediate cancel clears a scheduled one (`cancel_at`, `cancel_at_period_end`). */
  clearSchedule: boolean;
  comment?: string | null | undefined;
  feedback?: NonNullable<WireSubscription['cancellation_details']>['feedback'] | undefined;
};

export function endSubscription(scope: Scope, subscription: WireSubscription, at: number, ending: Ending) {
  const details = subscription.cancellation_details;
  const ended: WireSubscription = {
    ...subscription,
    status: ending.status,
    canceled_at: subscription.canceled_at ?? at,
    ended_at: at,
    ...(ending.clearSchedule ? { cancel_at: null, cancel_at_period_end: false } : {}),
    pause_collection: null,
    cancellation_details: {
      comment: ending.comment !== undefined ? ending.comment : (details?.comment ?? null),
      feedback: ending.feedback !== undefined ? ending.feedback : (details?.feedback ?? null),
      feedback_option: details?.feedback_option ?? null,
      reason: ending.reason ?? details?.reason ?? null,
    },
  };
  stopCollection(scope, subscription.id, at);
  const type =
    ending.status === 'canceled' ? 'customer.subscription.deleted' : 'customer.subscription.updated';
  const saved = saveSubscription(scope, subscription, ended, at, type);
  endScheduleOf(scope, saved, at, ended.cancellation_details?.reason ?? null);
  return saved;
}

function stopCollection(scope: Scope, subscriptionId: string, at: number): void {
  for (const invoice of invoicesOfSubscription(scope, subscriptionId)) {
    const collecting = invoice.status === 'open' || invoice.status === 'draft';
    if (!collecting || (!invoice.auto_advance && invoice.next_payment_attempt === null)) continue;
    saveInvoice(
      scope,
      invoice,
      { ...invoice, auto_advance: false, next_payment_attempt: null, automatically_finalizes_at: null },
      'invoice.updated',
      at,
    );
  }
}
