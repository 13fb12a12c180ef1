import { days } from './periods.ts';

/**
 * The work a subscription or invoice has coming, read off its current state: what happens next and
 * when. Advancing a clock (a test clock, or the system clock through the ticker) repeatedly takes the
 * earliest action due by the target time and performs it, so events come out in time order.
 */
export type DueAction =
  | { kind: 'expire_incomplete'; at: number; subscription: string }
  | { kind: 'trial_will_end'; at: number; subscription: string }
  | { kind: 'schedule_phase'; at: number; subscription: string }
  | { kind: 'cancel'; at: number; subscription: string }
  | { kind: 'end_trial'; at: number; subscription: string }
  | { kind: 'renew'; at: number; subscription: string }
  | { kind: 'resume_collection'; at: number; subscription: string }
  | { kind: 'finalize_invoice'; at: number; invoice: string }
  | { kind: 'retry_payment'; at: number; invoice: string };

/**
 * At equal times: expiry and invoice work first, a cancellation before the renewal it would prevent,
 * a subscription schedule's next phase before the renewal that bills it.
 */
const RANK: Record<DueAction['kind'], number> = {
  expire_incomplete: 0,
  finalize_invoice: 1,
  retry_payment: 2,
  trial_will_end: 3,
  schedule_phase: 4,
  cancel: 5,
  end_trial: 6,
  renew: 7,
  resume_collection: 8,
};

/** A subscription incomplete for this long (23 hours) expires. */
export const INCOMPLETE_WINDOW_SECONDS = 23 * 3600;

/**
 * `customer.subscription.trial_will_end` goes out this long before the trial ends (or when the trial
 * starts, for trials shorter than that).
 */
export const TRIAL_WILL_END_NOTICE_SECONDS = days(3);

export type SubscriptionView = {
  id: string;
  status: string;
  created: number;
  trial_start: number | null;
  trial_end: number | null;
  cancel_at: number | null;
  pause_collection: { resumes_at: number | null } | null;
  /** When the current period of its items ends (the earliest, if they differ). */
  periodEnd: number;
  /** The trial end for which `trial_will_end` was already sent, if any. */
  trialWillEndSentFor: number | null;
  /** When the current phase of its active subscription schedule ends, if it has one. */
  phaseEnd: number | null;
};

export type InvoiceView = {
  id: string;
  status: string | null;
  auto_advance?: boolean | undefined;
  automatically_finalizes_at: number | null;
  next_payment_attempt: number | null;
  collection_method: string;
};

const LIVE = new Set(['active', 'past_due', 'unpaid', 'trialing']);

export function subscriptionActions(sub: SubscriptionView): DueAction[] {
  const id = sub.id;
  if (sub.status === 'incomplete')
    return [{ kind: 'expire_incomplete', at: sub.created + INCOMPLETE_WINDOW_SECONDS, subscription: id }];
  const actions: DueAction[] = [];
  if (sub.phaseEnd !== null && (LIVE.has(sub.status) || sub.status === 'paused'))
    actions.push({ kind: 'schedule_phase', at: sub.phaseEnd, subscription: id });
  if (sub.cancel_at !== null && (LIVE.has(sub.status) || sub.status === 'paused'))
    actions.push({ kind: 'cancel', at: sub.cancel_at, subscription: id });
  if (sub.status === 'trialing' && sub.trial_end !== null) {
    if (sub.trialWillEndSentFor !== sub.trial_end)
      actions.push({
        kind: 'trial_will_end',
        at: Math.max(sub.trial_end - TRIAL_WILL_END_NOTICE_SECONDS, sub.trial_start ?? sub.created),
        subscription: id,
      });
    actions.push({ kind: 'end_trial', at: sub.trial_end, subscription: id });
  } else if (LIVE.has(sub.status)) {
    actions.push({ kind: 'renew', at: sub.periodEnd, subscription: id });
  }
  const resumesAt = sub.pause_collection?.resumes_at ?? null;
  if (resumesAt !== null && LIVE.has(sub.status))
    actions.push({ kind: 'resume_collection', at: resumesAt, subscription: id });
  return actions;
}

export function invoiceActions(invoice: InvoiceView): DueAction[] {
  const id = invoice.id;
  if (invoice.status === 'draft' && invoice.auto_advance && invoice.automatically_finalizes_at !== null)
    return [{ kind: 'finalize_invoice', at: invoice.automatically_finalizes_at, invoice: id }];
  if (
    invoice.status === 'open' &&
    invoice.collection_method === 'charge_automatically' &&
    invoice.next_payment_attempt !== null
  )
    return [{ kind: 'retry_payment', at: invoice.next_payment_attempt, invoice: id }];
  return [];
}

/** The action to perform first among those due by `until`, or `null` when nothing is due. */
export function firstDue(actions: Iterable<DueAction>, until: number): DueAction | null {
  let first: DueAction | null = null;
  for (const action of actions) {
    if (action.at > until) continue;
    if (!first || action.at < first.at || (action.at === first.at && RANK[action.kind] < RANK[first.kind]))
      first = action;
  }
  return first;
}
