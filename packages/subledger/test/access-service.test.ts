import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Hono } from 'hono';
import { defineCatalog } from '../src/catalog/index.ts';
import { createDemoAccounts, DEMO_ACCOUNTS, type DemoAccountId } from '../src/cli/demo-accounts.ts';
import { requireFeature } from '../src/gates/hono.ts';
import { createSubledger, type Subledger } from '../src/subledger.ts';
import { createLogger } from '../src/telemetry/index.ts';
import { type Stack, startStack } from './support/stack.ts';

const catalog = defineCatalog({
  features: {
    members: { type: 'boolean', name: 'Team members' },
    sso: { type: 'boolean', name: 'Single sign-on' },
    api_calls: { type: 'metered', name: 'API calls', period: 'month' },
  },
  plans: {
    team: {
      name: 'Team',
      prices: [{ lookupKey: 'team_monthly', unitAmount: 1500, currency: 'usd', interval: 'month' }],
      features: { members: true, api_calls: { limit: 3 } },
    },
  },
});

let stack: Stack;
let subscriptions: Record<DemoAccountId, string>;

before(async () => {
  stack = await startStack({ catalog });
  const product = await stack.stripe.products.create({ name: 'Team', metadata: { subledger_plan: 'team' } });
  const price = await stack.stripe.prices.create({
    product: product.id,
    currency: 'usd',
    unit_amount: 1500,
    recurring: { interval: 'month' },
    lookup_key: 'team_monthly',
  });
  subscriptions = await createDemoAccounts(stack.stripe, price.id);
  await stack.settle();
});

after(() => stack.close());

const stripeRequests = async (subledger: Subledger) =>
  (await subledger.metrics.stripeRequests.get()).values.reduce((sum, value) => sum + value.value, 0);

const EXPECTED: Record<DemoAccountId, string> = {
  demo_active: 'allowed',
  demo_trialing: 'allowed',
  demo_canceling: 'allowed',
  demo_past_due: 'allowed',
  demo_incomplete: 'subscription_incomplete',
  demo_canceled: 'subscription_required',
};

test('check: each demo account, from the mirror, with no call to Stripe', async () => {
  const { access } = stack.subledger;
  const before = await stripeRequests(stack.subledger);
  for (const accountId of Object.keys(DEMO_ACCOUNTS) as DemoAccountId[]) {
    for (let round = 0; round < 3; round++) {
      const result = await access.check(accountId, 'members');
      assert.equal(result.code, EXPECTED[accountId], accountId);
      assert.equal(result.state, DEMO_ACCOUNTS[accountId], accountId);
    }
  }
  const nobody = await access.check('nobody', 'members');
  assert.deepEqual(
    [nobody.allowed, nobody.code, nobody.state, nobody.plan],
    [false, 'subscription_required', 'none', null],
  );
  assert.equal((await access.check('demo_active', 'sso')).code, 'feature_not_in_plan');
  assert.equal((await access.check('demo_active', 'teleport')).code, 'feature_unknown');
  assert.equal(await stripeRequests(stack.subledger), before, 'no Stripe request was made');
});

test('entitlements: the whole summary of an account', async () => {
  const summary = await stack.subledger.access.entitlements('demo_canceling');
  assert.equal(summary.state, 'canceled');
  assert.equal(summary.plan, 'team');
  assert.equal(summary.subscriptionId, subscriptions.demo_canceling);
  assert.equal(summary.canPurchase, false);
  assert.ok(summary.endsAt && summary.endsAt > Date.now() / 1000, 'access ends at the period end');
  assert.deepEqual(Object.keys(summary.features).sort(), ['api_calls', 'members', 'sso']);
  assert.equal(summary.features.api_calls?.limit, 3);
});

test('usage: recorded uses count against the limit at once, each key once', async () => {
  const { access, usage } = stack.subledger;
  assert.equal((await access.check('demo_trialing', 'api_calls')).remaining, 3);
  assert.equal(
    await usage.record({
      accountId: 'demo_trialing',
      featureId: 'api_calls',
      quantity: 2,
      idempotencyKey: 'u1',
    }),
    true,
  );
  assert.equal(
    await usage.record({
      accountId: 'demo_trialing',
      featureId: 'api_calls',
      quantity: 2,
      idempotencyKey: 'u1',
    }),
    false,
  );
  const after = await access.check('demo_trialing', 'api_calls');
  assert.deepEqual([after.allowed, after.used, after.remaining, after.limit], [true, 2, 1, 3]);
  const two = await access.check('demo_trialing', 'api_calls', { quantity: 2 });
  assert.deepEqual([two.allowed, two.code], [false, 'limit_reached']);
  // A use from before the current window does not count.
  const lastYear = Math.floor(Date.now() / 1000) - 400 * 86_400;
  await usage.record({
    accountId: 'demo_trialing',
    featureId: 'api_calls',
    quantity: 1,
    idempotencyKey: 'old',
    timestamp: lastYear,
  });
  assert.equal((await access.check('demo_trialing', 'api_calls')).used, 2);
  await assert.rejects(
    usage.record({ accountId: 'demo_trialing', featureId: 'api_calls', quantity: 0, idempotencyKey: 'zero' }),
    { code: 'usage_invalid' },
  );
  // Stored as `demo_trialing\uFFFD`, a lone surrogate would count toward another account.
  await assert.rejects(
    usage.record({
      accountId: 'demo_trialing\uD800',
      featureId: 'api_calls',
      quantity: 1,
      idempotencyKey: 'lone',
    }),
    { code: 'usage_invalid', message: 'usage accountId: must be well-formed Unicode (no lone surrogate)' },
  );
  await assert.rejects(access.check('demo_trialing', 'api_calls', { quantity: 1.5 }), {
    code: 'invalid_quantity',
  });
});

test('HTTP: POST /v1/check and GET /v1/accounts/:id/entitlements, through the typed client', async () => {
  const { client } = stack;
  const allowed = await client.POST('/v1/check', {
    body: { account_id: 'demo_active', feature: 'api_calls', quantity: 2 },
  });
  assert.equal(allowed.response.status, 200);
  assert.deepEqual(
    { ...allowed.data, resets_at: typeof allowed.data?.resets_at },
    {
      allowed: true,
      code: 'allowed',
      state: 'active',
      plan: 'team',
      limit: 3,
      used: 0,
      remaining: 3,
      resets_at: 'number',
    },
  );
  const refused = await client.POST('/v1/check', {
    body: { account_id: 'demo_incomplete', feature: 'members' },
  });
  assert.deepEqual([refused.data?.allowed, refused.data?.code], [false, 'subscription_incomplete']);

  // Bodies the typed client would not let through, sent as raw HTTP.
  const post = (body: unknown) =>
    fetch(`${stack.url}/v1/check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.apiKey}` },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const invalid: [unknown, string, string | undefined][] = [
    ['{', 'invalid_json', undefined],
    [[1], 'invalid_request', undefined],
    [{ feature: 'members' }, 'invalid_request', 'account_id'],
    [{ account_id: 'demo_active' }, 'invalid_request', 'feature'],
    [{ account_id: 'demo_active', feature: 'members', quantity: 0 }, 'invalid_request', 'quantity'],
    [{ account_id: 'demo_active', feature: 'members', quantity: '2' }, 'invalid_request', 'quantity'],
    [{ account_id: 'demo_active', feature: 'members', extra: true }, 'invalid_request', undefined],
    [{ account_id: 'x'.repeat(501), feature: 'members' }, 'invalid_request', 'account_id'],
  ];
  for (const [input, code, param] of invalid) {
    const response = await post(input);
    const error = ((await response.json()) as { error: { code: string; param?: string; message: string } })
      .error;
    assert.equal(response.status, 400, JSON.stringify(input).slice(0, 40));
    assert.equal(error.code, code);
    assert.equal(error.param, param);
    assert.ok(error.message.length > 0);
  }

  const summary = await client.GET('/v1/accounts/{account_id}/entitlements', {
    params: { path: { account_id: 'demo_past_due' } },
  });
  assert.equal(summary.data?.account_id, 'demo_past_due');
  assert.equal(summary.data?.state, 'past_due');
  assert.equal(summary.data?.can_purchase, false);
  assert.equal(summary.data?.features.members?.code, 'allowed');
  const unknown = await client.GET('/v1/accounts/{account_id}/entitlements', {
    params: { path: { account_id: 'nobody' } },
  });
  assert.equal(unknown.data?.state, 'none');
});

test('a gate over the mirror: joining a team whose subscription is incomplete is refused', async () => {
  const app = new Hono();
  const joined: string[] = [];
  const members = requireFeature(stack.subledger.access, 'members', {
    accountId: (c) => c.req.param('teamId'),
  });
  app.post('/teams/:teamId/members', members, (c) => {
    joined.push(c.req.param('teamId'));
    return c.json({ joined: true }, 201);
  });
  const join = (teamId: string) => app.request(`/teams/${teamId}/members`, { method: 'POST' });
  assert.equal((await join('demo_trialing')).status, 201);
  const refused = await join('demo_incomplete');
  assert.equal(refused.status, 402);
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'subscription_incomplete');
  assert.equal((await join('demo_canceled')).status, 402);
  assert.deepEqual(joined, ['demo_trialing']);
});

test('invalidation: a change in Stripe reaches the warm cache through the mirror', async () => {
  const { access } = stack.subledger;
  assert.equal((await access.check('demo_active', 'members')).allowed, true);
  await stack.stripe.subscriptions.cancel(subscriptions.demo_active);
  await stack.settle();
  const result = await access.check('demo_active', 'members');
  assert.deepEqual([result.allowed, result.code, result.state], [false, 'subscription_required', 'expired']);
});

test('across instances: a change committed by one is seen by the other, never a stale answer after', async (t) => {
  const other = await createSubledger({
    config: { ...stack.subledger.config, databaseUrl: stack.database.url },
    catalog,
    logger: createLogger('silent'),
  });
  try {
    const delays: number[] = [];
    for (let round = 0; round < 20; round++) {
      const used = (await other.access.check('demo_trialing', 'api_calls')).used ?? 0;
      await stack.subledger.usage.record({
        accountId: 'demo_trialing',
        featureId: 'api_calls',
        quantity: 1,
        idempotencyKey: `x${round}`,
      });
      const committed = performance.now();
      let seen = (await other.access.check('demo_trialing', 'api_calls')).used;
      while (seen === used) {
        assert.ok(performance.now() - committed < 5_000, 'the other instance sees the change');
        await new Promise((resolve) => setImmediate(resolve));
        seen = (await other.access.check('demo_trialing', 'api_calls')).used;
      }
      assert.equal(seen, used + 1);
      delays.push(performance.now() - committed);
    }
    delays.sort((a, b) => a - b);
    t.diagnostic(
      `cross-instance staleness p50 ${delays[10]?.toFixed(2)} ms, max ${delays.at(-1)?.toFixed(2)} ms`,
    );
  } finally {
    await other.close();
  }
});

test('a lost LISTEN connection: checks read through until it is back, then cache again', async () => {
  const { access, usage } = stack.subledger;
  await access.check('demo_trialing', 'api_calls');
  const cached = access.cachedAccounts();
  await stack.database.pool.query(
    `select pg_terminate_backend(pid) from pg_stat_activity where query ilike 'listen subledger_access%'`,
  );
  // The loss reaches this process a moment after the backend ends: until then the cache still answers.
  for (let waited = 0; access.cachedAccounts() > 0; waited++) {
    assert.ok(waited < 100, 'the lost connection is noticed');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const before = (await access.check('demo_trialing', 'api_calls')).used ?? 0;
  // A use recorded by someone else while no notice can arrive: seen anyway.
  await stack.database.pool.query(
    `insert into usage_events (account_id, stripe_account, livemode, feature_id, quantity, idempotency_key, occurred_at)
     values ('demo_trialing', 'platform', false, 'api_calls', 1, 'behind-the-back', now())`,
  );
  assert.equal((await access.check('demo_trialing', 'api_calls')).used, before + 1);
  for (let attempt = 0; access.cachedAccounts() === 0 || attempt < 1; attempt++) {
    assert.ok(attempt < 100, 'the listener reconnects');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await access.check('demo_trialing', 'api_calls');
  }
  assert.ok(cached > 0);
  await usage.record({
    accountId: 'demo_trialing',
    featureId: 'api_calls',
    quantity: 1,
    idempotencyKey: 'after',
  });
  assert.equal((await access.check('demo_trialing', 'api_calls')).used, before + 2);
});
