import type Stripe from 'stripe';

/**
 * Workload steps that change what a subscription lists and which account a customer belongs to: a
 * second item added, and later one of the two removed; a subscription of more items than the page of 10
 * Stripe embeds, changed beyond that page; a customer's account moved twice within one second.
 */

/** More items than the page of 10 Stripe embeds in a subscription (and lines in its invoice). */
const MANY_ITEMS = 12;

/** A subscription given a second item, and which of its two items goes again. */
export type Paired = { subscription: string; removed: string };

const isMonthly = (price: Stripe.Price) => price.recurring?.interval === 'month';

/**
 * Gives each monthly subscription a second item at another of the monthly `prices` (Stripe refuses
 * one price twice) and picks, by the seed, which of the two is later removed: the one it had, or the
 * one it was given.
 */
export async function addSecondItems(
  stripe: Stripe,
  ids: readonly string[],
  prices: readonly Stripe.Price[],
  random: () => number,
): Promise<Paired[]> {
  const monthly = prices.filter(isMonthly);
  const paired: Paired[] = [];
  for (const id of ids) {
    const subscription = await stripe.subscriptions.retrieve(id);
    const first = subscription.items.data[0];
    if (!first || subscription.status === 'incomplete' || subscription.status === 'canceled') continue;
    // Items of one subscription share a billing interval.
    if (!isMonthly(first.price)) continue;
    const others = monthly.filter((price) => price.id !== first.price.id);
    const price = others[Math.floor(random() * others.length)] as Stripe.Price;
    const updated = await stripe.subscriptions.update(id, { items: [{ price: price.id }] });
    const added = updated.items.data.find((item) => item.id !== first.id);
    if (!added) throw new Error(`${id} was given no second item`);
    paired.push({ subscription: id, removed: random() < 0.5 ? first.id : added.id });
  }
  return paired;
}

export async function removeItems(stripe: Stripe, paired: readonly Paired[]): Promise<void> {
  for (const { subscription, removed } of paired)
    await stripe.subscriptions.update(subscription, { items: [{ id: removed, deleted: true }] });
}

/**
 * The customer subscribed to `MANY_ITEMS` monthly prices, one item each: the monthly ones of `plans`,
 * and as many add-ons, made now, as it takes.
 */
export async function subscribeToManyPrices(
  stripe: Stripe,
  plans: readonly Stripe.Price[],
  customer: string,
): Promise<string> {
  const prices = plans.filter(isMonthly);
  const addOns = await stripe.products.create({ name: 'Add-ons' });
  while (prices.length < MANY_ITEMS)
    prices.push(
      await stripe.prices.create({
        product: addOns.id,
        currency: 'usd',
        unit_amount: 100 * prices.length,
        recurring: { interval: 'month' },
      }),
    );
  const subscription = await stripe.subscriptions.create({
    customer,
    items: prices.map((price) => ({ price: price.id })),
  });
  return subscription.id;
}

/**
 * Changes the 11th item's quantity: the page of 10 that the subscription's events embed is the same
 * before and after, so the change is seen only by reading every item.
 */
export async function changeBeyondFirstPage(stripe: Stripe, subscription: string): Promise<void> {
  const items = await stripe.subscriptionItems.list({ subscription, limit: 100 });
  const eleventh = items.data[10];
  if (!eleventh) throw new Error(`${subscription} lists ${items.data.length} items, not ${MANY_ITEMS}`);
  await stripe.subscriptions.update(subscription, {
    items: [{ id: eleventh.id, quantity: (eleventh.quantity ?? 1) + 2 }],
    proration_behavior: 'none',
  });
}

/** Moves the customer to each account in turn, all within one second. */
export async function moveAccount(stripe: Stripe, customer: string, accounts: readonly string[]) {
  await startOfASecond();
  for (const account of accounts)
    await stripe.customers.update(customer, { metadata: { subledger_account_id: account } });
}

/** Waits until the wall clock (Stripe's `created` outside test clocks) has moved to a later second. */
export async function nextSecond(): Promise<void> {
  const second = Math.floor(Date.now() / 1000);
  while (Math.floor(Date.now() / 1000) === second)
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
}

/** Time enough for a few API calls to fall within the second they start in. */
const FEW_CALLS_MS = 250;

/** Returns at once when the current second has time left for a few calls, else in the next second. */
async function startOfASecond(): Promise<void> {
  if (1000 - (Date.now() % 1000) < FEW_CALLS_MS) await nextSecond();
}

/** Advances a test clock and waits until it is ready, as an SDK user does. */
export async function advanceClock(stripe: Stripe, clockId: string, to: number): Promise<void> {
  await stripe.testHelpers.testClocks.advance(clockId, { frozen_time: to });
  for (let attempt = 0; attempt < 100; attempt++) {
    if ((await stripe.testHelpers.testClocks.retrieve(clockId)).status === 'ready') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`test clock ${clockId} did not become ready`);
}
