import { createHash } from 'node:crypto';
import type Stripe from 'stripe';
import { databaseNow } from '../store/index.ts';
import { requestOptions, type StripeObject } from '../sync/index.ts';
import { type CurrentSubscription, mirrorSubscription } from './current.ts';
import type { Billing } from './customers.ts';
import { fromStripe } from './errors.ts';

/** What an action on an account's subscription answers: the subscription as Stripe has it now. */
export type SubscriptionState = {
  id: string;
  status: string;
  priceId: string;
  quantity: number;
  cancelAtPeriodEnd: boolean;
  /** When a scheduled cancel takes effect (Unix seconds); null when none is scheduled. */
  cancelAt: number | null;
};

/** An idempotency key of the request itself: the same request retried gets Stripe's first answer. */
export function derivedKey(action: string, params: unknown): string {
  return `subledger-${action}-${createHash('sha256').update(JSON.stringify(params)).digest('hex').slice(0, 40)}`;
}

export type ActionOptions = { idempotencyKey?: string | undefined };

/** Idempotency: the client's key, else one derived from the action and its parameters. */
export function writeOptions(
  billing: Billing,
  action: string,
  params: unknown,
  options: ActionOptions,
): Stripe.RequestOptions {
  return {
    ...requestOptions(billing.place),
    idempotencyKey: options.idempotencyKey ?? derivedKey(action, params),
  };
}

/** Mirrors the subscription Stripe answered with (asked for at `askedAt`) and says what it now is. */
export async function settle(
  billing: Billing,
  subscription: Stripe.Subscription,
  askedAt: Date,
): Promise<SubscriptionState> {
  await mirrorSubscription(billing, subscription as unknown as StripeObject, askedAt);
  const item = subscription.items.data[0];
  return {
    id: subscription.id,
    status: subscription.status,
    priceId: item?.price.id ?? '',
    quantity: item?.quantity ?? 1,
    cancelAtPeriodEnd: subscription.cancel_at_period_end,
    cancelAt: subscription.cancel_at ?? null,
  };
}

export async function act<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw fromStripe(error);
  }
}

/**
 * Lets go of the subscription's schedule (a downgrade waiting for the period's end, or one that took
 * effect and runs out its phase), so that a change made now is not undone by a phase that follows.
 */
export async function releaseSchedule(
  billing: Billing,
  current: CurrentSubscription,
  options: ActionOptions,
) {
  if (!current.scheduleId) return;
  await billing.stripe.subscriptionSchedules.release(
    current.scheduleId,
    {},
    writeOptions(billing, 'release', { schedule: current.scheduleId, version: current.version }, options),
  );
  const askedAt = await databaseNow(billing.database.pool);
  await mirrorSubscription(
    billing,
    await billing.stripe.subscriptions.retrieve(current.id, {}, requestOptions(billing.place)),
    askedAt,
  );
}
