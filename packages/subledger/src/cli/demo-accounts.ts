import type Stripe from 'stripe';

/**
 * Demo accounts, one per access state a newcomer should see answered: each is a Stripe customer linked
 * to the app account through its metadata, brought into its state by the same calls a real app (or
 * Stripe's own billing) would make. Test mode only: they use test cards and a test clock.
 */
export const DEMO_ACCOUNTS = {
  demo_active: 'active',
  demo_trialing: 'trialing',
  demo_canceling: 'canceled',
  demo_past_due: 'past_due',
  demo_incomplete: 'incomplete',
  demo_canceled: 'expired',
} as const;

export type DemoAccountId = keyof typeof DEMO_ACCOUNTS;

const DAY = 86_400;

/** Creates every demo account on `price` (a recurring price); returns each account's subscription id. */
export async function createDemoAccounts(
  stripe: Stripe,
  price: string,
): Promise<Record<DemoAccountId, string>> {
  const subscribe = async (accountId: DemoAccountId, card: string, extra: SubscriptionExtras = {}) => {
    const customer = await customerWithCard(stripe, accountId, card);
    return stripe.subscriptions.create({ customer, items: [{ price }], ...extra });
  };
  const active = await subscribe('demo_active', 'pm_card_visa');
  const trialing = await subscribe('demo_trialing', 'pm_card_visa', { trial_period_days: 14 });
  const canceling = await subscribe('demo_canceling', 'pm_card_visa');
  await stripe.subscriptions.update(canceling.id, { cancel_at_period_end: true });
  const canceled = await subscribe('demo_canceled', 'pm_card_visa');
  await stripe.subscriptions.cancel(canceled.id);
  // The first payment fails: Stripe keeps the subscription incomplete, waiting for it.
  const incomplete = await subscribe('demo_incomplete', 'pm_card_chargeCustomerFail', {
    payment_behavior: 'allow_incomplete',
  });
  return {
    demo_active: active.id,
    demo_trialing: trialing.id,
    demo_canceling: canceling.id,
    demo_canceled: canceled.id,
    demo_incomplete: incomplete.id,
    demo_past_due: await pastDueSubscription(stripe, price),
  };
}

type SubscriptionExtras = Omit<Stripe.SubscriptionCreateParams, 'customer' | 'items'> & {
  testClock?: string;
};

/**
 * A renewal that fails: paid on a good card, the card then replaced by one whose charges fail, and the
 * customer's test clock moved past the period's end, where Stripe bills the renewal and dunning begins.
 */
async function pastDueSubscription(stripe: Stripe, price: string): Promise<string> {
  const clock = await stripe.testHelpers.testClocks.create({
    frozen_time: Math.floor(Date.now() / 1000),
    name: 'Subledger demo: past due',
  });
  const customer = await customerWithCard(stripe, 'demo_past_due', 'pm_card_visa', clock.id);
  const subscription = await stripe.subscriptions.create({ customer, items: [{ price }] });
  const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer });
  await stripe.customers.update(customer, { invoice_settings: { default_payment_method: failing.id } });
  const periodEnd = subscription.items.data[0]?.current_period_end ?? clock.frozen_time + 31 * DAY;
  await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: periodEnd + 3600 });
  await untilReady(stripe, clock.id);
  return subscription.id;
}

async function untilReady(stripe: Stripe, clockId: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if ((await stripe.testHelpers.testClocks.retrieve(clockId)).status === 'ready') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the demo test clock ${clockId} did not finish advancing`);
}

/** A customer whose default payment method is the given test card, linked to `accountId`. */
export async function customerWithCard(
  stripe: Stripe,
  accountId: string,
  card: string,
  testClock?: string,
): Promise<string> {
  const customer = await stripe.customers.create({
    email: `${accountId}@example.com`,
    payment_method: card,
    metadata: { subledger_account_id: accountId },
    ...(testClock ? { test_clock: testClock } : {}),
  });
  const [method] = (await stripe.paymentMethods.list({ customer: customer.id })).data;
  await stripe.customers.update(customer.id, {
    invoice_settings: { default_payment_method: method?.id ?? '' },
  });
  return customer.id;
}
