import { invalidState, parameterInvalid } from '../core/errors.ts';
import { mergeMetadata } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import type { OneOff, PaymentBehavior, ProrationBehavior } from './create.ts';
import type { LineSpec } from './invoice-objects.ts';
import {
  currentPeriod,
  type ItemChange,
  type ItemPlan,
  periodAfterIntervalChange,
  planItems,
  recurrenceOfSubscription,
  stateOf,
  withPeriod,
} from './item-changes.ts';
import { billedInAdvance, contextOf, periodLine, periodOf, prorationLines } from './lines.ts';
import { boundary, type Period } from './periods.ts';
import type { WireSubscription, WireSubscriptionItem } from './store.ts';
import { periodEndOf } from './subscription-objects.ts';
import { withItems } from './subscription-store.ts';
import { restartedAt } from './transitions.ts';

/**
 * What an update does to a subscription, worked out without storing anything (so `create_preview`
 * can show it): the subscription afterwards, the prorations it generates, and whether it bills now.
 */
type Feedback = NonNullable<WireSubscription['cancellation_details']>['feedback'];

export type SubscriptionChanges = {
  items?: ItemChange[] | undefined;
  addInvoiceItems?: OneOff[] | undefined;
  prorationBehavior?: ProrationBehavior | undefined;
  prorationDate?: number | undefined;
  paymentBehavior?: PaymentBehavior | undefined;
  cancelAtPeriodEnd?: boolean | undefined;
  /** A time to cancel at, or `null` to unschedule. */
  cancelAt?: number | null | undefined;
  cancellationDetails?: { comment?: string | null | undefined; feedback?: Feedback | undefined } | undefined;
  pauseCollection?:
    | { behavior: 'keep_as_draft' | 'mark_uncollectible' | 'void'; resumesAt: number | null }
    | null
    | undefined;
  trialEnd?: number | 'now' | undefined;
  billingCycleAnchor?: 'now' | 'unchanged' | undefined;
  defaultPaymentMethod?: string | null | undefined;
  metadata?: Record<string, string> | null | undefined;
  description?: string | null | undefined;
  collectionMethod?: 'charge_automatically' | 'send_invoice' | undefined;
  daysUntilDue?: number | undefined;
  missingPaymentMethod?: 'cancel' | 'create_invoice' | 'pause' | undefined;
  paymentSettings?: PaymentSettings | undefined;
};

export type PaymentSettings = {
  saveDefaultPaymentMethod?: 'off' | 'on_subscription' | undefined;
  paymentMethodTypes?: string[] | null | undefined;
};

/** `payment_settings` as stored, with the given settings applied. */
export function withPaymentSettings(
  current: WireSubscription['payment_settings'],
  settings: PaymentSettings | undefined,
): WireSubscription['payment_settings'] {
  const base = current ?? {
    payment_method_options: null,
    payment_method_types: null,
    save_default_payment_method: 'off',
  };
  if (!settings) return base;
  return {
    ...base,
    ...(settings.saveDefaultPaymentMethod !== undefined
      ? { save_default_payment_method: settings.saveDefaultPaymentMethod }
      : {}),
    ...(settings.paymentMethodTypes !== undefined
      ? {
          payment_method_types: settings.paymentMethodTypes as NonNullable<
            typeof base
          >['payment_method_types'],
        }
      : {}),
  };
}

export type UpdatePlan = {
  next: WireSubscription;
  /** Credits and charges for the change, billed now or at the next renewal as invoice items. */
  prorations: LineSpec[];
  /** A new period that starts now and is billed in full (trial ended now, no-proration interval switch). */
  newPeriodLines: LineSpec[];
  invoiceNow: boolean;
};

const ENDED = new Set(['canceled', 'incomplete_expired']);

export function planUpdate(
  scope: Scope,
  subscription: WireSubscription,
  changes: SubscriptionChanges,
  at: number,
): UpdatePlan {
  if (ENDED.has(String(subscription.status)) && touchesBilling(changes))
    throw invalidState('A canceled subscription can only update its cancellation_details and metadata.');
  let next = applySimpleFields(subscription, changes);
  const itemPlan = changes.items ? planItems(scope, subscription, changes.items, at) : null;
  if (itemPlan) next = withItems(next, itemPlan.items);
  const periods = planPeriods(scope, subscription, next, itemPlan, changes, at);
  next = applyCancellation(periods.next, changes, at);
  const behavior = changes.prorationBehavior ?? 'create_prorations';
  const prorations = behavior === 'none' ? [] : periods.prorations;
  return {
    next,
    prorations,
    newPeriodLines: periods.newPeriodLines,
    invoiceNow: periods.invoiceNow || (behavior === 'always_invoice' && prorations.length > 0),
  };
}

const ALLOWED_AFTER_END = new Set([
  'metadata',
  'cancellationDetails',
  'prorationBehavior',
  'paymentBehavior',
]);

function touchesBilling(changes: SubscriptionChanges): boolean {
  return Object.entries(changes).some(([key, value]) => value !== undefined && !ALLOWED_AFTER_END.has(key));
}

function applySimpleFields(subscription: WireSubscription, changes: SubscriptionChanges): WireSubscription {
  const next = structuredClone(subscription);
  if (changes.metadata !== undefined) next.metadata = mergeMetadata(next.metadata, changes.metadata);
  if (changes.description !== undefined) next.description = changes.description;
  if (changes.defaultPaymentMethod !== undefined) next.default_payment_method = changes.defaultPaymentMethod;
  if (changes.collectionMethod !== undefined) next.collection_method = changes.collectionMethod;
  if (changes.daysUntilDue !== undefined) next.days_until_due = changes.daysUntilDue;
  if (changes.missingPaymentMethod !== undefined)
    next.trial_settings = {
      end_behavior: { billing_cycle_anchor: null, missing_payment_method: changes.missingPaymentMethod },
    };
  if (changes.paymentSettings)
    next.payment_settings = withPaymentSettings(next.payment_settings, changes.paymentSettings);
  if (changes.pauseCollection !== undefined)
    next.pause_collection = changes.pauseCollection && {
      behavior: changes.pauseCollection.behavior,
      resumes_at: changes.pauseCollection.resumesAt,
    };
  return next;
}

type PeriodPlan = Omit<UpdatePlan, 'next'> & { next: WireSubscription };

function planPeriods(
  scope: Scope,
  before: WireSubscription,
  next: WireSubscription,
  itemPlan: ItemPlan | null,
  changes: SubscriptionChanges,
  at: number,
): PeriodPlan {
  const prorateAt = changes.prorationDate ?? at;
  const trialing = before.status === 'trialing';
  const none: PeriodPlan = { next, prorations: [], newPeriodLines: [], invoiceNow: false };
  if (trialing && changes.trialEnd === 'now') {
    const restarted: WireSubscription = { ...restartedAt(next, at), status: 'active', trial_end: at };
    return {
      ...none,
      next: restarted,
      newPeriodLines: linesFor(scope, restarted.items.data),
      invoiceNow: true,
    };
  }
  if (typeof changes.trialEnd === 'number')
    return planNewTrial(scope, before, next, changes.trialEnd, at, prorateAt);
  if (trialing) return none;
  const recurrence = itemPlan?.newRecurrence ?? null;
  if (recurrence || changes.billingCycleAnchor === 'now') {
    const current = currentPeriod(before);
    const period: Period = recurrence
      ? periodAfterIntervalChange(current, recurrence, at)
      : {
          start: at,
          end: boundary(at, recurrenceOfSubscription(next) ?? { interval: 'month', intervalCount: 1 }, 1),
        };
    const items = next.items.data.map((item) => withPeriod(item, period));
    const moved = { ...withItems(next, items), billing_cycle_anchor: period.start };
    const credits = before.items.data.flatMap((item) =>
      prorationLines(scope, stateOf(item), null, prorateAt),
    );
    const charges = items.flatMap((item) => prorationLines(scope, null, stateOf(item), prorateAt));
    const fullCharge = changes.prorationBehavior === 'none' ? linesFor(scope, items) : [];
    return {
      next: moved,
      prorations: [...credits, ...charges],
      newPeriodLines: fullCharge,
      invoiceNow: true,
    };
  }
  const prorations = (itemPlan?.transitions ?? []).flatMap((transition) =>
    prorationLines(
      scope,
      transition.before && stateOf(transition.before),
      transition.after && stateOf(transition.after),
      prorateAt,
    ),
  );
  return { ...none, prorations };
}

function planNewTrial(
  scope: Scope,
  before: WireSubscription,
  next: WireSubscription,
  trialEnd: number,
  at: number,
  prorateAt: number,
): PeriodPlan {
  if (trialEnd <= at)
    throw parameterInvalid(
      'trial_end',
      'Invalid timestamp: must be an integer Unix timestamp in the future.',
    );
  const trialing = before.status === 'trialing';
  const start = trialing ? (before.trial_start ?? at) : at;
  const items = next.items.data.map((item) =>
    withPeriod(item, { start: trialing ? item.current_period_start : at, end: trialEnd }),
  );
  const credits = trialing
    ? []
    : before.items.data.flatMap((item) => prorationLines(scope, stateOf(item), null, prorateAt));
  const moved: WireSubscription = {
    ...withItems(next, items),
    status: trialing || before.status === 'active' ? 'trialing' : next.status,
    trial_start: start,
    trial_end: trialEnd,
    billing_cycle_anchor: trialEnd,
  };
  return { next: moved, prorations: credits, newPeriodLines: [], invoiceNow: false };
}

function linesFor(scope: Scope, items: WireSubscriptionItem[]): LineSpec[] {
  return items.filter(billedInAdvance).map((item) => periodLine(scope, contextOf(item), periodOf(item)));
}

function applyCancellation(
  next: WireSubscription,
  changes: SubscriptionChanges,
  at: number,
): WireSubscription {
  const details = next.cancellation_details ?? {
    comment: null,
    feedback: null,
    feedback_option: null,
    reason: null,
  };
  const withDetails = {
    ...details,
    ...(changes.cancellationDetails?.comment !== undefined
      ? { comment: changes.cancellationDetails.comment }
      : {}),
    ...(changes.cancellationDetails?.feedback !== undefined
      ? { feedback: changes.cancellationDetails.feedback }
      : {}),
  };
  const scheduleAt = changes.cancelAtPeriodEnd ? periodEndOf(next) : changes.cancelAt;
  if (scheduleAt !== undefined && scheduleAt !== null)
    return {
      ...next,
      cancel_at: scheduleAt,
      cancel_at_period_end: changes.cancelAtPeriodEnd === true,
      canceled_at: at,
      cancellation_details: { ...withDetails, reason: 'cancellation_requested' },
    };
  const unschedule = changes.cancelAtPeriodEnd === false || changes.cancelAt === null;
  if (unschedule && next.cancel_at !== null)
    return {
      ...next,
      cancel_at: null,
      cancel_at_period_end: false,
      canceled_at: null,
      cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
    };
  return { ...next, cancellation_details: withDetails };
}
