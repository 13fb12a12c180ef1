import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type Stripe from 'stripe';
import { faultsOf, type RunningEmulator, startEmulator } from 'stripe-emulator';
import { EMULATOR_KEY } from '../src/cli/local-stripe.ts';
import { createStripeClient, isMissing } from '../src/stripe/index.ts';
import { createLimiter } from '../src/sync/limiter.ts';
import { type ListOptions, listPages } from '../src/sync/listing.ts';
import { clockDeletedWhileListed } from './support/vanishing-clock.ts';

const PLACE = { stripeAccount: 'platform', livemode: false };

/** A fresh emulator, the project's client on it, and the status of every request that client sent. */
async function withEmulator(
  test: (stripe: Stripe, emulator: RunningEmulator, statuses: number[]) => Promise<void>,
) {
  const emulator = await startEmulator({ port: 0, seed: 3 });
  const statuses: number[] = [];
  const stripe = createStripeClient({
    secretKey: EMULATOR_KEY,
    apiBase: emulator.url,
    onResponse: (request) => statuses.push(request.status),
  });
  try {
    await test(stripe, emulator, statuses);
  } finally {
    await emulator.close();
  }
}

/** `count` products, newest first (as lists return them). */
async function products(stripe: Stripe, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index++)
    ids.unshift((await stripe.products.create({ name: `p${index}` })).id);
  return ids;
}

async function deleteProducts(stripe: Stripe, ...ids: (string | undefined)[]): Promise<void> {
  for (const id of ids) await stripe.products.del(String(id));
}

/** The ids of each page of a walk of products, with `between(pages so far)` run before each next page. */
async function walk(
  stripe: Stripe,
  options: Partial<ListOptions>,
  between: (page: number) => Promise<unknown>,
) {
  const pages: string[][] = [];
  const limiter = createLimiter(1000);
  const clock = async () => new Date();
  for await (const page of listPages(stripe, 'product', PLACE, { limiter, clock, pageSize: 2, ...options })) {
    pages.push(page.objects.map((object) => String(object.id)));
    await between(pages.length);
  }
  return pages;
}

describe('listing a kind page by page', () => {
  it('steps back to the nearest object still there when the one a page ended on was deleted', () =>
    withEmulator(async (stripe) => {
      const [p6, p5, p4, p3, p2, p1, p0] = await products(stripe, 7);
      const pages = await walk(stripe, {}, async (page) => {
        if (page === 1) await deleteProducts(stripe, p5);
        if (page === 2) await deleteProducts(stripe, p3, p4);
      });
      // Each object once, none skipped: [p6 p5], then after p6 (p5 gone), then after p6 again.
      assert.deepEqual(pages, [[p6, p5], [p4, p3], [p2, p1], [p0]]);
    }));

  it('starts over from the newest object when nothing it listed is left', () =>
    withEmulator(async (stripe) => {
      const [p3, p2, p1, p0] = await products(stripe, 4);
      let p4 = '';
      const pages = await walk(stripe, {}, async (page) => {
        if (page !== 1) return;
        await deleteProducts(stripe, p3, p2);
        p4 = (await stripe.products.create({ name: 'p4' })).id;
      });
      assert.deepEqual(pages, [[p3, p2], [p4, p1], [p0]]);
    }));

  it("throws Stripe's 404 when the object it was to start after is gone, with all it listed since", () =>
    withEmulator(async (stripe) => {
      const [p4, p3, p2, p1] = await products(stripe, 5);
      await deleteProducts(stripe, p4);
      await assert.rejects(
        walk(stripe, { startingAfter: String(p4) }, async () => {}),
        isMissing,
      );
      let pages = 0;
      const lost = walk(stripe, { startingAfter: String(p3) }, async () => {
        pages++;
        await deleteProducts(stripe, p3, p2, p1);
      });
      await assert.rejects(lost, isMissing);
      assert.equal(pages, 1, 'the page after p3, [p2 p1], was listed');
    }));
});

describe('listing by test clock', () => {
  it('lists each clock’s customers after the account’s, and goes on past a clock deleted meanwhile', () =>
    withEmulator(async (stripe) => {
      const now = Math.floor(Date.now() / 1000);
      const [older, newer] = [
        await stripe.testHelpers.testClocks.create({ frozen_time: now }),
        await stripe.testHelpers.testClocks.create({ frozen_time: now }),
      ];
      const customer = async (clock?: string) =>
        (await stripe.customers.create({ email: 'c@example.com', ...(clock ? { test_clock: clock } : {}) }))
          .id;
      const plain = await customer();
      const onOlder = await customer(older.id);
      const onNewer = [await customer(newer.id), await customer(newer.id), await customer(newer.id)];
      // Stripe may answer 404 for the list of a clock deleted since the clocks were listed.
      const deleted = new Set<string>();
      const list = stripe.customers.list.bind(stripe.customers);
      stripe.customers.list = ((params?: Stripe.CustomerListParams, options?: Stripe.RequestOptions) => {
        if (params?.test_clock && deleted.has(params.test_clock))
          throw Object.assign(new Error('No such test clock'), { statusCode: 404, code: 'resource_missing' });
        return list(params, options);
      }) as typeof stripe.customers.list;

      const pages: { testClock: string | null; ids: string[] }[] = [];
      const clock = async () => new Date();
      const options = { limiter: createLimiter(1000), clock, pageSize: 2 };
      for await (const page of listPages(stripe, 'customer', PLACE, options)) {
        pages.push({ testClock: page.testClock, ids: page.objects.map((object) => String(object.id)) });
        if (page.testClock === newer.id && !deleted.has(older.id)) {
          await stripe.testHelpers.testClocks.del(older.id);
          deleted.add(older.id);
        }
      }
      assert.deepEqual(pages, [
        { testClock: null, ids: [plain] },
        { testClock: newer.id, ids: [onNewer[2], onNewer[1]] },
        { testClock: newer.id, ids: [onNewer[0]] },
      ]);
      assert.ok(!pages.some((page) => page.ids.includes(onOlder)));
    }));

  it('steps back over a test clock deleted while the clocks are listed, and walks each clock once', () =>
    withEmulator(async (stripe) => {
      const { clocks, onOldest, deleted } = await clockDeletedWhileListed(stripe);
      const walked: (string | null)[] = [];
      const list = stripe.customers.list.bind(stripe.customers);
      stripe.customers.list = ((params?: Stripe.CustomerListParams, options?: Stripe.RequestOptions) => {
        walked.push(params?.test_clock ?? null);
        return list(params, options);
      }) as typeof stripe.customers.list;
      const listed: string[] = [];
      const clock = async () => new Date();
      for await (const page of listPages(stripe, 'customer', PLACE, { limiter: createLimiter(1000), clock }))
        listed.push(...page.objects.map((object) => String(object.id)));
      assert.equal(deleted.length, 1, 'a clock was deleted between two pages of clocks');
      // The deleted clock was listed before it went: its list is asked for, found gone, and ends.
      assert.deepEqual(walked, [null, ...clocks], 'the account-wide list, then each clock once');
      assert.deepEqual(listed, [onOldest]);
    }));

  it("throws Stripe's 404 when the test clock it resumed in is gone before the clocks after it are listed", () =>
    withEmulator(async (stripe) => {
      const now = Math.floor(Date.now() / 1000);
      const resumedIn = await stripe.testHelpers.testClocks.create({ frozen_time: now });
      const customers = [];
      for (let index = 0; index < 2; index++)
        customers.push(await stripe.customers.create({ email: 'c@example.com', test_clock: resumedIn.id }));
      const clock = async () => new Date();
      const options = {
        limiter: createLimiter(1000),
        clock,
        testClock: resumedIn.id,
        startingAfter: customers[1]?.id ?? null,
      };
      const pages: string[][] = [];
      const walk = async () => {
        for await (const page of listPages(stripe, 'customer', PLACE, options)) {
          pages.push(page.objects.map((object) => String(object.id)));
          await stripe.testHelpers.testClocks.del(resumedIn.id);
        }
      };
      await assert.rejects(walk(), isMissing);
      assert.deepEqual(pages, [[customers[0]?.id]], 'the rest of its list was walked');
    }));
});

describe('the limiter', () => {
  it('holds its rate per request sent: a call the SDK retries waits for a second slot', () =>
    withEmulator(async (stripe, emulator, statuses) => {
      const limiter = createLimiter(1);
      const customer = await stripe.customers.create({ email: 'slow@example.com' });
      faultsOf(emulator.emulator).configure({
        next: { api: { fault: '503', count: 1, method: 'GET', path: '/v1/customers/*' } },
      });
      statuses.length = 0;
      const started = Date.now();
      await limiter(() => stripe.customers.retrieve(customer.id));
      // Slots of a strict 1/s limiter are a second apart at least; a slow machine only adds to it.
      assert.ok(Date.now() - started >= 1000, `two requests in ${Date.now() - started} ms at 1/s`);
      assert.deepEqual(statuses, [503, 200]);
    }));
});
