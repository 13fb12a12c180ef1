import type Stripe from 'stripe';
import { resourceMissing } from '../core/errors.ts';
import type { Scope } from '../core/scope.ts';
import type { Partition } from '../core/store.ts';
import type { Wire } from '../core/wire.ts';
import type { WirePrice, WireSubscription } from './store.ts';

/**
 * Subscription schedules (`sub_sched_…`): a subscription's future as a list of phases, each a set of
 * prices from one date to the next. Not to be confused with `schedule.ts`, the engine's due work.
 * Terms: the *current phase* is the one whose dates hold "now"; a schedule *governs* its subscription
 * while `active`; *release* leaves the subscription as it is, without a schedule.
 */
export type WireSubscriptionSchedule = Wire<Stripe.SubscriptionSchedule>;
export type WirePhase = WireSubscriptionSchedule['phases'][number];
export type PhaseProration = 'always_invoice' | 'create_prorations' | 'none';
export type EndBehavior = 'release' | 'cancel';

export const subscriptionSchedules = (partition: Partition) =>
  partition.table<WireSubscriptionSchedule>('subscription_schedule');

export function requireSchedule(scope: Scope, id: string, param = 'id'): WireSubscriptionSchedule {
  const schedule = subscriptionSchedules(scope.partition).get(id);
  if (!schedule) throw resourceMissing('subscription_schedule', id, param);
  return schedule;
}

/** A phase as the engine plans it, before it is rendered as Stripe's object. */
export type PhaseSpec = {
  items: { price: WirePrice; quantity: number | undefined; metadata: Record<string, string> }[];
  start: number;
  end: number;
  prorationBehavior: PhaseProration;
  metadata: Record<string, string>;
};

/** Stripe renders a phase's prices (and their legacy plans) as ids. */
export function phaseObject(spec: PhaseSpec): WirePhase {
  return {
    add_invoice_items: [],
    application_fee_percent: null,
    billing_cycle_anchor: null,
    billing_thresholds: null,
    collection_method: null,
    currency: spec.items[0]?.price.currency ?? 'usd',
    default_payment_method: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    end_date: spec.end,
    invoice_settings: null,
    items: spec.items.map((item) => ({
      billing_thresholds: null,
      discounts: [],
      metadata: item.metadata,
      plan: item.price.id,
      price: item.price.id,
      // Metered prices bill usage, not a quantity: Stripe leaves the field out.
      ...(item.price.recurring?.usage_type === 'metered' ? {} : { quantity: item.quantity ?? 1 }),
      tax_rates: [],
    })),
    metadata: spec.metadata,
    on_behalf_of: null,
    proration_behavior: spec.prorationBehavior,
    start_date: spec.start,
    transfer_data: null,
    trial_end: null,
  };
}

export type ScheduleFields = {
  id: string;
  created: number;
  subscription: WireSubscription;
  phases: WirePhase[];
  endBehavior: EndBehavior;
  metadata: Record<string, string>;
};

/** A schedule that governs `subscription` from now on (`status: active`). */
export function newSchedule(fields: ScheduleFields): WireSubscriptionSchedule {
  const { subscription } = fields;
  const current = currentPhaseAt(fields.phases, fields.created);
  return {
    id: fields.id,
    object: 'subscription_schedule',
    application: null,
    billing_mode: subscription.billing_mode,
    canceled_at: null,
    completed_at: null,
    created: fields.created,
    current_phase: current ? { start_date: current.start_date, end_date: current.end_date } : null,
    customer: subscription.customer,
    customer_account: null,
    default_settings: {
      application_fee_percent: null,
      automatic_tax: { disabled_reason: null, enabled: false, liability: null },
      billing_cycle_anchor: 'automatic',
      billing_thresholds: null,
      collection_method: subscription.collection_method,
      default_payment_method: subscription.default_payment_method,
      description: null,
      invoice_settings: {
        account_tax_ids: null,
        custom_fields: null,
        days_until_due: subscription.days_until_due,
        description: null,
        footer: null,
        issuer: { type: 'self' },
      },
      on_behalf_of: null,
      transfer_data: null,
    },
    end_behavior: fields.endBehavior,
    livemode: subscription.livemode,
    metadata: fields.metadata,
    pause_schedules: [],
    phases: fields.phases,
    released_at: null,
    released_subscription: null,
    status: 'active',
    subscription: subscription.id,
    test_clock: subscription.test_clock,
  };
}

/** The phase whose dates hold `at`, if any. */
export const currentPhaseAt = (phases: WirePhase[], at: number): WirePhase | undefined =>
  phases.find((phase) => phase.start_date <= at && at < phase.end_date);

/** The phase after the current one; `undefined` when the current phase is the last. */
export function phaseAfterCurrent(schedule: WireSubscriptionSchedule): WirePhase | undefined {
  const end = schedule.current_phase?.end_date;
  return schedule.phases.find((phase) => phase.start_date === end);
}

const GOVERNING = new Set(['active', 'not_started']);

/** Whether the schedule still decides its subscription's future (it can be updated, released, canceled). */
export const isGoverning = (schedule: WireSubscriptionSchedule) => GOVERNING.has(String(schedule.status));

export const priceIdOf = (price: WirePhase['items'][number]['price']): string =>
  typeof price === 'string' ? price : price.id;
