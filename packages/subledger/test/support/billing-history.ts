import type Stripe from 'stripe';
import { customerWithCard } from '../../src/cli/demo-accounts.ts';

export type BillingHistory = {
  customers: string[];
  subscriptions: string[];
  deletedCustomer: string;
  meter: string;
};

/**
 * A small billing history touching every mirrored kind: a catalog with an entitlement feature, a meter,
 * customers (mapped to app accounts) with subscriptions, paid invoices and invoice payments, updates and
 * cancellations, a direct payment intent, a completed and an open checkout session, a deleted customer.
 * `clocks` adds test clocks, each with that many subscribed customers (accounts `clock<c>_<n>`), which
 * Stripe's plain lists of customers and subscriptions leave out.
 */
export async function createBillingHistory(
  stripe: Stripe,
  emulatorUrl: string,
  options: { customers: number; clocks?: number[] },
): Promise<BillingHistory> {
  const feature = await stripe.entitlements.features.create({ name: 'Reports', lookup_key: 'reports' });
  const product = await stripe.products.create({ name: 'Team' });
  await stripe.products.createFeature(product.id, { entitlement_feature: feature.id });
  const price = await stripe.prices.create({
    product: product.id,
    currency: 'usd',
    unit_amount: 1500,
    recurring: { interval: 'month' },
    lookup_key: 'team_monthly',
  });
  const meter = await stripe.billing.meters.create({
    display_name: 'API calls',
    event_name: 'api_call',
    default_aggregation: { formula: 'sum' },
  });
  const customers: string[] = [];
  const subscriptions: string[] = [];
  for (let index = 0; index < options.customers; index++) {
    const customer = await payingCustomer(stripe, `acct_${index}`);
    customers.push(customer);
    const subscription = await stripe.subscriptions.create({ customer, items: [{ price: price.id }] });
    subscriptions.push(subscription.id);
    if (index % 3 === 1) await stripe.subscriptions.update(subscription.id, { metadata: { tier: 'gold' } });
    if (index % 5 === 4) await stripe.subscriptions.cancel(subscription.id);
  }
  for (const [clockIndex, count] of (options.clocks ?? []).entries()) {
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: Math.floor(Date.now() / 1000) });
    for (let index = 0; index < count; index++) {
      const customer = await customerWithCard(
        stripe,
        `clock${clockIndex}_${index}`,
        'pm_card_visa',
        clock.id,
      );
      customers.push(customer);
      subscriptions.push((await stripe.subscriptions.create({ customer, items: [{ price: price.id }] })).id);
    }
  }
  const first = customers[0] as string;
  await stripe.paymentIntents.create({
    amount: 700,
    currency: 'usd',
    customer: first,
    payment_method: 'pm_card_visa',
    confirm: true,
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
  });
  const session = await stripe.checkout.sessions.create({
    mode: 'subscription',
    line_items: [{ price: price.id, quantity: 1 }],
    success_url: 'https://example.com/ok',
    client_reference_id: 'acct_checkout',
  });
  await fetch(`${emulatorUrl}/_emulator/checkout/sessions/${session.id}/complete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ payment_method: 'pm_card_visa' }),
  }).then((response) => response.arrayBuffer());
  await stripe.checkout.sessions.create({
    mode: 'payment',
    line_items: [{ price_data: { currency: 'usd', unit_amount: 900, product: product.id }, quantity: 1 }],
    success_url: 'https://example.com/ok',
  });
  const doomed = await stripe.customers.create({ email: 'gone@example.com' });
  await stripe.customers.del(doomed.id);
  return { customers, subscriptions, deletedCustomer: doomed.id, meter: meter.id };
}

/** A customer with a default card, mapped to an app account through its metadata. */
export const payingCustomer = (stripe: Stripe, accountId: string): Promise<string> =>
  customerWithCard(stripe, accountId, 'pm_card_visa');

/**
 * A customer (with `metadata`) subscribed, with a card, to `count` monthly prices of one product: more
 * than 10 makes a subscription whose items, and an invoice whose lines, Stripe embeds one page of.
 */
export async function subscribedToManyPrices(
  stripe: Stripe,
  count: number,
  metadata: Record<string, string> = {},
): Promise<{ customer: Stripe.Customer; subscription: Stripe.Subscription }> {
  const product = await stripe.products.create({ name: 'Seats and add-ons' });
  const prices = await Promise.all(
    Array.from({ length: count }, (_, index) =>
      stripe.prices.create({
        product: product.id,
        currency: 'usd',
        unit_amount: 100 + index,
        recurring: { interval: 'month' },
      }),
    ),
  );
  const customer = await stripe.customers.create({ payment_method: 'pm_card_visa', metadata });
  const [card] = (await stripe.paymentMethods.list({ customer: customer.id })).data;
  const subscription = await stripe.subscriptions.create({
    customer: customer.id,
    items: prices.map((price) => ({ price: price.id })),
    default_payment_method: card?.id ?? '',
  });
  return { customer, subscription };
}

/** A 'Team' product and its $15 monthly price, for tests that need a plan to subscribe to. */
export async function teamMonthlyPrice(stripe: Stripe): Promise<Stripe.Price> {
  const product = await stripe.products.create({ name: 'Team' });
  return stripe.prices.create({
    product: product.id,
    currency: 'usd',
    unit_amount: 1500,
    recurring: { interval: 'month' },
  });
}
