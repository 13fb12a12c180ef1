import { LIVE_STATUSES } from '../access/index.ts';
import { inTransaction } from '../store/index.ts';
import { idOf, linkedCustomer, lockSerialKey, mirrorAnswers, type StripeObject } from '../sync/index.ts';
import type { Billing } from './customers.ts';
import { BillingError } from './errors.ts';
import { type RecurringCost, recurringCostOf } from './plan-timing.ts';

/** An account's subscription as the mirror holds it: what an action changes. */
export type CurrentSubscription = {
  id: string;
  customerId: string;
  status: string;
  /** The first item: Subledger sells one plan per subscription. */
  itemId: string;
  priceId: string;
  /** Null when the price is not a plain recurring one (metered, tiered). */
  cost: RecurringCost | null;
  quantity: number;
  /** The subscription schedule holding a change for the period's end, if any. */
  scheduleId: string | null;
  /** The end of the period paid for (Unix seconds): when a downgrade takes effect. */
  periodEnd: number;
  cancelAtPeriodEnd: boolean;
  /**
   * The mirror row's version (its transaction id): part of the idempotency key of an action, so that a
   * retry of a lost answer reuses the key, and the same action after the state moved on gets a new one.
   */
  version: string;
};

/** The account's live subscription (the newest, if several); `subscription_not_found` when none. */
export async function currentSubscription(billing: Billing, accountId: string): Promise<CurrentSubscription> {
  const customerId = await linkedCustomer(billing.database, accountId, billing.place);
  const { rows } = customerId
    ? await billing.database.pool.query<{ data: StripeObject; version: string }>(
        `select data, xmin::text as version from subscriptions
         where customer_id = $1 and stripe_account = $2 and livemode = $3 and not deleted and status = any($4::text[])
         order by (data->>'created')::bigint desc limit 1`,
        [customerId, billing.place.stripeAccount, billing.place.livemode, [...LIVE_STATUSES]],
      )
    : { rows: [] };
  const subscription = rows[0]?.data;
  const version = rows[0]?.version ?? '';
  const item = (subscription?.items as { data?: StripeObject[] } | undefined)?.data?.[0];
  if (!subscription || !item || !customerId)
    throw new BillingError('subscription_not_found', `account ${accountId} has no live subscription`);
  return {
    id: String(subscription.id),
    customerId,
    status: String(subscription.status),
    itemId: String(item.id),
    priceId: String((item.price as StripeObject | undefined)?.id),
    cost: recurringCostOf((item.price ?? {}) as Parameters<typeof recurringCostOf>[0]),
    scheduleId: idOf(subscription.schedule),
    periodEnd: Number(item.current_period_end ?? subscription.current_period_end ?? 0),
    quantity: Number(item.quantity ?? 1),
    cancelAtPeriodEnd: subscription.cancel_at_period_end === true,
    version,
  };
}

/**
 * Writes what Stripe answered an action with into the mirror now, as a fetch under the customer's
 * serial key, so the next read (and every access cache, through the change notice) sees it at once.
 */
export async function mirrorSubscription(billing: Billing, result: object, askedAt: Date): Promise<void> {
  const customer = (result as { customer?: unknown }).customer;
  await inTransaction(billing.database.pool, async (client) => {
    await lockSerialKey(client, `${billing.place.stripeAccount}/${idOf(customer)}`);
    await mirrorAnswers(client, billing, [{ kind: 'subscription', result }], askedAt);
  });
}
