import type Stripe from 'stripe';
import type { Harness } from './support.ts';

/** Shared setup for the billing tests: prices, customers with cards, clocks, and the event log. */
export const DAY = 86_400;

export const utc = (iso: string) => Date.parse(iso) / 1000;

export async function recurringPrice(
  h: Harness,
  unitAmount: number,
  recurring: Stripe.PriceCreateParams.Recurring = { interval: 'month' },
  productName = 'Pro',
): Promise<Stripe.Price> {
  const product = await h.stripe.products.create({ name: productName });
  return h.stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: unitAmount, recurring });
}

/** A customer whose default payment method is the card a test token stands for. */
export async function customerWithCard(
  h: Harness,
  token = 'pm_card_visa',
  testClock?: string,
): Promise<{ customer: Stripe.Customer; paymentMethod: string }> {
  const created = await h.stripe.customers.create({
    email: 'billing@example.com',
    payment_method: token,
    ...(testClock ? { test_clock: testClock } : {}),
  });
  const methods = await h.stripe.paymentMethods.list({ customer: created.id });
  const paymentMethod = methods.data[0]?.id ?? '';
  const customer = await h.stripe.customers.update(created.id, {
    invoice_settings: { default_payment_method: paymentMethod },
  });
  return { customer, paymentMethod };
}

/** Attaches another card and makes it the customer's default. */
export async function switchCard(h: Harness, customerId: string, token: string): Promise<string> {
  const paymentMethod = await h.stripe.paymentMethods.attach(token, { customer: customerId });
  await h.stripe.customers.update(customerId, {
    invoice_settings: { default_payment_method: paymentMethod.id },
  });
  return paymentMethod.id;
}

export async function clockAt(h: Harness, frozenTime: number): Promise<Stripe.TestHelpers.TestClock> {
  return h.stripe.testHelpers.testClocks.create({ frozen_time: frozenTime });
}

/** A customer on a new test clock frozen at `frozenTime`, paying by card, subscribed to `price`. */
export async function subscribedOnClock(h: Harness, frozenTime: number, price: Stripe.Price) {
  const clock = await clockAt(h, frozenTime);
  const { customer } = await customerWithCard(h, 'pm_card_visa', clock.id);
  const subscription = await h.stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: price.id }],
  });
  return { clock, customer, subscription };
}

/** Advances a test clock and waits for it to be ready, as an SDK user does. */
export async function advance(h: Harness, clockId: string, to: number): Promise<void> {
  await h.stripe.testHelpers.testClocks.advance(clockId, { frozen_time: to });
  for (let attempt = 0; attempt < 50; attempt++) {
    if ((await h.stripe.testHelpers.testClocks.retrieve(clockId)).status === 'ready') return;
  }
  throw new Error(`test clock ${clockId} did not become ready`);
}

type StoredEvent = {
  type: string;
  created: number;
  data: { object: { id?: string } & Record<string, unknown>; previous_attributes?: Record<string, unknown> };
};

/** Every recorded event, oldest first (read from the store: the order events were emitted in). */
export function events(h: Harness): StoredEvent[] {
  const partition = h.emulator.emulator.partition(null, false);
  return [...partition.table<StoredEvent & { id: string }>('event').values()];
}

/** Event types from the `from`th recorded event on, optionally only those of some prefixes. */
export function typesSince(h: Harness, from: number, prefixes: string[] = []): string[] {
  return events(h)
    .slice(from)
    .map((event) => event.type)
    .filter((type) => prefixes.length === 0 || prefixes.some((prefix) => type.startsWith(prefix)));
}

export const eventCount = (h: Harness) => events(h).length;
