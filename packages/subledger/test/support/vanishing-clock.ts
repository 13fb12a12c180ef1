import type Stripe from 'stripe';

/** Stripe's largest page of test clocks. */
const CLOCKS_PER_PAGE = 100;

/**
 * One test clock more than a page of Stripe's clock list holds, a customer on the oldest, and the clock
 * list of `lister` (a client a walk reads through) made to delete, once, the clock a page ended on just
 * before the next page is asked for: as a developer may, or Stripe once the clock's `deletes_after`
 * passes, while a walk reads the clocks. `stripe` makes and deletes the objects.
 */
export async function clockDeletedWhileListed(stripe: Stripe, lister: Stripe = stripe) {
  const now = Math.floor(Date.now() / 1000);
  // Newest first, as Stripe lists them.
  const clocks: string[] = [];
  for (let index = 0; index <= CLOCKS_PER_PAGE; index++)
    clocks.unshift((await stripe.testHelpers.testClocks.create({ frozen_time: now })).id);
  const oldest = clocks.at(-1) as string;
  const onOldest = (await stripe.customers.create({ email: 'oldest-clock@example.com', test_clock: oldest }))
    .id;
  const deleted: string[] = [];
  const list = lister.testHelpers.testClocks.list.bind(lister.testHelpers.testClocks);
  lister.testHelpers.testClocks.list = (async (
    params?: Stripe.TestHelpers.TestClockListParams,
    options?: Stripe.RequestOptions,
  ) => {
    const cursor = params?.starting_after;
    if (cursor && deleted.length === 0) {
      await stripe.testHelpers.testClocks.del(cursor);
      deleted.push(cursor);
    }
    return list(params, options);
  }) as typeof lister.testHelpers.testClocks.list;
  return { clocks, onOldest, deleted };
}
