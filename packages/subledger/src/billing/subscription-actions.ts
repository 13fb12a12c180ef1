import type Stripe from 'stripe';
import { databaseNow } from '../store/index.ts';
import {
  type ActionOptions,
  act,
  releaseSchedule,
  type SubscriptionState,
  settle,
  writeOptions,
} from './acting.ts';
import { currentSubscription } from './current.ts';
import { type Billing, withCustomer } from './customers.ts';
import { BillingError } from './errors.ts';

type Options = ActionOptions;

/** A billing portal session of the account's customer: the URL to send the user to. */
export async function portalSession(
  billing: Billing,
  accountId: string,
  returnUrl: string,
  options: Options = {},
): Promise<{ url: string }> {
  return act(async () => {
    const session = await withCustomer(billing, accountId, (customer) => {
      const params = { customer, return_url: returnUrl };
      // A portal session lives minutes: a retry within the minute gets the same one, a later visit a new one.
      const minute = Math.floor(Date.now() / 60_000);
      return billing.stripe.billingPortal.sessions.create(
        params,
        writeOptions(billing, 'portal', { ...params, minute }, options),
      );
    });
    return { url: session.url };
  });
}

/** Seats: the subscription's quantity, prorated from now. */
export function changeQuantity(billing: Billing, accountId: string, quantity: number, options: Options = {}) {
  return update(billing, accountId, options, (current) => {
    if (current.quantity === quantity)
      throw new BillingError(
        'plan_unchanged',
        `the subscription already has quantity ${quantity}`,
        'quantity',
      );
    return { items: [{ id: current.itemId, quantity }], proration_behavior: 'create_prorations' };
  });
}

/** Cancels at the end of the period paid for: access lasts until then. */
export function cancelAtPeriodEnd(billing: Billing, accountId: string, options: Options = {}) {
  return update(billing, accountId, options, () => ({ cancel_at_period_end: true }));
}

/** Takes back a cancel scheduled for the period's end. */
export function resume(billing: Billing, accountId: string, options: Options = {}) {
  return update(billing, accountId, options, (current) => {
    if (!current.cancelAtPeriodEnd)
      throw new BillingError('plan_unchanged', 'the subscription has no cancel scheduled to take back');
    return { cancel_at_period_end: false };
  });
}

/** Ends the subscription now; access ends with it. */
export async function cancelNow(billing: Billing, accountId: string, options: Options = {}) {
  return act(async () => {
    const current = await currentSubscription(billing, accountId);
    await releaseSchedule(billing, current, options);
    const askedAt = await databaseNow(billing.database.pool);
    const canceled = await billing.stripe.subscriptions.cancel(
      current.id,
      {},
      writeOptions(billing, 'cancel', { subscription: current.id, version: current.version }, options),
    );
    return settle(billing, canceled, askedAt);
  });
}

async function update(
  billing: Billing,
  accountId: string,
  options: Options,
  change: (current: Awaited<ReturnType<typeof currentSubscription>>) => Stripe.SubscriptionUpdateParams,
): Promise<SubscriptionState> {
  return act(async () => {
    const current = await currentSubscription(billing, accountId);
    const params = change(current);
    await releaseSchedule(billing, current, options);
    const askedAt = await databaseNow(billing.database.pool);
    const updated = await billing.stripe.subscriptions.update(
      current.id,
      params,
      writeOptions(
        billing,
        'update',
        { subscription: current.id, version: current.version, params },
        options,
      ),
    );
    return settle(billing, updated, askedAt);
  });
}
