import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type Stripe from 'stripe';
import { defineCatalog } from '../src/catalog/index.ts';
import { completeCheckout, createCatalogPrices, subscribe } from './support/billing.ts';
import { type Stack, startStack } from './support/stack.ts';

/**
 * Credits granted by what is paid: each paid invoice per the plan in the catalog (once, whatever the
 * duplicates and replays), renewals with and without rollover, an upgrade's proration, and top-ups.
 */
const monthly = (lookupKey: string, unitAmount: number) => ({
  lookupKey,
  unitAmount,
  currency: 'usd',
  interval: 'month' as const,
});
const catalog = defineCatalog({
  features: { ai: { type: 'credits', name: 'AI credits', period: 'month' } },
  plans: {
    starter: {
      name: 'Starter',
      prices: [monthly('starter_monthly', 1000)],
      features: { ai: { grant: 100 } },
    },
    max: {
      name: 'Max',
      prices: [monthly('max_monthly', 5000)],
      features: { ai: { grant: 1000, rollover: { cap: 300 } } },
    },
  },
});

let stack: Stack;
before(async () => {
  stack = await startStack({ catalog });
  await createCatalogPrices(stack.stripe, catalog);
});
after(() => stack.close());

async function balanceOf(accountId: string): Promise<number> {
  const pools = await stack.subledger.credits.pools(accountId);
  return pools.find((pool) => pool.creditType === 'ai')?.available ?? 0;
}

async function lotsOf(accountId: string) {
  const { rows } = await stack.database.pool.query<{ source_kind: string; amount: string }>(
    `select source_kind, amount from credit_lots where account_id = $1 order by source_kind, amount`,
    [accountId],
  );
  return rows.map((row) => [row.source_kind, Number(row.amount)]);
}

const spend = (accountId: string, amount: number, key: string) =>
  stack.subledger.credits.consume({ accountId, creditType: 'ai', amount, key });

async function advanceMonth(): Promise<void> {
  const advanced = await fetch(`${stack.emulator.url}/_emulator/time/advance`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ seconds: 31 * 24 * 3600 }),
  });
  assert.equal(advanced.status, 200);
  await stack.settle();
}

test("a paid invoice grants its plan's credits per seat, once, whatever the redeliveries and replays", async () => {
  await subscribe(stack, 'acct_seats', 'starter', 3);
  await stack.settle();
  assert.equal(await balanceOf('acct_seats'), 300, 'the success page already shows them');
  // Every event again, and the grant requests handled again by many at once.
  await stack.subledger.sync.replay({ since: new Date(0) });
  await stack.settle();
  await stack.database.pool.query('update credit_grant_requests set handled_at = null');
  await Promise.all(Array.from({ length: 5 }, () => stack.subledger.credits.grantPending()));
  await stack.settle();
  assert.equal(await balanceOf('acct_seats'), 300);
  assert.deepEqual(await lotsOf('acct_seats'), [['invoice', 300]]);
});

test('an invoice paid before its customer names an account waits, then grants once the link arrives', async () => {
  const customer = await stack.stripe.customers.create({ payment_method: 'pm_card_visa' });
  const [method] = (await stack.stripe.paymentMethods.list({ customer: customer.id })).data;
  await stack.stripe.customers.update(customer.id, {
    invoice_settings: { default_payment_method: method?.id ?? '' },
  });
  const [price] = (await stack.stripe.prices.list({ lookup_keys: ['starter_monthly'] })).data;
  await stack.stripe.subscriptions.create({ customer: customer.id, items: [{ price: String(price?.id) }] });
  await stack.settle();
  const { rows } = await stack.database.pool.query(
    `select r.attempts, r.last_error, r.handled_at from credit_grant_requests r
     join invoices v on v.id = r.source_id where v.customer_id = $1`,
    [customer.id],
  );
  assert.deepEqual(rows, [
    { attempts: 1, last_error: "the invoice's customer is not linked to an account", handled_at: null },
  ]);
  await stack.stripe.customers.update(customer.id, { metadata: { subledger_account_id: 'acct_late' } });
  await stack.settle();
  // The request is tried again after its wait (2 s after the first try).
  for (let waited = 0; (await balanceOf('acct_late')) === 0; waited++) {
    assert.ok(waited < 100, 'the waiting request is granted');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await stack.subledger.credits.grantPending();
  }
  assert.deepEqual(await lotsOf('acct_late'), [['invoice', 100]]);
});

test('one batch of requests: each source gets its own plan and outcome, whatever its place in the batch', async () => {
  const seats = { acct_batch_1: 1, acct_batch_2: 2, acct_batch_3: 3 };
  for (const [accountId, quantity] of Object.entries(seats))
    await subscribe(stack, accountId, 'starter', quantity);
  await stack.settle();
  const outcomes = async () =>
    (
      await stack.database.pool.query<{ account: string; outcome: string }>(
        `select coalesce(a.account_id, r.source_id) as account, r.outcome from credit_grant_requests r
         left join invoices v on v.id = r.source_id
         left join account_customers a on a.customer_id = v.customer_id
         where a.account_id like 'acct_batch_%' or r.source_id = 'in_not_mirrored' order by 1`,
      )
    ).rows.map((row) => [row.account, row.outcome]);
  assert.deepEqual(await outcomes(), [
    ['acct_batch_1', 'granted ai 100+0'],
    ['acct_batch_2', 'granted ai 200+0'],
    ['acct_batch_3', 'granted ai 300+0'],
  ]);
  // Again in one batch, behind a request whose invoice the mirror does not hold: granted already, they
  // grant nothing more, and only the unknown invoice is found missing.
  await stack.database.pool.query(
    `insert into credit_grant_requests (source_kind, source_id, stripe_account, livemode, next_attempt_at)
     values ('invoice', 'in_not_mirrored', 'platform', false, now() - interval '1 day')`,
  );
  await stack.database.pool.query(
    `update credit_grant_requests r set handled_at = null, outcome = null from invoices v, account_customers a
     where v.id = r.source_id and a.customer_id = v.customer_id and a.account_id like 'acct_batch_%'`,
  );
  await stack.subledger.credits.grantPending();
  assert.deepEqual(await outcomes(), [
    ['acct_batch_1', 'granted ai 0+0'],
    ['acct_batch_2', 'granted ai 0+0'],
    ['acct_batch_3', 'granted ai 0+0'],
    ['in_not_mirrored', 'nothing: the invoice is not in the mirror'],
  ]);
  for (const [accountId, quantity] of Object.entries(seats))
    assert.equal(await balanceOf(accountId), quantity * 100);
});

test('a request that cannot be planned is put off with its error and holds up no other grant', async () => {
  await subscribe(stack, 'acct_unplannable', 'starter', 1);
  await stack.settle();
  // A mirror row the plan cannot read: a line amount that is not a number.
  const { rows: broken } = await stack.database.pool.query<{ id: string }>(
    `update invoices v set data = jsonb_set(v.data, '{lines,data,0,amount}', '"lots"')
     from account_customers a where a.customer_id = v.customer_id and a.account_id = 'acct_unplannable'
     returning v.id`,
  );
  const sourceIds = broken.map((row) => row.id);
  await stack.database.pool.query(
    `update credit_grant_requests set handled_at = null, next_attempt_at = now() - interval '1 hour'
     where source_id = any($1)`,
    [sourceIds],
  );
  await subscribe(stack, 'acct_after_unplannable', 'starter', 2);
  await stack.settle();
  assert.equal(await balanceOf('acct_after_unplannable'), 200, 'the later request is granted');
  const { rows } = await stack.database.pool.query(
    'select attempts, handled_at, last_error from credit_grant_requests where source_id = any($1)',
    [sourceIds],
  );
  assert.equal(rows.length, 1);
  assert.equal(rows[0].handled_at, null);
  assert.equal(rows[0].attempts, 2);
  assert.match(rows[0].last_error, /^failed: invalid input syntax for type bigint/);
});

test('renewals: a plan without rollover ends its credits with the period; one with rollover carries up to its cap', async () => {
  await subscribe(stack, 'acct_roll', 'max');
  await stack.settle();
  assert.equal(await balanceOf('acct_roll'), 1000);
  assert.equal((await spend('acct_roll', 600, 'first-month')).ok, true);
  await spend('acct_seats', 250, 'seats-month');

  await advanceMonth();
  assert.equal(await balanceOf('acct_roll'), 1300, '1000 new and 300 of the 400 left (the cap)');
  assert.equal(await balanceOf('acct_seats'), 300, 'the 50 left ended with their period');
  await advanceMonth();
  assert.equal(await balanceOf('acct_roll'), 1300, 'the carried credits count toward the cap again');
  assert.deepEqual(await lotsOf('acct_roll'), [
    ['invoice', 1000],
    ['invoice', 1000],
    ['invoice', 1000],
    ['rollover', 300],
    ['rollover', 300],
  ]);
});

test('an upgrade mid-period grants the difference for the rest of the period', async () => {
  await subscribe(stack, 'acct_up', 'starter');
  await stack.settle();
  assert.equal(await balanceOf('acct_up'), 100);
  const changed = await stack.client.POST('/v1/accounts/{account_id}/subscription/plan', {
    params: { path: { account_id: 'acct_up' } },
    body: { plan: 'max' },
  });
  assert.equal(changed.response.status, 200, JSON.stringify(changed.error));
  await stack.settle();
  const granted = (await balanceOf('acct_up')) - 100;
  // The emulator's clock barely moved since the period started: almost all of the 900 more.
  assert.ok(granted > 850 && granted <= 900, `granted ${granted}`);
});

test('a paid top-up checkout grants its credits once; a checkout not paid grants nothing', async () => {
  const product = await stack.stripe.products.create({ name: 'AI credit pack' });
  const pack: Stripe.Price = await stack.stripe.prices.create({
    product: product.id,
    currency: 'usd',
    unit_amount: 900,
    lookup_key: 'ai_pack',
  });
  const buy = () =>
    stack.client.POST('/v1/checkout', {
      body: {
        account_id: 'acct_topup',
        price: pack.id,
        mode: 'payment',
        quantity: 2,
        credits: { feature: 'ai', amount: 500 },
        success_url: 'https://app.example/ok',
        cancel_url: 'https://app.example/no',
      },
    });
  const checkout = await buy();
  assert.equal(checkout.response.status, 200, JSON.stringify(checkout.error));
  await stack.settle();
  assert.equal(await balanceOf('acct_topup'), 0, 'nothing before the payment');
  const sessionId = String(checkout.data?.session_id);
  await completeCheckout(stack, sessionId);
  const synced = await stack.client.POST('/v1/checkout/{session_id}/sync', {
    params: { path: { session_id: sessionId } },
  });
  assert.equal(synced.response.status, 200);
  assert.equal(await balanceOf('acct_topup'), 1000, 'credits show on the success page');
  await stack.settle();
  assert.deepEqual(await lotsOf('acct_topup'), [['top_up', 1000]]);

  const wrong = await stack.client.POST('/v1/checkout', {
    body: {
      account_id: 'acct_topup',
      price: pack.id,
      mode: 'payment',
      credits: { feature: 'nope', amount: 5 },
      success_url: 'https://app.example/ok',
      cancel_url: 'https://app.example/no',
    },
  });
  assert.equal(wrong.response.status, 400);
  assert.equal(wrong.error?.error.code, 'invalid_top_up');
});
