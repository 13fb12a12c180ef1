import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Stripe from 'stripe';
import { drainWebhooks, faultsOf } from 'stripe-emulator';
import { quoteSearchValue, syncAccount } from '../src/sync/account-sync.ts';
import { toWrites } from '../src/sync/customer-state.ts';
import { objectKeyOf } from '../src/sync/versions.ts';
import { fromEvent, writeInTransaction } from './support/mirror-writes.ts';
import { recordingClient } from './support/recording-stripe.ts';
import { type Stack, startStack } from './support/stack.ts';

// Workers are off: webhooks reach the inbox but are never applied, as when deliveries are late or lost.
let stack: Stack;
let price: Stripe.Price;
before(async () => {
  stack = await startStack({
    workers: false,
    environment: { SUBLEDGER_ACCOUNT_KEYS: 'buildingId,orgId' },
  });
  const product = await stack.stripe.products.create({ name: 'Team' });
  const feature = await stack.stripe.entitlements.features.create({ name: 'Seats', lookup_key: 'seats' });
  await stack.stripe.products.createFeature(product.id, { entitlement_feature: feature.id });
  price = await stack.stripe.prices.create({
    product: product.id,
    currency: 'usd',
    unit_amount: 1500,
    recurring: { interval: 'month' },
  });
});
after(() => stack.close());

type Answer = { status: number; body: Record<string, unknown> & { error?: { code: string } } };
async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${stack.apiKey}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}
const query = async <T>(text: string, values: unknown[] = []) =>
  (await stack.database.pool.query(text, values)).rows as T[];
const json = (value: unknown) => JSON.parse(JSON.stringify(value));

async function subscribedCustomer(metadata: Record<string, string>, quantity = 1) {
  const created = await stack.stripe.customers.create({ payment_method: 'pm_card_visa', metadata });
  const [card] = (await stack.stripe.paymentMethods.list({ customer: created.id })).data;
  const customer = await stack.stripe.customers.update(created.id, {
    invoice_settings: { default_payment_method: card?.id ?? '' },
  });
  const subscription = await stack.stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: price.id, quantity }],
  });
  return { customer, subscription };
}

async function completedCheckout(params: Stripe.Checkout.SessionCreateParams) {
  const session = await stack.stripe.checkout.sessions.create({
    mode: 'subscription',
    line_items: [{ price: price.id, quantity: 3 }],
    success_url: 'https://app.example.com/welcome',
    ...params,
  });
  const response = await fetch(`${stack.emulator.url}/_emulator/checkout/sessions/${session.id}/complete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ payment_method: 'pm_card_visa' }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return ((await response.json()) as { session: Stripe.Checkout.Session }).session;
}

const link = async (accountId: string) =>
  (
    await query<{ customer_id: string; source: string }>(
      'select customer_id, source from account_customers where account_id = $1',
      [accountId],
    )
  )[0];

let team: Awaited<ReturnType<typeof subscribedCustomer>>;

test('an account whose webhooks were never applied is read from Stripe by POST /v1/accounts/:id/sync', async () => {
  team = await subscribedCustomer({ subledger_account_id: 'team_1' });
  assert.equal((await call('GET', '/v1/accounts/team_1')).status, 404, 'the mirror knows nothing yet');

  const synced = await call('POST', '/v1/accounts/team_1/sync');
  assert.equal(synced.status, 200, JSON.stringify(synced.body));
  const current = await stack.stripe.subscriptions.retrieve(team.subscription.id);
  assert.deepEqual(synced.body.customer, { id: team.customer.id, email: null, name: null });
  assert.deepEqual(synced.body.subscriptions, [
    {
      id: team.subscription.id,
      status: 'active',
      items: [{ price: price.id, quantity: 1 }],
      current_period_end: current.items.data[0]?.current_period_end,
      cancel_at_period_end: false,
      trial_end: null,
    },
  ]);
  const [invoice] = synced.body.invoices as { id: string; status: string; amount_paid: number }[];
  assert.equal(invoice?.id, current.latest_invoice);
  assert.equal(invoice?.status, 'paid');
  assert.equal(invoice?.amount_paid, 1500);
  assert.deepEqual(synced.body.entitlements, ['seats']);
  assert.equal(typeof synced.body.synced_at, 'number');
  assert.deepEqual(await link('team_1'), { customer_id: team.customer.id, source: 'customer_metadata' });

  const [row] = await query<{ data: unknown; source: string }>(
    'select data, source from subscriptions where id = $1',
    [team.subscription.id],
  );
  assert.deepEqual(row, { data: json(current), source: 'fetch' });
  assert.deepEqual(await call('GET', '/v1/accounts/team_1'), synced, 'the view is what the sync returned');
});

test('a quantity beyond 32 bits (3,000,000,000 seats) is mirrored and read back as that number', async () => {
  const seats = 3_000_000_000;
  const { subscription } = await subscribedCustomer({ subledger_account_id: 'team_seats' }, seats);
  const synced = await call('POST', '/v1/accounts/team_seats/sync');
  assert.equal(synced.status, 200, JSON.stringify(synced.body));
  const [view] = synced.body.subscriptions as { id: string; items: unknown[] }[];
  assert.deepEqual([view?.id, view?.items], [subscription.id, [{ price: price.id, quantity: seats }]]);
  assert.deepEqual(await call('GET', '/v1/accounts/team_seats'), synced);
  const rows = await query('select quantity from subscription_items where subscription_id = $1', [
    subscription.id,
  ]);
  assert.deepEqual(rows, [{ quantity: seats }]);
});

test('the events delivered after the sync do not move the account backwards', async () => {
  const before = await call('GET', '/v1/accounts/team_1');
  await drainWebhooks(stack.emulator.emulator, 10_000);
  await stack.subledger.sync.worker.drain();
  await stack.subledger.sync.refetch(`platform/${team.customer.id}`);
  const outcomes = await query<{ outcome: string }>(
    `select distinct outcome from stripe_events where object_id = any($1::text[])`,
    [[team.customer.id, team.subscription.id]],
  );
  assert.ok(outcomes.length > 0, 'the late events were processed');
  assert.ok(
    outcomes.every((row) => ['stale', 'refetched'].includes(row.outcome)),
    `no older event applies over the fetch: ${JSON.stringify(outcomes)}`,
  );
  const after = await call('GET', '/v1/accounts/team_1');
  assert.deepEqual({ ...after.body, synced_at: 0 }, { ...before.body, synced_at: 0 });
  const [row] = await query<{ data: unknown }>('select data from subscriptions where id = $1', [
    team.subscription.id,
  ]);
  assert.deepEqual(row?.data, json(await stack.stripe.subscriptions.retrieve(team.subscription.id)));
});

test('a lost account mapping is rebuilt from the customer metadata in Stripe', async () => {
  await query(`delete from account_customers where account_id = 'team_1'`);
  const lost = await call('GET', '/v1/accounts/team_1');
  assert.equal(lost.status, 404);
  assert.equal(lost.body.error?.code, 'account_not_found');

  const synced = await call('POST', '/v1/accounts/team_1/sync');
  assert.equal(synced.status, 200);
  assert.equal((synced.body.customer as { id: string }).id, team.customer.id);
  assert.deepEqual(await link('team_1'), { customer_id: team.customer.id, source: 'customer_metadata' });
});

test("an account named by a completed checkout session's client_reference_id is found", async () => {
  const session = await completedCheckout({ client_reference_id: 'org_7' });
  const synced = await call('POST', '/v1/accounts/org_7/sync');
  assert.equal(synced.status, 200, JSON.stringify(synced.body));
  assert.equal((synced.body.customer as { id: string }).id, session.customer);
  const [subscription] = synced.body.subscriptions as { id: string; status: string; items: unknown[] }[];
  assert.equal(subscription?.id, session.subscription);
  assert.equal(subscription?.status, 'active');
  assert.deepEqual(subscription?.items, [{ price: price.id, quantity: 3 }]);
  assert.deepEqual(await link('org_7'), { customer_id: session.customer, source: 'checkout_session' });
});

test('an account named by a configured checkout metadata key (SUBLEDGER_ACCOUNT_KEYS) is found', async () => {
  const session = await completedCheckout({
    client_reference_id: 'not-the-account',
    metadata: { buildingId: 'bldg_9' },
  });
  const synced = await call('POST', '/v1/accounts/bldg_9/sync');
  assert.equal(synced.status, 200, JSON.stringify(synced.body));
  assert.equal((synced.body.customer as { id: string }).id, session.customer);
  assert.equal((await call('POST', '/v1/accounts/not-the-account/sync')).status, 404);
});

test('an unknown account is a 404 account_not_found; a malformed id a 400', async () => {
  for (const method of ['GET', 'POST'] as const) {
    const answer = await call(method, method === 'GET' ? '/v1/accounts/nobody' : '/v1/accounts/nobody/sync');
    assert.equal(answer.status, 404);
    assert.deepEqual(answer.body.error, {
      code: 'account_not_found',
      message:
        method === 'GET'
          ? 'no Stripe customer is linked to account nobody'
          : 'no Stripe customer belongs to account nobody',
    });
  }
  const malformed = await call('GET', `/v1/accounts/${encodeURIComponent('bad\u0001id')}`);
  assert.equal(malformed.status, 400);
  assert.equal(malformed.body.error?.code, 'invalid_account_id');
  assert.equal((await call('GET', `/v1/accounts/${'x'.repeat(501)}`)).body.error?.code, 'invalid_account_id');
});

test('an account id holding AND, OR, quotes and a backslash is found by its customer metadata', async () => {
  const accountId = `O'Brien \\ a:b OR metadata['x']:'y' AND z`;
  const customer = await stack.stripe.customers.create({ metadata: { subledger_account_id: accountId } });
  const synced = await call('POST', `/v1/accounts/${encodeURIComponent(accountId)}/sync`);
  assert.equal(synced.status, 200, JSON.stringify(synced.body));
  assert.equal((synced.body.customer as { id: string }).id, customer.id);
});

test('a sync Stripe is down for answers 503 stripe_unavailable; one whose read Stripe refuses, 502 stripe_refused', async () => {
  faultsOf(stack.emulator.emulator).configure({
    next: { api: [{ fault: '503', count: 20, path: '/v1/customers/search' }] },
  });
  try {
    const down = await call('POST', '/v1/accounts/team_refused/sync');
    assert.deepEqual([down.status, down.body.error?.code], [503, 'stripe_unavailable']);
  } finally {
    faultsOf(stack.emulator.emulator).reset();
  }
  // A 4xx is Stripe's answer, which asking again would only repeat: not an outage.
  const customers = (stack.subledger.stripe as Stripe).customers;
  const search = customers.search;
  customers.search = () => {
    throw new Stripe.errors.StripeInvalidRequestError({
      type: 'invalid_request_error',
      code: 'parameter_invalid',
      message: 'Invalid query: sk_test_quoted',
      statusCode: 400,
    });
  };
  try {
    const refused = await call('POST', '/v1/accounts/team_refused/sync');
    assert.deepEqual([refused.status, refused.body.error?.code], [502, 'stripe_refused']);
    assert.doesNotMatch(JSON.stringify(refused.body), /sk_test/);
  } finally {
    customers.search = search;
  }
});

const customerRow = async (id: string) =>
  (await query<{ deleted: boolean }>('select deleted from customers where id = $1', [id]))[0];

/** An account linked to a customer that is then deleted in Stripe, and the account's new customer. */
async function deletedThenReplaced(accountId: string, options: { tombstoneApplied: boolean }) {
  const old = await subscribedCustomer({ subledger_account_id: accountId });
  assert.equal((await call('POST', `/v1/accounts/${accountId}/sync`)).status, 200);
  await stack.stripe.customers.del(old.customer.id);
  if (options.tombstoneApplied) {
    await drainWebhooks(stack.emulator.emulator, 10_000);
    await stack.subledger.sync.worker.drain();
    // An event of the sync's second is not taken on trust: it is read again from Stripe.
    await stack.subledger.sync.refetch(`platform/${old.customer.id}`);
    assert.equal((await customerRow(old.customer.id))?.deleted, true, 'the mirror knows of the deletion');
  }
  // Created after the events were applied: only Stripe knows the new customer.
  const replacement = await subscribedCustomer({ subledger_account_id: accountId }, 2);
  assert.deepEqual(await link(accountId), { customer_id: old.customer.id, source: 'customer_metadata' });
  return { old, replacement };
}

async function assertSyncedTo(
  accountId: string,
  replacement: Awaited<ReturnType<typeof subscribedCustomer>>,
) {
  const synced = await call('POST', `/v1/accounts/${accountId}/sync`);
  assert.equal(synced.status, 200, JSON.stringify(synced.body));
  assert.equal((synced.body.customer as { id: string } | null)?.id, replacement.customer.id);
  const subscriptions = synced.body.subscriptions as { id: string; items: unknown[] }[];
  assert.deepEqual(
    subscriptions.map((subscription) => [subscription.id, subscription.items]),
    [[replacement.subscription.id, [{ price: price.id, quantity: 2 }]]],
  );
  assert.deepEqual(await link(accountId), {
    customer_id: replacement.customer.id,
    source: 'customer_metadata',
  });
  assert.deepEqual(await call('GET', `/v1/accounts/${accountId}`), synced);
}

test('a linked customer the mirror knows is deleted gives way to the customer whose metadata names the account', async () => {
  const { replacement } = await deletedThenReplaced('team_3', { tombstoneApplied: true });
  await assertSyncedTo('team_3', replacement);
});

test('a linked customer found deleted in Stripe during the sync gives way to the new one, and is tombstoned', async () => {
  const { old, replacement } = await deletedThenReplaced('team_4', { tombstoneApplied: false });
  assert.equal((await customerRow(old.customer.id))?.deleted, false, 'the deletion is not mirrored yet');
  await assertSyncedTo('team_4', replacement);
  assert.equal((await customerRow(old.customer.id))?.deleted, true);
});

test('an account whose deleted customer has no successor answers with that customer’s ended state', async () => {
  const old = await subscribedCustomer({ subledger_account_id: 'team_5' });
  assert.equal((await call('POST', '/v1/accounts/team_5/sync')).status, 200);
  await stack.stripe.customers.del(old.customer.id);
  const synced = await call('POST', '/v1/accounts/team_5/sync');
  assert.equal(synced.status, 200, JSON.stringify(synced.body));
  assert.equal(synced.body.customer, null);
  assert.equal((await customerRow(old.customer.id))?.deleted, true);
  assert.deepEqual(await link('team_5'), { customer_id: old.customer.id, source: 'customer_metadata' });
});

/** Applies every event delivered so far, as the workers would. */
async function applyWebhooks() {
  await drainWebhooks(stack.emulator.emulator, 10_000);
  await stack.subledger.sync.worker.drain();
  // Events of a read's second, or of a row the mirror lacks, are read again from Stripe.
  const refetches = await query<{ serial_key: string }>('select distinct serial_key from sync_refetches');
  for (const row of refetches) await stack.subledger.sync.refetch(row.serial_key);
}

const customerOf = (answer: Answer) => (answer.body.customer as { id: string } | null)?.id ?? null;

test('the eager sync of a linked account finds a newer checkout that gave it a new customer, as the webhooks then do', async () => {
  // Bought through a Payment Link (Stripe makes the customer), then synced by the success page.
  const first = await completedCheckout({ client_reference_id: 'team_p' });
  assert.equal(customerOf(await call('POST', '/v1/accounts/team_p/sync')), first.customer);
  await sleep(1_100);
  // Bought again through a pricing table: another new customer, with the new subscription.
  const second = await completedCheckout({ client_reference_id: 'team_p' });
  const synced = await call('POST', '/v1/accounts/team_p/sync');
  assert.equal(customerOf(synced), second.customer);
  await applyWebhooks();
  assert.equal(customerOf(await call('GET', '/v1/accounts/team_p')), second.customer);
});

test('the eager sync of a linked account finds a newer customer its metadata names, as the webhooks then do', async () => {
  const first = await stack.stripe.customers.create({ metadata: { subledger_account_id: 'team_n' } });
  assert.equal(customerOf(await call('POST', '/v1/accounts/team_n/sync')), first.id);
  await sleep(1_100);
  // Another customer made for the account (by hand, or by another of the app's services).
  const second = await stack.stripe.customers.create({ metadata: { subledger_account_id: 'team_n' } });
  assert.equal(customerOf(await call('POST', '/v1/accounts/team_n/sync')), second.id);
  await applyWebhooks();
  assert.equal(customerOf(await call('GET', '/v1/accounts/team_n')), second.id);
  // An older one found by the search does not take the account back.
  assert.equal(customerOf(await call('POST', '/v1/accounts/team_n/sync')), second.id);
});

test('the eager sync of a linked account with nothing new asks Stripe 7 requests, its search beside the customer’s reads', async () => {
  const { stripe, requests } = recordingClient(stack.emulator.url);
  const customer = await stack.stripe.customers.create({ metadata: { subledger_account_id: 'team_budget' } });
  const sync = () =>
    syncAccount({
      database: stack.database,
      stripe,
      context: { accountKeys: [] },
      accountId: 'team_budget',
      place: { stripeAccount: 'platform', livemode: false },
    });
  assert.equal((await sync()).ok, true, 'linked');
  requests.length = 0;
  const synced = await sync();
  assert.equal(synced.ok && synced.account.customer?.id, customer.id);
  const sent = requests.map((request) => `${request.method} ${request.path.replace(/\?.*/, '')}`);
  const expected = [
    `GET /v1/customers/${customer.id}`,
    'GET /v1/customers/search',
    // The customer's recent sessions, and the account-wide list of those completed since its link.
    'GET /v1/checkout/sessions',
    'GET /v1/checkout/sessions',
    'GET /v1/entitlements/active_entitlements',
    'GET /v1/invoices',
    'GET /v1/subscriptions',
  ];
  assert.deepEqual(sent.sort(), expected.sort());
});

test('a lost mapping is rebuilt to the customer the webhooks linked: a newer checkout over older metadata', async () => {
  // A customer Subledger made for the account (metadata), then a Payment Link that made another one.
  await stack.stripe.customers.create({ metadata: { subledger_account_id: 'team_m' } });
  await sleep(1_100);
  const session = await completedCheckout({ client_reference_id: 'team_m' });
  await applyWebhooks();
  assert.equal((await link('team_m'))?.customer_id, session.customer);

  await query(`delete from account_customers where account_id = 'team_m'`);
  const rebuilt = await call('POST', '/v1/accounts/team_m/sync');
  assert.equal(customerOf(rebuilt), session.customer);
  assert.equal((rebuilt.body.subscriptions as unknown[]).length, 1);
});

test('a customer whose metadata no longer names the account stops answering for it, linked or rebuilt', async () => {
  const customer = await stack.stripe.customers.create({ metadata: { subledger_account_id: 'team_x' } });
  assert.equal(customerOf(await call('POST', '/v1/accounts/team_x/sync')), customer.id);
  await stack.stripe.customers.update(customer.id, { metadata: { subledger_account_id: '' } });
  // Before the webhooks: the sync reads the customer, and sees the metadata is gone.
  const unseen = await call('POST', '/v1/accounts/team_x/sync');
  assert.equal(unseen.body.error?.code, 'account_not_found');
  await applyWebhooks();
  assert.equal((await call('GET', '/v1/accounts/team_x')).status, 404);
  assert.equal((await call('POST', '/v1/accounts/team_x/sync')).status, 404);
});

/**
 * `stripe`, whose account-wide listing of completed checkout sessions runs `meanwhile` once Stripe has
 * answered it, before the answer is handed on: as when a change is made and applied while it travels.
 */
function listingThen(stripe: Stripe, meanwhile: () => Promise<void>): Stripe {
  const sessions = stripe.checkout.sessions;
  const list = ((params?: Stripe.Checkout.SessionListParams, options?: Stripe.RequestOptions) => {
    const listing = sessions.list(params, options);
    if (params?.customer) return listing;
    return listing.then(async (page) => {
      await meanwhile();
      return page;
    });
  }) as typeof sessions.list;
  const listed = new Proxy(sessions, {
    get: (target, name) => (name === 'list' ? list : Reflect.get(target, name)),
  });
  return new Proxy(stripe, {
    get: (target, name) =>
      name === 'checkout' ? { ...target.checkout, sessions: listed } : Reflect.get(target, name),
  });
}

test('a checkout session changed after the sync listed it keeps its newer state: the listing does not overwrite it', async () => {
  const session = await completedCheckout({ client_reference_id: 'team_race' });
  const place = { stripeAccount: 'platform', livemode: false };
  const changed = async () => {
    await sleep(1_100);
    // Stripe changes the session, and the worker applies its event, a second after the listing.
    const table = stack.emulator.emulator
      .partition(null, false)
      .table<Stripe.Checkout.Session>('checkout.session');
    const stored = table.get(session.id) as Stripe.Checkout.Session;
    table.replace({ ...stored, metadata: { ...stored.metadata, note: 'changed' } });
    const current = json(await stack.stripe.checkout.sessions.retrieve(session.id));
    await writeInTransaction(stack.database, [
      fromEvent('checkout.session', current, { version: Math.floor(Date.now() / 1000) }),
    ]);
  };
  const synced = await syncAccount({
    database: stack.database,
    stripe: listingThen(stack.stripe, changed),
    context: { accountKeys: [] },
    accountId: 'team_race',
    place,
  });
  assert.equal(synced.ok && synced.account.customer?.id, session.customer);
  const [row] = await query<{ note: string | null }>(
    `select data->'metadata'->>'note' as note from checkout_sessions where id = $1`,
    [session.id],
  );
  assert.equal(row?.note, 'changed');
});

test('POST /v1/checkout: a configured account key in its metadata does not give the customer to another account', async () => {
  const started = await call('POST', '/v1/checkout', {
    account_id: 'team_k',
    price: price.id,
    success_url: 'https://app.example.com/ok',
    cancel_url: 'https://app.example.com/cancel',
    metadata: { orgId: 'org_other', campaign: 'spring' },
  });
  assert.equal(started.status, 200, JSON.stringify(started.body));
  const sessionId = started.body.session_id as string;
  const created = await stack.stripe.checkout.sessions.retrieve(sessionId);
  assert.deepEqual(
    [created.metadata?.orgId, created.metadata?.campaign, created.metadata?.subledger_account_id],
    ['team_k', 'spring', 'team_k'],
  );
  const response = await fetch(`${stack.emulator.url}/_emulator/checkout/sessions/${sessionId}/complete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ payment_method: 'pm_card_visa' }),
  });
  assert.equal(response.status, 200);
  const synced = await call('POST', `/v1/checkout/${sessionId}/sync`);
  assert.equal((synced.body.account as { account_id: string } | undefined)?.account_id, 'team_k');
  assert.equal((await link('team_k'))?.customer_id, started.body.customer_id);
  assert.equal(await link('org_other'), undefined);
});

test('the library’s account calls refuse an id the HTTP API refuses, with the same invalid_account_id', async () => {
  const http = await call('GET', `/v1/accounts/${encodeURIComponent('a\u0000b')}`);
  assert.equal(http.status, 400);
  const { accounts, access } = stack.subledger;
  const calls: [string, () => Promise<unknown>][] = [
    ['accounts.view', () => accounts.view('a\u0000b')],
    ['accounts.sync', () => accounts.sync('a\u0000b')],
    ['accounts.timeline', () => accounts.timeline('a\u0001b')],
    ['accounts.creditEntries', () => accounts.creditEntries('x'.repeat(501))],
    ['access.entitlements', () => access.entitlements('a\u0000b')],
    ['access.check', () => access.check('a\u007fb', 'seats')],
  ];
  for (const [name, refused] of calls) await assert.rejects(refused, { code: 'invalid_account_id' }, name);
  await assert.rejects(accounts.view('a\u0000b'), {
    code: 'invalid_account_id',
    message: (http.body.error as unknown as { message: string }).message,
  });
});

test('an id with a lone surrogate, which PostgreSQL would store as U+FFFD, is refused rather than read as another account', async () => {
  // Stripe (and the mirror) hold the account `team\uFFFD`: `team\uD800` and `team\uDFFF` are not it.
  const customer = await stack.stripe.customers.create({ metadata: { subledger_account_id: 'team\uFFFD' } });
  assert.equal(
    customerOf(await call('POST', `/v1/accounts/${encodeURIComponent('team\uFFFD')}/sync`)),
    customer.id,
  );
  for (const accountId of ['team\uD800', 'team\uDFFF', '\uDC00team\uD83D']) {
    await assert.rejects(stack.subledger.accounts.view(accountId), {
      code: 'invalid_account_id',
      message: 'account_id must be well-formed Unicode (no lone surrogate)',
    });
    await assert.rejects(stack.subledger.access.check(accountId, 'seats'), { code: 'invalid_account_id' });
    const checked = await call('POST', '/v1/check', { account_id: accountId, feature: 'seats' });
    assert.deepEqual(checked.body.error, {
      code: 'invalid_request',
      message: 'account_id must be well-formed Unicode (no lone surrogate)',
      param: 'account_id',
    });
  }
  assert.equal((await stack.subledger.accounts.view('team\uFFFD'))?.customer?.id, customer.id);
  assert.equal(await stack.subledger.accounts.view('team\uD83D\uDE00'), null, 'a whole pair is well-formed');
});

test('a fetch is versioned max(the row it replaces, Stripe clock), on a test clock the row’s; one write per object', () => {
  const place = { stripeAccount: 'platform', livemode: false };
  const known = new Map([[objectKeyOf('subscription', place, 'sub_1'), 2_000]]);
  const object = { id: 'sub_1', object: 'subscription' };
  const clock = { asOf: 1_500, readAt: new Date(1_500_000) };
  const reads = [
    { kind: 'subscription' as const, id: 'sub_1', object, deleted: false, clock },
    { kind: 'subscription' as const, id: 'sub_1', object, deleted: false, clock },
    { kind: 'invoice' as const, id: 'in_1', object: { id: 'in_1' }, deleted: false, clock },
    // On a test clock Stripe's clock says nothing about the clock's events: the row's version is kept.
    {
      kind: 'invoice' as const,
      id: 'in_2',
      object: { id: 'in_2' },
      deleted: false,
      clock,
      onTestClock: true,
    },
    {
      kind: 'invoice' as const,
      id: 'in_3',
      object: { id: 'in_3' },
      deleted: false,
      clock,
      onTestClock: true,
    },
  ];
  known.set(objectKeyOf('invoice', place, 'in_2'), 900);
  const writes = toWrites(reads, known, place);
  assert.deepEqual(
    writes.map((write) => [write.kind, write.id, write.version, write.source, write.eventId]),
    [
      ['subscription', 'sub_1', 2_000, 'fetch', null],
      ['invoice', 'in_1', 1_500, 'fetch', null],
      ['invoice', 'in_2', 900, 'fetch', null],
      ['invoice', 'in_3', 0, 'fetch', null],
    ],
  );
  assert.equal(quoteSearchValue(`o'brien\\x`), `o\\'brien\\\\x`);
});

test('of two reads of one object, the later is written, as of its own read, whichever comes first', () => {
  const place = { stripeAccount: 'platform', livemode: false };
  const session = (note: string, asOf: number, readAtMs: number) => ({
    kind: 'checkout.session' as const,
    id: 'cs_1',
    object: { id: 'cs_1', metadata: { note } },
    deleted: false,
    clock: { asOf, readAt: new Date(readAtMs) },
  });
  const listed = session('listed', 1_000, 1_000_000);
  const fresh = session('fresh', 1_002, 1_002_000);
  const sameStartLaterAnswer = session('answered later', 1_003, 1_000_000);
  const written = (reads: ReturnType<typeof session>[]) =>
    toWrites(reads, new Map(), place).map((write) => [
      (write.object.metadata as { note: string }).note,
      write.version,
      write.source === 'fetch' ? write.readAt.getTime() : null,
    ]);
  assert.deepEqual(written([listed, fresh]), [['fresh', 1_002, 1_002_000]]);
  assert.deepEqual(written([fresh, listed]), [['fresh', 1_002, 1_002_000]]);
  assert.deepEqual(written([listed]), [['listed', 1_000, 1_000_000]]);
  assert.deepEqual(written([sameStartLaterAnswer, listed]), [['answered later', 1_003, 1_000_000]]);
});
