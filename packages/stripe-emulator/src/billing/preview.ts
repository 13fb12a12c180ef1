import { z } from 'zod';
import { invalidState, parameterInvalid, parameterMissing } from '../core/errors.ts';
import { bool, int, metadata } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import { requireCustomer, type WireCustomer } from '../customers/index.ts';
import { specOfInvoiceItem } from './invoice-item-objects.ts';
import { type LineSpec, newInvoice, newLine } from './invoice-objects.ts';
import { pendingItemsFor } from './invoices.ts';
import { currentPeriod } from './item-changes.ts';
import {
  billedInAdvance,
  contextOf,
  periodLine,
  recurrenceOf,
  recurringPrice,
  trialPeriodLine,
} from './lines.ts';
import { nextBoundaryAfter, type Period } from './periods.ts';
import {
  idOf,
  requireSubscription,
  subscriptions,
  type WireInvoice,
  type WireSubscription,
} from './store.ts';
import { periodEndOf } from './subscription-objects.ts';
import {
  paymentBehaviorParam,
  prorationBehaviorParam,
  toItemChanges,
  trialEndParam,
  updateParams,
} from './subscription-params.ts';
import { collectionMethodOf, customerOf } from './subscription-store.ts';
import { planUpdate, type SubscriptionChanges } from './update-plan.ts';

/**
 * `POST /v1/invoices/create_preview`: the invoice a subscription change would produce — the
 * immediate proration invoice (`always_invoice`, interval switch) or else the next renewal with the
 * change's prorations on it — or the first invoice of a subscription not yet created. Nothing is
 * stored; the invoice id starts with `upcoming_in`.
 */
const detailsParam = z.strictObject({
  items: updateParams.shape.items,
  proration_behavior: prorationBehaviorParam.optional(),
  proration_date: int().optional(),
  trial_end: trialEndParam.optional(),
  cancel_at_period_end: bool().optional(),
  cancel_now: bool().optional(),
  billing_cycle_anchor: z.union([z.literal('now'), z.literal('unchanged')]).optional(),
  metadata: metadata().optional(),
  default_payment_method: z.string().optional(),
  payment_behavior: paymentBehaviorParam.optional(),
});

export const previewParams = z.strictObject({
  customer: z.string().optional(),
  subscription: z.string().optional(),
  subscription_details: detailsParam.optional(),
  currency: z.string().optional(),
});

type Details = z.output<typeof detailsParam>;

function toChanges(details: Details | undefined): SubscriptionChanges {
  return {
    items: toItemChanges(details?.items),
    prorationBehavior: details?.proration_behavior,
    prorationDate: details?.proration_date,
    trialEnd: details?.trial_end,
    cancelAtPeriodEnd: details?.cancel_at_period_end,
    billingCycleAnchor: details?.billing_cycle_anchor,
    metadata: details?.metadata,
  };
}

type Preview = {
  customer: WireCustomer;
  subscription: WireSubscription | null;
  created: number;
  currency: string;
  billingReason: 'subscription_create' | 'subscription_cycle' | 'subscription_update' | 'upcoming';
  period: Period;
  lines: LineSpec[];
  prorationDate: number | null;
};

function previewInvoice(scope: Scope, preview: Preview): WireInvoice {
  const { random } = scope.emulator;
  const id = `upcoming_in_${random.token(24)}`;
  const invoice = newInvoice({
    id,
    customer: preview.customer,
    livemode: scope.partition.livemode,
    created: preview.created,
    currency: preview.currency,
    billingReason: preview.billingReason,
    collectionMethod: preview.subscription
      ? collectionMethodOf(preview.subscription)
      : 'charge_automatically',
    subscription: preview.subscription && {
      id: preview.subscription.id,
      metadata: preview.subscription.metadata,
    },
    period: preview.period,
    autoAdvance: false,
    automaticallyFinalizesAt: null,
    daysUntilDue: preview.subscription?.days_until_due ?? null,
    defaultPaymentMethod: null,
    description: null,
    metadata: {},
    lines: preview.lines.map((spec) =>
      newLine(`il_tmp_${random.token(24)}`, id, scope.partition.livemode, spec),
    ),
  });
  const details = invoice.parent?.subscription_details;
  if (details && preview.prorationDate !== null) details.subscription_proration_date = preview.prorationDate;
  return invoice;
}

const noUpcoming = (customerId: string) =>
  invalidState(`No upcoming invoices for customer: ${customerId}`, undefined, 'invoice_upcoming_none');

function previewChange(
  scope: Scope,
  subscription: WireSubscription,
  details: Details | undefined,
): WireInvoice {
  const customer = requireCustomer(scope, customerOf(subscription), 'customer');
  const at = scope.emulator.nowFor(scope.partition, idOf(subscription.test_clock));
  const changes = toChanges(details);
  const plan = planUpdate(scope, subscription, changes, at);
  const pending = pendingItemsFor(scope, customer.id, subscription.id).map(specOfInvoiceItem);
  const prorationDate = plan.prorations.length > 0 ? (changes.prorationDate ?? at) : null;
  const base = { customer, subscription, currency: subscription.currency, prorationDate };
  if (plan.invoiceNow)
    return previewInvoice(scope, {
      ...base,
      created: at,
      billingReason: 'subscription_update',
      period: { start: currentPeriod(subscription).start, end: at },
      lines: [...pending, ...plan.prorations, ...plan.newPeriodLines],
    });
  const next = plan.next;
  const renewsAt = next.status === 'trialing' && next.trial_end !== null ? next.trial_end : periodEndOf(next);
  const ended = String(next.status) === 'canceled' || String(next.status) === 'incomplete_expired';
  const cancelsFirst = details?.cancel_now || (next.cancel_at !== null && next.cancel_at <= renewsAt);
  const renewal = ended || cancelsFirst ? [] : renewalLines(scope, next, renewsAt);
  const lines = [...pending, ...plan.prorations, ...renewal];
  if (lines.length === 0) throw noUpcoming(customer.id);
  return previewInvoice(scope, {
    ...base,
    created: renewsAt,
    billingReason: 'subscription_cycle',
    period: { start: currentPeriod(next).start, end: renewsAt },
    lines,
  });
}

function renewalLines(scope: Scope, subscription: WireSubscription, renewsAt: number): LineSpec[] {
  return subscription.items.data.filter(billedInAdvance).map((item) => {
    const recurrence = recurrenceOf(item.price);
    const anchor = subscription.status === 'trialing' ? renewsAt : subscription.billing_cycle_anchor;
    const period = { start: renewsAt, end: nextBoundaryAfter(anchor, recurrence, renewsAt) };
    return periodLine(scope, contextOf(item), period);
  });
}

function previewNewSubscription(scope: Scope, customer: WireCustomer, details: Details): WireInvoice {
  const at = scope.emulator.nowFor(scope.partition, idOf(customer.test_clock));
  const items = details.items ?? [];
  if (items.length === 0) throw parameterMissing('subscription_details[items]');
  const trialEnd = typeof details.trial_end === 'number' && details.trial_end > at ? details.trial_end : null;
  const lines = items.map((item, index) => {
    const priceId = item.price ?? item.plan;
    if (!priceId) throw parameterMissing(`subscription_details[items][${index}][price]`);
    const price = recurringPrice(scope, priceId, `subscription_details[items][${index}][price]`);
    const period: Period = trialEnd
      ? { start: at, end: trialEnd }
      : { start: at, end: nextBoundaryAfter(at, recurrenceOf(price), at) };
    const context = { subscription: '', item: '', price, quantity: item.quantity ?? 1 };
    return trialEnd ? trialPeriodLine(scope, context, period) : periodLine(scope, context, period);
  });
  const currency = lines[0]?.currency ?? 'usd';
  return previewInvoice(scope, {
    customer,
    subscription: null,
    created: at,
    currency,
    billingReason: 'subscription_create',
    period: { start: at, end: at },
    lines: lines.map((line) => ({ ...line, subscription: null, subscriptionItem: null })),
    prorationDate: null,
  });
}

export function createPreview(scope: Scope, params: z.output<typeof previewParams>): WireInvoice {
  if (params.subscription) {
    const subscription = requireSubscription(scope, params.subscription, 'subscription');
    if (params.customer && params.customer !== customerOf(subscription))
      throw parameterInvalid('customer', 'The subscription does not belong to this customer.');
    return previewChange(scope, subscription, params.subscription_details);
  }
  if (!params.customer) throw parameterMissing('customer');
  const customer = requireCustomer(scope, params.customer, 'customer');
  if (params.subscription_details?.items)
    return previewNewSubscription(scope, customer, params.subscription_details);
  const live = subscriptions(scope.partition)
    .newestFirst()
    .filter(
      (s) => customerOf(s) === customer.id && !['canceled', 'incomplete_expired'].includes(String(s.status)),
    );
  if (live.length === 1 && live[0]) return previewChange(scope, live[0], params.subscription_details);
  const pending = pendingItemsFor(scope, customer.id, null).map(specOfInvoiceItem);
  if (pending.length === 0) throw noUpcoming(customer.id);
  const at = scope.emulator.nowFor(scope.partition, idOf(customer.test_clock));
  return previewInvoice(scope, {
    customer,
    subscription: null,
    created: at,
    currency: pending[0]?.currency ?? 'usd',
    billingReason: 'upcoming',
    period: { start: at, end: at },
    lines: pending,
    prorationDate: null,
  });
}
