import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type Stripe from 'stripe';
import { formatAccount, inspectedMode, money } from '../src/cli/inspect.ts';
import { EMULATOR_KEY } from '../src/cli/local-stripe.ts';
import type { AccountView } from '../src/sync/account-view.ts';
import { runCli } from './support/run-cli.ts';
import { EMULATOR_LIVE_KEY, type Stack, startStack } from './support/stack.ts';

let stack: Stack;
let customer: Stripe.Customer;
let subscription: Stripe.Subscription;
before(async () => {
  stack = await startStack();
  const product = await stack.stripe.products.create({ name: 'Pro' });
  const price = await stack.stripe.prices.create({
    product: product.id,
    currency: 'usd',
    unit_amount: 2000,
    recurring: { interval: 'month' },
  });
  const created = await stack.stripe.customers.create({
    email: 'ops@example.com',
    payment_method: 'pm_card_visa',
    metadata: { subledger_account_id: 'team_9' },
  });
  const [card] = (await stack.stripe.paymentMethods.list({ customer: created.id })).data;
  customer = await stack.stripe.customers.update(created.id, {
    invoice_settings: { default_payment_method: card?.id ?? '' },
  });
  subscription = await stack.stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: price.id }],
  });
  await stack.settle();
});
after(() => stack.close());

const inspect = (args: string[], environment: Record<string, string> = {}) =>
  runCli(['inspect', ...args], { DATABASE_URL: stack.database.url, ...environment });

test('`subledger inspect account <id> --json` prints exactly the body of GET /v1/accounts/:id', async () => {
  const body = await (
    await fetch(`${stack.url}/v1/accounts/team_9`, { headers: { authorization: `Bearer ${stack.apiKey}` } })
  ).text();
  const result = await inspect(['account', 'team_9', '--json']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `${body}\n`);
  const view = JSON.parse(body) as AccountView;
  assert.equal(view.livemode, false);
  assert.equal(view.customer?.id, customer.id);
  assert.equal(view.subscriptions[0]?.status, 'active');
});

test('without --json it prints a short summary; an unknown account is one error line', async () => {
  const [summary, unknown] = await Promise.all([
    inspect(['account', 'team_9']),
    inspect(['account', 'nobody']),
  ]);
  assert.equal(summary.code, 0, summary.stderr);
  assert.match(summary.stdout, /^Account team_9 \(test mode\): customer cus_\w+ \(ops@example\.com\)$/m);
  assert.match(
    summary.stdout,
    new RegExp(`^  ${subscription.id}  active  price_\\w+ × 1  period ends \\d{4}-\\d\\d-\\d\\d$`, 'm'),
  );
  assert.match(summary.stdout, /^ {2}in_\w+ {2}paid {2}\$20\.00 paid of \$20\.00 {2}\d{4}-\d\d-\d\d$/m);
  assert.equal(unknown.code, 66);
  assert.equal(
    unknown.stderr.trim(),
    "subledger: account_not_found: no Stripe customer is linked to account nobody in the mirror's test " +
      'mode (no STRIPE_SECRET_KEY is set; --live reads live mode, --sync reads Stripe)',
  );
  assert.equal(unknown.stderr.trim().split('\n').length, 1);
});

test("reads the mode --live or --test names, else the Stripe key's, and says which it read", async () => {
  const live = { STRIPE_SECRET_KEY: EMULATOR_LIVE_KEY };
  const [asked, keyed, other, both] = await Promise.all([
    inspect(['account', 'team_9', '--live']),
    inspect(['account', 'team_9'], live),
    inspect(['account', 'team_9', '--test', '--json'], live),
    inspect(['account', 'team_9', '--live', '--test']),
  ]);
  const notFoundIn = (mode: string) =>
    `subledger: account_not_found: no Stripe customer is linked to account team_9 in the mirror's live mode (${mode})`;
  assert.deepEqual(
    [asked.code, asked.stderr.trim()],
    [66, notFoundIn('--live; --test reads test mode, --sync reads Stripe')],
    'the account is mirrored in test mode only',
  );
  assert.deepEqual(
    [keyed.code, keyed.stderr.trim()],
    [66, notFoundIn('the mode of STRIPE_SECRET_KEY; --test reads test mode, --sync reads Stripe')],
  );
  assert.equal(other.code, 0, other.stderr);
  const view = JSON.parse(other.stdout) as AccountView;
  assert.deepEqual([view.livemode, view.customer?.id], [false, customer.id]);
  assert.equal(both.code, 64);
  assert.match(
    both.stderr,
    /^subledger: conflicting_option: option '--live' cannot be used with option '--test'/,
  );
});

test("the mode read is the flag's, else the key's, else test; --sync only reads the key's (pure)", () => {
  assert.deepEqual(inspectedMode({}, undefined), { livemode: false, chosenBy: 'no key' });
  assert.deepEqual(inspectedMode({}, 'sk_live_1'), { livemode: true, chosenBy: 'key' });
  assert.deepEqual(inspectedMode({ test: true }, 'sk_live_1'), { livemode: false, chosenBy: 'flag' });
  assert.deepEqual(inspectedMode({ live: true }, undefined), { livemode: true, chosenBy: 'flag' });
  assert.deepEqual(inspectedMode({ live: true, sync: true }, 'sk_live_1'), {
    livemode: true,
    chosenBy: 'flag',
  });
  assert.throws(() => inspectedMode({ live: true, sync: true }, 'sk_test_1'), {
    code: 'invalid_argument',
    message: '--sync reads Stripe with STRIPE_SECRET_KEY, a test key: it cannot read live mode',
  });
});

test('--sync reads the account from Stripe first, and needs a Stripe key', async () => {
  await stack.database.pool.query(`delete from account_customers where account_id = 'team_9'`);
  const [keyless, synced] = await Promise.all([
    inspect(['account', 'team_9', '--sync']),
    inspect(['account', 'team_9', '--sync', '--json'], {
      STRIPE_SECRET_KEY: EMULATOR_KEY,
      STRIPE_API_BASE: stack.emulator.url,
    }),
  ]);
  assert.equal(keyless.code, 78);
  assert.match(
    keyless.stderr,
    /^subledger: stripe_not_configured: inspect account --sync reads Stripe: set STRIPE_SECRET_KEY/,
  );
  assert.equal(synced.code, 0, synced.stderr);
  const view = JSON.parse(synced.stdout) as AccountView;
  assert.equal(view.customer?.id, customer.id, 'the lost link is rebuilt from Stripe');
  assert.equal(view.subscriptions[0]?.id, subscription.id);
});

test('`subledger inspect event <id> --json` shows its times, attempts, outcome and last error', async () => {
  const { rows } = await stack.database.pool.query<{ id: string }>(
    `select id from stripe_events where type = 'customer.subscription.created' and object_id = $1`,
    [subscription.id],
  );
  const id = rows[0]?.id as string;
  const [shown, human, missing] = await Promise.all([
    inspect(['event', id, '--json']),
    inspect(['event', id]),
    inspect(['event', 'evt_missing']),
  ]);
  assert.equal(shown.code, 0, shown.stderr);
  const record = JSON.parse(shown.stdout);
  assert.equal(record.id, id);
  assert.equal(record.status, 'processed');
  assert.equal(record.attempts, 1);
  assert.equal(record.last_error, null);
  assert.ok(Date.parse(record.processed_at) >= Date.parse(record.received_at));
  assert.match(human.stdout, new RegExp(`^event: +${id} \\(customer\\.subscription\\.created\\)$`, 'm'));
  assert.match(human.stdout, /^status: +processed, /m);
  assert.equal(missing.code, 66);
  assert.equal(missing.stderr.trim(), 'subledger: event_not_found: no event evt_missing in the inbox');
});

test('amounts are written in the currency major unit', () => {
  assert.equal(money(2000, 'usd'), '$20.00');
  assert.equal(money(500, 'jpy'), '¥500');
  assert.equal(money(null, 'usd'), '—');
  const view: AccountView = {
    account_id: 'a',
    livemode: false,
    customer: null,
    subscriptions: [],
    invoices: [],
    entitlements: [],
    synced_at: null,
  };
  assert.equal(
    formatAccount(view),
    [
      'Account a (test mode): no customer mirrored',
      'Subscriptions: none',
      'Recent invoices: none',
      'Entitlements: none',
      'Synced: never',
    ].join('\n'),
  );
});
