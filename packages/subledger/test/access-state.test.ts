import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  ACCESS_STATES,
  type Access,
  type AccessPolicy,
  accessOf,
  DEFAULT_ACCESS_POLICY,
  SUBSCRIPTION_STATUSES,
  type SubscriptionFacts,
  verdictOf,
} from '../src/access/state.ts';

const DAY = 86_400;
const NOW = 1_800_000_000;

function subscription(overrides: Partial<SubscriptionFacts> = {}): SubscriptionFacts {
  return {
    id: 'sub_1',
    status: 'active',
    created: NOW - 40 * DAY,
    currentPeriodStart: NOW - 10 * DAY,
    currentPeriodEnd: NOW + 20 * DAY,
    trialEnd: null,
    cancelAtPeriodEnd: false,
    cancelAt: null,
    pauseCollection: null,
    pastDueSince: null,
    ...overrides,
  };
}

type Row = {
  name: string;
  facts: Partial<SubscriptionFacts>;
  policy?: Partial<AccessPolicy>;
  expect: Pick<Access, 'state' | 'reason' | 'endsAt' | 'canUse' | 'canPurchase' | 'canUseCredits'>;
};

const access = (state: Access['state'], reason: string, endsAt: number | null = null) => {
  const canUse = ['trialing', 'active', 'past_due', 'canceled'].includes(state);
  return { state, reason, endsAt, canUse };
};

const TABLE: Row[] = [
  {
    name: 'active: until the period renews',
    facts: {},
    expect: { ...access('active', 'active', NOW + 20 * DAY), canPurchase: false, canUseCredits: true },
  },
  {
    name: 'trialing: until the trial ends',
    facts: { status: 'trialing', trialEnd: NOW + 3 * DAY, currentPeriodEnd: NOW + 3 * DAY },
    expect: { ...access('trialing', 'trialing', NOW + 3 * DAY), canPurchase: false, canUseCredits: true },
  },
  {
    name: 'trialing with cancel_at_period_end: canceled, access until the trial ends',
    facts: {
      status: 'trialing',
      trialEnd: NOW + 3 * DAY,
      currentPeriodEnd: NOW + 3 * DAY,
      cancelAtPeriodEnd: true,
    },
    expect: {
      ...access('canceled', 'cancel_at_period_end', NOW + 3 * DAY),
      canPurchase: false,
      canUseCredits: true,
    },
  },
  {
    name: 'active with cancel_at_period_end: canceled, access until the period ends',
    facts: { cancelAtPeriodEnd: true },
    expect: {
      ...access('canceled', 'cancel_at_period_end', NOW + 20 * DAY),
      canPurchase: false,
      canUseCredits: true,
    },
  },
  {
    name: 'active with cancel_at: canceled, access until that moment',
    facts: { cancelAt: NOW + 5 * DAY },
    expect: { ...access('canceled', 'cancel_at', NOW + 5 * DAY), canPurchase: false, canUseCredits: true },
  },
  {
    name: 'a scheduled cancel whose moment passed before its event arrived: expired, not yet purchasable',
    facts: { cancelAtPeriodEnd: true, currentPeriodEnd: NOW - 1 },
    expect: { ...access('expired', 'cancel_at_period_end'), canPurchase: false, canUseCredits: true },
  },
  {
    name: 'past_due within grace: access until grace ends',
    facts: { status: 'past_due', pastDueSince: NOW - 2 * DAY },
    expect: { ...access('past_due', 'past_due', NOW + 5 * DAY), canPurchase: false, canUseCredits: true },
  },
  {
    name: 'past_due with grace over: restricted',
    facts: { status: 'past_due', pastDueSince: NOW - 7 * DAY },
    expect: { ...access('restricted', 'grace_over'), canPurchase: false, canUseCredits: false },
  },
  {
    name: 'past_due, since unknown: grace counts from the period start',
    facts: { status: 'past_due', currentPeriodStart: NOW - 8 * DAY },
    expect: { ...access('restricted', 'grace_over'), canPurchase: false, canUseCredits: false },
  },
  {
    name: 'past_due with no grace in the policy: restricted at once',
    facts: { status: 'past_due', pastDueSince: NOW },
    policy: { graceDays: 0 },
    expect: { ...access('restricted', 'grace_over'), canPurchase: false, canUseCredits: false },
  },
  {
    name: 'unpaid: restricted',
    facts: { status: 'unpaid' },
    expect: { ...access('restricted', 'unpaid'), canPurchase: false, canUseCredits: false },
  },
  {
    name: 'incomplete: no access, and no second subscription',
    facts: { status: 'incomplete' },
    expect: { ...access('incomplete', 'incomplete'), canPurchase: false, canUseCredits: false },
  },
  {
    name: 'incomplete_expired: as if none',
    facts: { status: 'incomplete_expired' },
    expect: { ...access('none', 'incomplete_expired'), canPurchase: true, canUseCredits: true },
  },
  {
    name: 'canceled: expired',
    facts: { status: 'canceled' },
    expect: { ...access('expired', 'canceled'), canPurchase: true, canUseCredits: true },
  },
  {
    name: 'canceled, with credits needing a subscription: no credits',
    facts: { status: 'canceled' },
    policy: { creditsWithoutSubscription: false },
    expect: { ...access('expired', 'canceled'), canPurchase: true, canUseCredits: false },
  },
  {
    name: 'paused (a trial ended without a payment method): paused',
    facts: { status: 'paused' },
    expect: { ...access('paused', 'paused'), canPurchase: false, canUseCredits: false },
  },
  {
    name: 'pause_collection void: paused until it resumes',
    facts: { pauseCollection: { behavior: 'void', resumesAt: NOW + 9 * DAY } },
    expect: {
      ...access('paused', 'pause_collection', NOW + 9 * DAY),
      canPurchase: false,
      canUseCredits: false,
    },
  },
  {
    name: 'pause_collection void whose resumption passed: active again',
    facts: { pauseCollection: { behavior: 'void', resumesAt: NOW - 1 } },
    expect: { ...access('active', 'active', NOW + 20 * DAY), canPurchase: false, canUseCredits: true },
  },
  {
    name: 'pause_collection keep_as_draft: the service goes on',
    facts: { pauseCollection: { behavior: 'keep_as_draft', resumesAt: null } },
    expect: { ...access('active', 'active', NOW + 20 * DAY), canPurchase: false, canUseCredits: true },
  },
  {
    name: 'pause_collection mark_uncollectible: the service goes on',
    facts: { pauseCollection: { behavior: 'mark_uncollectible', resumesAt: null } },
    expect: { ...access('active', 'active', NOW + 20 * DAY), canPurchase: false, canUseCredits: true },
  },
];

for (const row of TABLE)
  test(`access state: ${row.name}`, () => {
    const result = accessOf([subscription(row.facts)], NOW, { ...DEFAULT_ACCESS_POLICY, ...row.policy });
    const { subscriptionId, ...rest } = result;
    assert.deepEqual(rest, row.expect);
    assert.equal(subscriptionId, 'sub_1');
  });

test('access state: every state and every Stripe status appears in the table', () => {
  const states = new Set(TABLE.map((row) => row.expect.state));
  states.add(accessOf([], NOW).state);
  assert.deepEqual([...states].sort(), [...ACCESS_STATES].sort());
  const statuses = new Set(TABLE.map((row) => row.facts.status ?? 'active'));
  assert.deepEqual([...statuses].sort(), [...SUBSCRIPTION_STATUSES].sort());
});

test('access state: no subscription is none, purchasable, and may spend prepaid credits', () => {
  assert.deepEqual(accessOf([], NOW), {
    state: 'none',
    reason: 'no_subscription',
    endsAt: null,
    subscriptionId: null,
    canUse: false,
    canPurchase: true,
    canUseCredits: true,
  });
});

test('access state: the subscription giving most access speaks for the account', () => {
  const old = subscription({ id: 'sub_old', status: 'canceled', created: NOW - 400 * DAY });
  const current = subscription({ id: 'sub_new', status: 'past_due', pastDueSince: NOW - DAY });
  const result = accessOf([old, current], NOW);
  assert.equal(result.state, 'past_due');
  assert.equal(result.subscriptionId, 'sub_new');
  assert.equal(result.canPurchase, false);
});

// Properties over arbitrary subscriptions and clocks.

const time = fc.integer({ min: NOW - 400 * DAY, max: NOW + 400 * DAY });
const optionalTime = fc.option(time, { nil: null });
const facts: fc.Arbitrary<SubscriptionFacts> = fc.record({
  id: fc.constantFrom('sub_a', 'sub_b', 'sub_c', 'sub_d'),
  status: fc.constantFrom(...SUBSCRIPTION_STATUSES),
  created: time,
  currentPeriodStart: optionalTime,
  currentPeriodEnd: optionalTime,
  trialEnd: optionalTime,
  cancelAtPeriodEnd: fc.boolean(),
  cancelAt: optionalTime,
  pauseCollection: fc.option(
    fc.record({
      behavior: fc.constantFrom('keep_as_draft', 'mark_uncollectible', 'void') as fc.Arbitrary<
        'keep_as_draft' | 'mark_uncollectible' | 'void'
      >,
      resumesAt: optionalTime,
    }),
    { nil: null },
  ),
  pastDueSince: optionalTime,
});
const policy: fc.Arbitrary<AccessPolicy> = fc.record({
  graceDays: fc.integer({ min: 0, max: 30 }),
  creditsWithoutSubscription: fc.boolean(),
});
const distinctById = (list: SubscriptionFacts[]) => [...new Map(list.map((s) => [s.id, s])).values()];
const subscriptionsOf = fc.array(facts, { maxLength: 4 }).map(distinctById);

test('access property: the order of subscriptions never changes the answer', () => {
  fc.assert(
    fc.property(subscriptionsOf, time, policy, (subscriptions, now, rules) => {
      const reversed = [...subscriptions].reverse();
      assert.deepEqual(accessOf(reversed, now, rules), accessOf(subscriptions, now, rules));
    }),
  );
});

test('access property: a purchase is allowed exactly when no subscription is live for Stripe', () => {
  const dead = new Set(['incomplete_expired', 'canceled']);
  fc.assert(
    fc.property(subscriptionsOf, time, policy, (subscriptions, now, rules) => {
      const allDead = subscriptions.every((s) => dead.has(s.status));
      assert.equal(accessOf(subscriptions, now, rules).canPurchase, allDead);
    }),
  );
});

test('access property: another subscription never takes access away', () => {
  fc.assert(
    fc.property(subscriptionsOf, facts, time, policy, (subscriptions, extra, now, rules) => {
      const others = subscriptions.filter((s) => s.id !== extra.id);
      if (accessOf(others, now, rules).canUse) assert.ok(accessOf([...others, extra], now, rules).canUse);
    }),
  );
});

test('access property: a cancel or a grace that ends takes access away at that second, not before', () => {
  fc.assert(
    fc.property(facts, time, policy, (subscription, now, rules) => {
      const verdict = verdictOf(subscription, now, rules);
      if ((verdict.state !== 'canceled' && verdict.state !== 'past_due') || verdict.endsAt === null) return;
      assert.ok(verdict.endsAt > now);
      const atEnd = accessOf([subscription], verdict.endsAt, rules);
      assert.equal(atEnd.canUse, false, `${verdict.state} still grants access at its end`);
      assert.ok(accessOf([subscription], verdict.endsAt - 1, rules).canUse);
    }),
  );
});

test('access property: a past-due subscription has access exactly while its grace lasts', () => {
  fc.assert(
    fc.property(facts, time, policy, (subscription, now, rules) => {
      const pastDue = { ...subscription, status: 'past_due' as const };
      const since = pastDue.pastDueSince ?? pastDue.currentPeriodStart ?? pastDue.created;
      assert.equal(accessOf([pastDue], now, rules).canUse, now < since + rules.graceDays * DAY);
    }),
  );
});
