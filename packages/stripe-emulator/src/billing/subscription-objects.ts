import type { ListObject } from '../core/list.ts';
import type { Period } from './periods.ts';
import type { WirePlan, WirePrice, WireSubscription, WireSubscriptionItem } from './store.ts';

/** The legacy `plan` view of a recurring price, which subscription items still carry. */
export function planFromPrice(price: WirePrice): WirePlan {
  const recurring = price.recurring;
  return {
    id: price.id,
    object: 'plan',
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: price.billing_scheme,
    created: price.created,
    currency: price.currency,
    interval: recurring?.interval ?? 'month',
    interval_count: recurring?.interval_count ?? 1,
    livemode: price.livemode,
    metadata: price.metadata,
    meter: recurring?.meter ?? null,
    nickname: price.nickname,
    product: price.product,
    tiers_mode: price.tiers_mode,
    transform_usage: price.transform_quantity,
    trial_period_days: recurring?.trial_period_days ?? null,
    usage_type: recurring?.usage_type ?? 'licensed',
  };
}

export type ItemFields = {
  id: string;
  subscription: string;
  price: WirePrice;
  quantity: number;
  metadata: Record<string, string>;
  period: Period;
  created: number;
};

export function newSubscriptionItem(fields: ItemFields): WireSubscriptionItem {
  return {
    id: fields.id,
    object: 'subscription_item',
    billing_thresholds: null,
    created: fields.created,
    current_period_end: fields.period.end,
    current_period_start: fields.period.start,
    current_trial: null,
    discounts: [],
    metadata: fields.metadata,
    plan: planFromPrice(fields.price),
    price: fields.price,
    // Metered items bill usage, not a quantity: Stripe leaves the field out.
    ...(fields.price.recurring?.usage_type === 'metered' ? {} : { quantity: fields.quantity }),
    subscription: fields.subscription,
    tax_rates: [],
  };
}

/**
 * An embedded list with `total_count`, as the store keeps it inside an object: every row. Answers and
 * events carry its first page (`core/embedded-pages.ts`).
 */
export function fullList<T>(data: T[], url: string): ListObject<T> & { total_count: number } {
  return { object: 'list', data, has_more: false, total_count: data.length, url };
}

export type SubscriptionFields = {
  id: string;
  customer: string;
  livemode: boolean;
  created: number;
  currency: string;
  status: WireSubscription['status'];
  billingCycleAnchor: number;
  collectionMethod: 'charge_automatically' | 'send_invoice';
  daysUntilDue: number | null;
  defaultPaymentMethod: string | null;
  description: string | null;
  metadata: Record<string, string>;
  trial: Period | null;
  testClock: string | null;
  missingPaymentMethodBehavior: 'cancel' | 'create_invoice' | 'pause';
  items: WireSubscriptionItem[];
};

export function newSubscription(fields: SubscriptionFields): WireSubscription {
  return {
    id: fields.id,
    object: 'subscription',
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: fields.billingCycleAnchor,
    billing_cycle_anchor_config: null,
    billing_mode: {
      flexible: { proration_discounts: 'included' },
      type: 'flexible',
      updated_at: fields.created,
    },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
    collection_method: fields.collectionMethod,
    created: fields.created,
    currency: fields.currency,
    customer: fields.customer,
    customer_account: null,
    days_until_due: fields.daysUntilDue,
    default_payment_method: fields.defaultPaymentMethod,
    default_source: null,
    default_tax_rates: [],
    description: fields.description,
    discounts: [],
    ended_at: null,
    invoice_settings: {
      account_tax_ids: null,
      custom_fields: null,
      description: null,
      footer: null,
      issuer: { type: 'self' },
    },
    items: fullList(fields.items, `/v1/subscription_items?subscription=${fields.id}`),
    latest_invoice: null,
    livemode: fields.livemode,
    managed_payments: null,
    metadata: fields.metadata,
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: {
      payment_method_options: null,
      payment_method_types: null,
      save_default_payment_method: 'off',
    },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: fields.created,
    status: fields.status,
    test_clock: fields.testClock,
    transfer_data: null,
    trial_end: fields.trial?.end ?? null,
    trial_settings: {
      end_behavior: {
        billing_cycle_anchor: null,
        missing_payment_method: fields.missingPaymentMethodBehavior,
      },
    },
    trial_start: fields.trial?.start ?? null,
  };
}

/** When the subscription's current period ends: the earliest end among its items. */
export function periodEndOf(subscription: WireSubscription): number {
  const ends = subscription.items.data.map((item) => item.current_period_end);
  return ends.length > 0 ? Math.min(...ends) : subscription.billing_cycle_anchor;
}

export function periodStartOf(subscription: WireSubscription): number {
  const starts = subscription.items.data.map((item) => item.current_period_start);
  return starts.length > 0 ? Math.min(...starts) : subscription.start_date;
}
