import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type CheckRequest, checkFeature } from '../src/access/check.ts';
import type { AccountFacts } from '../src/access/mirror-reads.ts';
import { addMonths, periodWindow } from '../src/access/periods.ts';
import type { SubscriptionFacts } from '../src/access/state.ts';
import { defineCatalog } from '../src/catalog/index.ts';

const DAY = 86_400;
const NOW = Date.UTC(2026, 10, 22, 12) / 1000;
const PERIOD_START = Date.UTC(2026, 10, 10, 8) / 1000;

const catalog = defineCatalog({
  features: {
    sso: { type: 'boolean', name: 'Single sign-on' },
    reports: { type: 'boolean', name: 'Reports' },
    api_calls: { type: 'metered', name: 'API calls', period: 'month' },
    exports: { type: 'metered', name: 'Exports', period: 'day' },
    ai_credits: { type: 'credits', name: 'AI credits', period: 'month' },
  },
  plans: {
    starter: {
      name: 'Starter',
      prices: [{ lookupKey: 'starter_monthly', unitAmount: 900, currency: 'usd', interval: 'month' }],
      features: { api_calls: { limit: 1000 }, exports: { limit: 3 } },
    },
    pro: {
      name: 'Pro',
      prices: [{ lookupKey: 'pro_monthly', unitAmount: 2900, currency: 'usd', interval: 'month' }],
      features: { sso: true, api_calls: { limit: 'unlimited' }, ai_credits: { grant: 500 } },
    },
  },
});

function account(
  status: SubscriptionFacts['status'],
  lookupKey: string | null,
  stripeEntitlements: string[] = [],
  productPlan: string | null = null,
): AccountFacts {
  const facts: SubscriptionFacts = {
    id: 'sub_1',
    status,
    created: PERIOD_START - 60 * DAY,
    currentPeriodStart: PERIOD_START,
    currentPeriodEnd: addMonths(PERIOD_START, 1),
    trialEnd: null,
    cancelAtPeriodEnd: false,
    cancelAt: null,
    pauseCollection: null,
    pastDueSince: NOW - 30 * DAY,
  };
  return {
    accountId: 'acct_1',
    customerId: 'cus_1',
    subscriptions: [{ facts, prices: [{ id: 'price_1', lookupKey, productPlan }] }],
    stripeEntitlements,
  };
}

const check = (facts: AccountFacts | null, request: CheckRequest) =>
  checkFeature(catalog, facts, request, NOW);

test('check: a boolean feature of the plan is allowed; one outside it is refused with its code', () => {
  const pro = account('active', 'pro_monthly');
  assert.deepEqual(check(pro, { featureId: 'sso' }), {
    allowed: true,
    code: 'allowed',
    state: 'active',
    plan: 'pro',
    limit: null,
    used: null,
    remaining: null,
    resetsAt: null,
  });
  const starter = check(account('active', 'starter_monthly'), { featureId: 'sso' });
  assert.equal(starter.code, 'feature_not_in_plan');
  assert.equal(starter.plan, 'starter');
  assert.equal(check(pro, { featureId: 'teleport' }).code, 'feature_unknown');
});

test('check: a metered limit counts the request, and resets with the billing period', () => {
  const starter = account('trialing', 'starter_monthly');
  const resetsAt = addMonths(PERIOD_START, 1);
  assert.deepEqual(check(starter, { featureId: 'api_calls', used: 990, quantity: 10 }), {
    allowed: true,
    code: 'allowed',
    state: 'trialing',
    plan: 'starter',
    limit: 1000,
    used: 990,
    remaining: 10,
    resetsAt,
  });
  const over = check(starter, { featureId: 'api_calls', used: 990, quantity: 11 });
  assert.equal(over.code, 'limit_reached');
  assert.equal(over.allowed, false);
  assert.equal(check(starter, { featureId: 'api_calls', used: 1200 }).remaining, 0);
  // A daily limit resets at the next day boundary counted from the period's start (08:00 UTC).
  assert.equal(check(starter, { featureId: 'exports', used: 0 }).resetsAt, Date.UTC(2026, 10, 23, 8) / 1000);
});

test('check: unlimited and credit features are allowed with what there is to count', () => {
  // Past due for 30 days: grace is over, whatever the plan.
  const overdue = check(account('past_due', 'pro_monthly'), { featureId: 'api_calls', used: 10 ** 9 });
  assert.equal(overdue.code, 'payment_required');
  const active = account('active', 'pro_monthly');
  const calls = check(active, { featureId: 'api_calls', used: 10 ** 9 });
  assert.equal(calls.allowed, true);
  assert.equal(calls.limit, null);
  const credits = check(active, { featureId: 'ai_credits' });
  assert.equal(credits.allowed, true);
  assert.equal(credits.limit, 500);
});

test('check: the account state refuses before any feature is looked at', () => {
  const cases: [SubscriptionFacts['status'] | null, string][] = [
    [null, 'subscription_required'],
    ['canceled', 'subscription_required'],
    ['incomplete', 'subscription_incomplete'],
    ['unpaid', 'payment_required'],
    ['paused', 'subscription_paused'],
  ];
  for (const [status, code] of cases) {
    const result = check(status ? account(status, 'pro_monthly') : null, { featureId: 'sso' });
    assert.equal(result.code, code, String(status));
    assert.equal(result.allowed, false);
  }
});

test("check: Stripe's own active entitlements are honoured while the account has access", () => {
  const starter = account('active', 'starter_monthly', ['reports', 'beta_dashboard']);
  assert.equal(check(starter, { featureId: 'beta_dashboard' }).code, 'allowed');
  assert.equal(check(starter, { featureId: 'reports' }).code, 'allowed');
  const unpaid = account('unpaid', 'starter_monthly', ['beta_dashboard']);
  assert.equal(check(unpaid, { featureId: 'beta_dashboard' }).code, 'payment_required');
});

test('check: a price the catalog does not name gives no plan', () => {
  const result = check(account('active', 'legacy_2019'), { featureId: 'sso' });
  assert.equal(result.plan, null);
  assert.equal(result.code, 'feature_not_in_plan');
  assert.equal(check(account('active', null, [], 'enterprise'), { featureId: 'sso' }).plan, null);
});

test("check: a price the catalog replaced still gives its product's plan", () => {
  const result = check(account('active', null, [], 'pro'), { featureId: 'sso' });
  assert.equal(result.plan, 'pro');
  assert.equal(result.code, 'allowed');
});

test('periods: monthly windows keep the anchor day, clamped to short months', () => {
  const jan31 = Date.UTC(2027, 0, 31, 9) / 1000;
  assert.equal(addMonths(jan31, 1), Date.UTC(2027, 1, 28, 9) / 1000);
  assert.equal(addMonths(jan31, 2), Date.UTC(2027, 2, 31, 9) / 1000);
  assert.deepEqual(periodWindow(jan31, 'month', Date.UTC(2027, 2, 1) / 1000), {
    start: Date.UTC(2027, 1, 28, 9) / 1000,
    end: Date.UTC(2027, 2, 31, 9) / 1000,
  });
  assert.deepEqual(periodWindow(jan31, 'year', Date.UTC(2028, 5, 1) / 1000), {
    start: Date.UTC(2028, 0, 31, 9) / 1000,
    end: Date.UTC(2029, 0, 31, 9) / 1000,
  });
});

test('periods property: the window holds now, and the next window starts where it ends', () => {
  const seconds = fc.integer({ min: Date.UTC(2000, 0, 1) / 1000, max: Date.UTC(2090, 0, 1) / 1000 });
  const period = fc.constantFrom('day', 'week', 'month', 'year') as fc.Arbitrary<
    'day' | 'week' | 'month' | 'year'
  >;
  fc.assert(
    fc.property(seconds, seconds, period, (a, b, unit) => {
      const [anchor, now] = a <= b ? [a, b] : [b, a];
      const window = periodWindow(anchor, unit, now);
      assert.ok(window.start <= now && now < window.end, JSON.stringify({ anchor, now, unit, window }));
      assert.equal(periodWindow(anchor, unit, window.end).start, window.end);
      assert.equal(periodWindow(anchor, unit, window.end - 1).start, window.start);
    }),
  );
});
