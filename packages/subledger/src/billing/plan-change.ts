import type Stripe from 'stripe';
import type { Catalog } from '../catalog/index.ts';
import { databaseNow } from '../store/index.ts';
import { requestOptions } from '../sync/index.ts';
import {
  type ActionOptions,
  act,
  releaseSchedule,
  type SubscriptionState,
  settle,
  writeOptions,
} from './acting.ts';
import { type CurrentSubscription, currentSubscription } from './current.ts';
import type { Billing } from './customers.ts';
import { BillingError } from './errors.ts';
import { type PlanChangeTiming, timingOf } from './plan-timing.ts';
import { type PriceChoice, type ResolvedPrice, resolvePrice } from './prices.ts';

export type PlanChangeRequest = PriceChoice & { accountId: string; quantity?: number | undefined };

export type PlanChangePreview = {
  timing: PlanChangeTiming;
  /** When the change takes effect (Unix seconds). */
  effectiveAt: number;
  /** What Stripe will invoice for it: now (prorations) for an upgrade, at the period's end for a downgrade. */
  amountDue: number;
  currency: string;
};

export type PlanChangeResult = SubscriptionState & { timing: PlanChangeTiming; effectiveAt: number };

type Planned = {
  current: CurrentSubscription;
  price: ResolvedPrice;
  quantity: number;
  timing: PlanChangeTiming;
};

/**
 * What a plan change would cost, from Stripe's invoice preview, without changing anything: the
 * prorated invoice of an upgrade, or the first invoice at the new price for a downgrade.
 */
export function previewPlanChange(billing: Billing, catalog: Catalog, request: PlanChangeRequest) {
  return act(async (): Promise<PlanChangePreview> => {
    const planned = await plan(billing, catalog, request);
    const { current, price, quantity, timing } = planned;
    const invoice = await billing.stripe.invoices.createPreview(
      {
        customer: current.customerId,
        subscription: current.id,
        subscription_details: {
          items: [{ id: current.itemId, price: price.id, quantity }],
          proration_behavior: timing === 'now' ? 'always_invoice' : 'none',
        },
      },
      requestOptions(billing.place),
    );
    return {
      timing,
      effectiveAt: timing === 'now' ? Math.floor(Date.now() / 1000) : current.periodEnd,
      amountDue: invoice.amount_due,
      currency: invoice.currency,
    };
  });
}

/**
 * Changes the account's plan: an upgrade at once, prorated and invoiced now; a downgrade at the end of
 * the period, through a subscription schedule whose second phase holds the new price. A later change
 * replaces a downgrade still waiting.
 */
export function changePlan(
  billing: Billing,
  catalog: Catalog,
  request: PlanChangeRequest,
  options: ActionOptions = {},
) {
  return act(async (): Promise<PlanChangeResult> => {
    const planned = await plan(billing, catalog, request);
    const state =
      planned.timing === 'now'
        ? await upgrade(billing, planned, options)
        : await downgrade(billing, planned, options);
    return {
      ...state,
      timing: planned.timing,
      effectiveAt: planned.timing === 'now' ? Math.floor(Date.now() / 1000) : planned.current.periodEnd,
    };
  });
}

async function plan(billing: Billing, catalog: Catalog, request: PlanChangeRequest): Promise<Planned> {
  const param = request.plan !== undefined ? 'plan' : 'price';
  const [current, price] = await Promise.all([
    currentSubscription(billing, request.accountId),
    resolvePrice(billing, catalog, request),
  ]);
  const quantity = request.quantity ?? current.quantity;
  if (!price.cost || !current.cost)
    throw new BillingError(
      'price_mode_mismatch',
      'a plan change needs two recurring prices with amounts',
      param,
    );
  if (price.id === current.priceId && quantity === current.quantity && !current.scheduleId)
    throw new BillingError('plan_unchanged', 'the subscription already has this price and quantity', param);
  const timing = timingOf({ cost: current.cost, quantity: current.quantity }, { cost: price.cost, quantity });
  return { current, price, quantity, timing };
}

async function upgrade(billing: Billing, planned: Planned, options: ActionOptions) {
  const { current, price, quantity } = planned;
  await releaseSchedule(billing, current, options);
  const params: Stripe.SubscriptionUpdateParams = {
    items: [{ id: current.itemId, price: price.id, quantity }],
    proration_behavior: 'always_invoice',
  };
  const askedAt = await databaseNow(billing.database.pool);
  const updated = await billing.stripe.subscriptions.update(
    current.id,
    params,
    writeOptions(billing, 'upgrade', { subscription: current.id, version: current.version, params }, options),
  );
  return settle(billing, updated, askedAt);
}

async function downgrade(billing: Billing, planned: Planned, options: ActionOptions) {
  const { current, price, quantity } = planned;
  const next = price.cost as NonNullable<ResolvedPrice['cost']>;
  const key = { subscription: current.id, version: current.version, price: price.id, quantity };
  const schedule = current.scheduleId
    ? await billing.stripe.subscriptionSchedules.retrieve(
        current.scheduleId,
        {},
        requestOptions(billing.place),
      )
    : await billing.stripe.subscriptionSchedules.create(
        { from_subscription: current.id },
        writeOptions(billing, 'schedule', key, options),
      );
  const now = schedule.phases[0];
  if (!now) throw new BillingError('stripe_refused', 'Stripe returned a schedule without phases');
  await billing.stripe.subscriptionSchedules.update(
    schedule.id,
    {
      end_behavior: 'release',
      phases: [
        {
          items: [{ price: current.priceId, quantity: current.quantity }],
          start_date: now.start_date,
          end_date: now.end_date,
        },
        // One interval of the new price, then the schedule lets go and the subscription renews as it is.
        {
          items: [{ price: price.id, quantity }],
          duration: { interval: next.interval, interval_count: next.intervalCount },
        },
      ],
    },
    writeOptions(billing, 'downgrade', { ...key, schedule: schedule.id }, options),
  );
  const askedAt = await databaseNow(billing.database.pool);
  const subscription = await billing.stripe.subscriptions.retrieve(
    current.id,
    {},
    requestOptions(billing.place),
  );
  return settle(billing, subscription, askedAt);
}
