import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type Stripe from 'stripe';
import { syncAccount } from '../src/sync/account-sync.ts';
import { subscribedToManyPrices } from './support/billing-history.ts';
import { type Stack, startStack } from './support/stack.ts';

// Workers are off: what the mirror holds after the eager sync is what the sync wrote.
let stack: Stack;
before(async () => {
  stack = await startStack({ workers: false });
});
after(() => stack.close());

type Listed = Record<string, { data: unknown[] } & Record<string, unknown>>;

/** The object as Stripe lists one with more rows than a page: its first 10, and `has_more`. */
const firstPageOf = <T>(object: T, list: string): T => {
  const listed = object as unknown as Listed;
  const embedded = listed[list] as Listed[string];
  return { ...listed, [list]: { ...embedded, data: embedded.data.slice(0, 10), has_more: true } } as T;
};

/** The SDK on the emulator, except that listed subscriptions and invoices embed one page, as Stripe's do. */
function listingOnePage(stripe: Stripe): Stripe {
  const subscriptions = new Proxy(stripe.subscriptions, {
    get: (target, name) =>
      name !== 'list'
        ? Reflect.get(target, name)
        : (params: Stripe.SubscriptionListParams, options: Stripe.RequestOptions) => ({
            autoPagingToArray: async (limit: { limit: number }) =>
              (await target.list(params, options).autoPagingToArray(limit)).map((subscription) =>
                firstPageOf(subscription, 'items'),
              ),
          }),
  });
  const invoices = new Proxy(stripe.invoices, {
    get: (target, name) =>
      name !== 'list'
        ? Reflect.get(target, name)
        : async (params: Stripe.InvoiceListParams, options: Stripe.RequestOptions) => {
            const page = await target.list(params, options);
            return { ...page, data: page.data.map((invoice) => firstPageOf(invoice, 'lines')) };
          },
  });
  return new Proxy(stripe, {
    get: (target, name) =>
      name === 'subscriptions' ? subscriptions : name === 'invoices' ? invoices : Reflect.get(target, name),
  });
}

test('the eager sync reads every item of a listed subscription and every line of a listed invoice', async () => {
  const { subscription } = await subscribedToManyPrices(stack.stripe, 12, {
    subledger_account_id: 'team_many_items',
  });

  const synced = await syncAccount({
    database: stack.database,
    stripe: listingOnePage(stack.stripe),
    context: { accountKeys: [] },
    accountId: 'team_many_items',
    place: { stripeAccount: 'platform', livemode: false },
  });
  assert.equal(synced.ok, true);
  const row = async (table: string, id: string) =>
    (await stack.database.pool.query(`select data from ${table} where id = $1`, [id])).rows[0]?.data;
  const mirrored = await row('subscriptions', subscription.id);
  assert.deepEqual([mirrored.items.data.length, mirrored.items.has_more], [12, false]);
  const items = await stack.database.pool.query(
    'select id from subscription_items where subscription_id = $1',
    [subscription.id],
  );
  assert.equal(items.rowCount, 12);
  const invoice = await row('invoices', String(subscription.latest_invoice));
  assert.deepEqual([invoice.lines.data.length, invoice.lines.has_more], [12, false]);
});
