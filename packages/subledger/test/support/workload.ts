import type Stripe from 'stripe';
import { seededRandom } from './seeded-random.ts';
import { cardPayments, customerWithCard, type TestCard } from './workload-cards.ts';
import { type Catalog, createCatalog } from './workload-catalog.ts';
import {
  addSecondItems,
  advanceClock,
  changeBeyondFirstPage,
  moveAccount,
  nextSecond,
  removeItems,
  subscribeToManyPrices,
} from './workload-items.ts';

/**
 * A seeded billing workload driven through the official SDK, as an app and its customers would: a
 * catalog with entitlement features and a meter, customers with cards (some that decline), subscriptions
 * (some trialing, some on a test clock), quantity, price and metadata changes, cancellations, checkout
 * sessions, a deleted draft invoice, a deleted customer and product, and a test clock advanced past a
 * renewal. Then, last, so that every event before is as it always was: one customer's account is
 * moved twice within a second and twice again in the next; some subscriptions are given a second item;
 * one customer subscribes to 12 prices (more items than the page of 10 Stripe embeds in events). A
 * while later the account is moved once more, each subscription given a second item loses one of its
 * two, and the 11th item of the 12 changes, beyond the page its events show. It yields a few hundred
 * events of every mirrored type; the same seed makes the same calls.
 */

export type WorkloadOptions = {
  seed?: number;
  /** Customers who subscribe through the API (default 8). */
  customers?: number;
  /** Of those, how many pay with a card that declines every charge (default 2). */
  failingCards?: number;
  /**
   * Customers on a test clock advanced past their first renewal (default 3). With none, no test clock
   * is made: Stripe has none in live mode, and refuses them to a connected account.
   */
  clockCustomers?: number;
  /**
   * How far behind Stripe's clock the test clock starts, in days (default 60: it stays in the past
   * through the run, as a clock set to a fixed date does).
   */
  clockStartsDaysAgo?: number;
  /** Customers who subscribe through a completed checkout session (default 2). */
  checkouts?: number;
  /** Whether the SDK's key is a live one: customers then pay with cards made from their numbers. */
  livemode?: boolean;
  /** Called between steps, e.g. to crash a worker while the workload is running. */
  onStep?: (step: string) => void | Promise<void>;
};

/**
 * The workload's options for where it bills: the key's mode, and no test clock where Stripe has none
 * (live mode) or refuses them (a connected account).
 */
export function workloadIn(livemode: boolean, connected: boolean): WorkloadOptions {
  return { livemode, ...(livemode || connected ? { clockCustomers: 0 } : {}) };
}

export type WorkloadResult = {
  customers: string[];
  subscriptions: string[];
  checkoutSessions: string[];
  /** The test clock, unless `clockCustomers` is 0. */
  clock: string | null;
  /** The subscription of 12 items (not among `subscriptions`). */
  manyItems: string;
  /** Items removed from a subscription that had two. */
  removedItems: string[];
  /** The customer whose account was moved, and the account it ended at. */
  moved: { customer: string; account: string };
};

const DAY = 86_400;
/** Long enough for a refetch to be read and written between two rounds of clock changes. */
const ROUND_PAUSE_MS = 500;

export async function runWorkload(
  stripe: Stripe,
  emulatorUrl: string,
  options: WorkloadOptions = {},
): Promise<WorkloadResult> {
  const random = seededRandom(options.seed ?? 1);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const payWith = cardPayments(stripe, options.livemode ?? false);
  const step = async (name: string) => options.onStep?.(name);

  const catalog = await createCatalog(stripe);
  await step('catalog');
  const customers: string[] = [];
  const subscriptions: string[] = [];
  const count = options.customers ?? 8;
  const failing = options.failingCards ?? 2;
  for (let index = 0; index < count; index++) {
    const card = await payWith(index < failing ? 'chargeCustomerFail' : 'visa');
    const customer = await customerWithCard(stripe, card, {
      metadata: { subledger_account_id: `acct_${index}` },
    });
    customers.push(customer);
    const trialing = index % 3 === 2;
    const subscription = await stripe.subscriptions.create({
      customer,
      items: [{ price: pick(catalog.prices).id, quantity: 1 + Math.floor(random() * 3) }],
      ...(trialing ? { trial_period_days: 7 } : {}),
      // A declining card leaves the subscription `incomplete` with an open invoice, as on Stripe.
      payment_behavior: 'allow_incomplete',
    });
    subscriptions.push(subscription.id);
  }
  await step('subscriptions');

  const clockCustomers = options.clockCustomers ?? 3;
  const clock =
    clockCustomers > 0
      ? await stripe.testHelpers.testClocks.create({
          frozen_time: Math.floor(Date.now() / 1000) - (options.clockStartsDaysAgo ?? 60) * DAY,
        })
      : null;
  const clockSubscriptions: string[] = [];
  for (let index = 0; clock && index < clockCustomers; index++) {
    const customer = await customerWithCard(stripe, await payWith('visa'), {
      test_clock: clock.id,
      metadata: { subledger_account_id: `clock_${index}` },
    });
    customers.push(customer);
    const subscription = await stripe.subscriptions.create({
      customer,
      items: [{ price: pick(catalog.prices).id }],
    });
    clockSubscriptions.push(subscription.id);
  }
  subscriptions.push(...clockSubscriptions);
  await step('clock subscriptions');

  await changeSubscriptions(stripe, subscriptions, catalog, random);
  await step('changes');

  const checkoutSessions = await checkoutSubscriptions(stripe, emulatorUrl, catalog, {
    count: options.checkouts ?? 2,
    payWith,
  });
  await step('checkouts');

  // Its owner is not on the test clock, whose frozen time would put the deletion in the draft's second.
  await deletions(stripe, customers[0] as string);
  await step('deletions');

  if (clock) {
    await renewOnClock(stripe, clock, clockSubscriptions, step);
    const clockCustomer = customers.at(-1);
    if (clockCustomer) await stripe.customers.update(clockCustomer, { metadata: { after_renewal: 'yes' } });
    await step('clock');
  }

  // Every other API subscription; the first ones have declining cards and are skipped as incomplete.
  const pairs = subscriptions.slice(0, count).filter((_, index) => index % 2 === 0);
  const changed = await itemAndAccountChanges(stripe, catalog, random, {
    pairs,
    moving: customers[failing] as string,
    step,
    payWith,
  });
  customers.push(changed.manyItemsOwner);
  return { customers, subscriptions, checkoutSessions, clock: clock?.id ?? null, ...changed.result };
}

/**
 * The clock advanced past its subscriptions' renewal, then three rounds of changes an hour of clock time
 * apart. Events of clock customers carry the clock's time, which stands still between advances: each
 * round makes two changes in one clock second (not provably ordered: the mirror reads Stripe), then,
 * after a pause for that read, the next round an hour of clock time later must still be applied.
 */
async function renewOnClock(
  stripe: Stripe,
  clock: Stripe.TestHelpers.TestClock,
  subscriptions: string[],
  step: (name: string) => Promise<void>,
) {
  await advanceClock(stripe, clock.id, clock.frozen_time + 35 * DAY);
  await step('renewal');
  for (let round = 1; round <= 3; round++) {
    await advanceClock(stripe, clock.id, clock.frozen_time + 35 * DAY + round * 3600);
    for (const id of subscriptions) {
      const subscription = await stripe.subscriptions.retrieve(id);
      const item = subscription.items.data[0];
      await stripe.subscriptions.update(id, { metadata: { round: String(round) } });
      if (item && subscription.status !== 'canceled')
        await stripe.subscriptions.update(id, {
          items: [{ id: item.id, quantity: round + 1 }],
          proration_behavior: 'none',
        });
    }
    await new Promise((resolve) => setTimeout(resolve, ROUND_PAUSE_MS));
  }
}

/**
 * `moving` moved to another account twice within a second, then twice again in the next; second items
 * for `pairs`, and a subscription of 12 items. Then, a while later and in a later second, when what
 * those made is mirrored, changes newer than every version the mirror holds: `moving` moved once more,
 * alone in its second so that its event is applied as it came; one of each pair's items removed; and
 * the 12-item subscription's 11th item changed.
 */
async function itemAndAccountChanges(
  stripe: Stripe,
  catalog: Catalog,
  random: () => number,
  {
    pairs,
    moving,
    step,
    payWith,
  }: {
    pairs: string[];
    moving: string;
    step: (name: string) => Promise<void>;
    payWith: (card: TestCard) => Promise<string>;
  },
) {
  const accounts = [1, 2, 3, 4, 5].map((move) => `acct_moved_${move}`);
  await moveAccount(stripe, moving, accounts.slice(0, 2));
  await nextSecond();
  await moveAccount(stripe, moving, accounts.slice(2, 4));
  const paired = await addSecondItems(stripe, pairs, catalog.prices, random);
  const manyItemsOwner = await customerWithCard(stripe, await payWith('visa'), {
    metadata: { subledger_account_id: 'acct_many_items' },
  });
  const manyItems = await subscribeToManyPrices(stripe, catalog.prices, manyItemsOwner);
  await step('items');
  await new Promise((resolve) => setTimeout(resolve, ROUND_PAUSE_MS));
  await nextSecond();
  await moveAccount(stripe, moving, accounts.slice(4));
  await removeItems(stripe, paired);
  await changeBeyondFirstPage(stripe, manyItems);
  await step('last changes');
  return {
    manyItemsOwner,
    result: {
      manyItems,
      removedItems: paired.map((pair) => pair.removed),
      moved: { customer: moving, account: accounts.at(-1) as string },
    },
  };
}

/** Quantity changes, an upgrade, cancel at period end (and its undoing), an immediate cancel, metadata. */
async function changeSubscriptions(
  stripe: Stripe,
  ids: string[],
  catalog: Catalog,
  random: () => number,
): Promise<void> {
  for (const [index, id] of ids.entries()) {
    const subscription = await stripe.subscriptions.retrieve(id);
    const item = subscription.items.data[0];
    if (!item || subscription.status === 'incomplete' || subscription.status === 'canceled') continue;
    await stripe.subscriptions.update(id, {
      items: [{ id: item.id, quantity: (item.quantity ?? 1) + 1 + Math.floor(random() * 3) }],
    });
    if (index % 4 === 0)
      await stripe.subscriptions.update(id, { items: [{ id: item.id, price: catalog.upgrade.id }] });
    if (index % 4 === 1) await stripe.subscriptions.update(id, { cancel_at_period_end: true });
    if (index % 5 === 1) await stripe.subscriptions.update(id, { cancel_at_period_end: false });
    if (index % 4 === 2)
      await stripe.subscriptions.update(id, { metadata: { seats_note: `round ${index}` } });
    await stripe.customers.update(String(subscription.customer), { metadata: { touched: String(index) } });
  }
  const canceled = ids.find((_, index) => index % 4 === 3);
  if (canceled) await stripe.subscriptions.cancel(canceled);
}

/** Subscription-mode checkout sessions completed as a customer would, plus one left to expire. */
async function checkoutSubscriptions(
  stripe: Stripe,
  emulatorUrl: string,
  catalog: Catalog,
  { count, payWith }: { count: number; payWith: (card: TestCard) => Promise<string> },
): Promise<string[]> {
  const sessions: string[] = [];
  for (let index = 0; index < count; index++) {
    const price = catalog.prices[index % catalog.prices.length] as Stripe.Price;
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription',
      line_items: [{ price: price.id, quantity: 1 }],
      client_reference_id: `checkout_${index}`,
      success_url: 'http://localhost:3000/done?session={CHECKOUT_SESSION_ID}',
    });
    const response = await fetch(`${emulatorUrl}/_emulator/checkout/sessions/${session.id}/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ payment_method: await payWith('visa'), email: `buyer${index}@example.com` }),
    });
    if (!response.ok) throw new Error(`completing ${session.id} failed: ${await response.text()}`);
    sessions.push(session.id);
  }
  const abandoned = await stripe.checkout.sessions.create({
    mode: 'subscription',
    line_items: [{ price: catalog.upgrade.id, quantity: 1 }],
    success_url: 'http://localhost:3000/done',
  });
  await stripe.checkout.sessions.expire(abandoned.id);
  sessions.push(abandoned.id);
  return sessions;
}

/**
 * A draft invoice deleted, a customer with nothing left deleted, a product with no prices deleted. Each
 * deletion comes a second after the object's last change, so its event is provably the newest and is
 * applied as a tombstone (in the same second it would be read back from Stripe instead).
 */
async function deletions(stripe: Stripe, owner: string): Promise<void> {
  const draft = await stripe.invoices.create({ customer: owner, auto_advance: false });
  const leaving = await stripe.customers.create({
    email: 'leaving@example.com',
    metadata: { subledger_account_id: 'gone' },
  });
  const retired = await stripe.products.create({ name: 'Retired' });
  // An object's two events in one second would be read back from Stripe, maybe after its deletion,
  // leaving the deletion event nothing to apply.
  await nextSecond();
  await stripe.customers.update(leaving.id, { name: 'Leaving soon' });
  await stripe.products.update(retired.id, { active: false });
  await nextSecond();
  await stripe.invoices.del(draft.id);
  await stripe.customers.del(leaving.id);
  await stripe.products.del(retired.id);
}
