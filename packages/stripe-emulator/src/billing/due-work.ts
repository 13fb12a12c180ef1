import { backgroundCause, type Scope } from '../core/scope.ts';
import { collectInvoice } from './collection.ts';
import { finalizeAndCharge } from './issue.ts';
import { type DueAction, firstDue, invoiceActions, subscriptionActions } from './schedule.ts';
import {
  bookkeepingFor,
  idOf,
  invoiceSubscriptionId,
  invoices,
  subscriptions,
  type WireInvoice,
  type WireSubscription,
} from './store.ts';
import { periodEndOf } from './subscription-objects.ts';
import { enterNextPhase, phaseEndOf } from './subscription-schedules.ts';
import {
  cancelAsScheduled,
  endTrial,
  expireIncomplete,
  notifyTrialWillEnd,
  renewSubscription,
  resumeCollection,
} from './transitions.ts';

/**
 * Runs, in time order, everything due by a target time for the objects a clock drives: a test
 * clock's customers, or (for the system clock) everything not on a test clock. Each step happens at
 * the time it was due, so a clock advanced by a year produces twelve renewals with their own dates.
 */
export type Selection = (object: { test_clock: unknown }) => boolean;

export const onTestClock =
  (clockId: string): Selection =>
  (object) =>
    idOf(object.test_clock as string | null) === clockId;

export const onSystemClock: Selection = (object) => object.test_clock === null;

/** A runaway guard: no honest advance needs this many steps. */
const MAX_STEPS = 100_000;

function viewOf(scope: Scope, subscription: WireSubscription) {
  return {
    id: subscription.id,
    status: String(subscription.status),
    created: subscription.created,
    trial_start: subscription.trial_start,
    trial_end: subscription.trial_end,
    cancel_at: subscription.cancel_at,
    pause_collection: subscription.pause_collection,
    periodEnd: periodEndOf(subscription),
    trialWillEndSentFor: bookkeepingFor(scope.partition, subscription.id).trialWillEndSentFor,
    phaseEnd: phaseEndOf(scope.partition, subscription),
  };
}

function* dueActions(scope: Scope, select: Selection, only: string | null): Generator<DueAction> {
  for (const subscription of subscriptions(scope.partition).values())
    if (select(subscription) && (only === null || subscription.id === only))
      yield* subscriptionActions(viewOf(scope, subscription));
  for (const invoice of invoices(scope.partition).values())
    if (select(invoice) && (only === null || invoiceSubscriptionId(invoice) === only))
      yield* invoiceActions({
        id: invoice.id,
        status: invoice.status === null ? null : String(invoice.status),
        auto_advance: invoice.auto_advance,
        automatically_finalizes_at: invoice.automatically_finalizes_at,
        next_payment_attempt: invoice.next_payment_attempt,
        collection_method: String(invoice.collection_method),
      });
}

/**
 * Performs due work until nothing more is due by `until`. `beforeStep` sees each step's time first
 * (a test clock moves its frozen time along, so "now" is right for everything the step touches).
 */
export function runDueWork(
  scope: Scope,
  until: number,
  select: Selection,
  beforeStep: (at: number) => void = () => {},
  only: string | null = null,
): number {
  const background = { ...scope, cause: backgroundCause };
  let steps = 0;
  for (;;) {
    const action = firstDue(dueActions(background, select, only), until);
    if (!action) return steps;
    if (++steps > MAX_STEPS) throw new Error(`billing: more than ${MAX_STEPS} steps due by ${until}`);
    beforeStep(action.at);
    perform(background, action);
  }
}

/** Work already due for one subscription right after a request changed it (a short trial's notice). */
export function runDueWorkFor(scope: Scope, subscriptionId: string, at: number): void {
  runDueWork(
    scope,
    at,
    () => true,
    () => {},
    subscriptionId,
  );
}

type SubscriptionWork = Exclude<DueAction, { invoice: string }>['kind'];

/** What each kind of due subscription work does, in one table. */
const SUBSCRIPTION_WORK: Record<
  SubscriptionWork,
  (scope: Scope, subscription: WireSubscription, at: number) => void
> = {
  expire_incomplete: expireIncomplete,
  trial_will_end: notifyTrialWillEnd,
  schedule_phase: enterNextPhase,
  cancel: cancelAsScheduled,
  end_trial: endTrial,
  renew: renewSubscription,
  resume_collection: resumeCollection,
};

function perform(scope: Scope, action: DueAction): void {
  if ('invoice' in action) {
    const invoice = invoices(scope.partition).get(action.invoice);
    if (invoice) performOnInvoice(scope, action, invoice);
    return;
  }
  const subscription = subscriptions(scope.partition).get(action.subscription);
  if (subscription) SUBSCRIPTION_WORK[action.kind](scope, subscription, action.at);
}

function performOnInvoice(scope: Scope, action: DueAction, invoice: WireInvoice): void {
  if (action.kind === 'finalize_invoice') finalizeAndCharge(scope, invoice, action.at);
  else if (action.kind === 'retry_payment') collectInvoice(scope, invoice, action.at);
}
