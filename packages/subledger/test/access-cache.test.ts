import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AccessCache } from '../src/access/cache.ts';
import { standingOf } from '../src/access/check.ts';
import { answerOf, type CompiledAccess, compileAccess, entitlementsOf } from '../src/access/compiled.ts';
import type { AccountFacts } from '../src/access/mirror-reads.ts';
import { DEFAULT_ACCESS_POLICY } from '../src/access/state.ts';
import { defineCatalog } from '../src/catalog/index.ts';
import type { AccessChange } from '../src/store/index.ts';

const NOW = Date.UTC(2026, 10, 22, 12) / 1000;
const DAY = 86_400;

const catalog = defineCatalog({
  features: {
    sso: { type: 'boolean', name: 'Single sign-on' },
    api_calls: { type: 'metered', name: 'API calls', period: 'month' },
  },
  plans: {
    team: {
      name: 'Team',
      prices: [{ lookupKey: 'team_monthly', unitAmount: 900, currency: 'usd', interval: 'month' }],
      features: { api_calls: { limit: 10 } },
    },
  },
});

function facts(
  accountId: string,
  customerId: string,
  status: 'active' | 'canceled',
  version = 0,
): AccountFacts {
  return {
    accountId,
    customerId,
    subscriptions: [
      {
        facts: {
          id: `sub_${customerId}_${version}`,
          status,
          created: NOW - 40 * DAY,
          currentPeriodStart: NOW - 10 * DAY,
          currentPeriodEnd: NOW + 20 * DAY,
          trialEnd: null,
          cancelAtPeriodEnd: false,
          cancelAt: null,
          pauseCollection: null,
          pastDueSince: null,
        },
        prices: [{ id: 'price_1', lookupKey: 'team_monthly', productPlan: null }],
      },
    ],
    stripeEntitlements: ['beta_dashboard'],
  };
}

const compile = (accountFacts: AccountFacts | null, accountId = 'a1', used = 0) =>
  compileAccess(
    catalog,
    accountId,
    accountFacts,
    new Map([['api_calls', used]]),
    NOW,
    standingOf(catalog, accountFacts, NOW, DEFAULT_ACCESS_POLICY),
  );

test('compiled answers: the same as checking each time, for one use and for many', () => {
  const compiled = compile(facts('a1', 'cus_1', 'active'), 'a1', 7);
  assert.equal(answerOf(compiled, 'api_calls', 1).code, 'allowed');
  assert.deepEqual(
    { ...answerOf(compiled, 'api_calls', 3) },
    { ...answerOf(compiled, 'api_calls', 1), allowed: true, code: 'allowed' },
  );
  const over = answerOf(compiled, 'api_calls', 4);
  assert.deepEqual(
    [over.allowed, over.code, over.used, over.remaining, over.limit],
    [false, 'limit_reached', 7, 3, 10],
  );
  assert.equal(answerOf(compiled, 'sso', 1).code, 'feature_not_in_plan');
  assert.equal(answerOf(compiled, 'beta_dashboard', 1).code, 'allowed', "Stripe's entitlement is honoured");
  assert.equal(answerOf(compiled, 'nonsense', 1).code, 'feature_unknown');
  assert.ok(
    Object.isFrozen(answerOf(compiled, 'api_calls', 1)),
    'a shared answer cannot be changed by a caller',
  );
  // The answers hold until the usage window resets (a month from the period's start), not longer.
  assert.equal(compiled.validUntil, answerOf(compiled, 'api_calls', 1).resetsAt);
});

test('compiled answers: an account without a customer has none of the plan features', () => {
  const summary = entitlementsOf(compile(null, 'nobody'));
  assert.equal(summary.state, 'none');
  assert.deepEqual(
    Object.values(summary.features).map((feature) => feature.code),
    ['subscription_required', 'subscription_required'],
  );
});

type Deferred = { accountId: string; resolve: (compiled: CompiledAccess) => void };

/** A cache over a loader the test resolves by hand, so changes can arrive while a load is in flight. */
function controlledCache() {
  const pending: Deferred[] = [];
  let loads = 0;
  const clock = { now: Date.now() };
  const cache = new AccessCache({ ttlMs: 60_000, maxAccounts: 3, now: () => clock.now }, (accountId) => {
    loads++;
    return new Promise((resolve) => pending.push({ accountId, resolve }));
  });
  cache.setListening(true);
  const settle = async (compiled: CompiledAccess) => {
    await new Promise((resolve) => setImmediate(resolve));
    const next = pending.shift();
    assert.ok(next, 'a load is waiting');
    next.resolve(compiled);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { cache, settle, loads: () => loads, pending, clock };
}

test('cache: concurrent misses for one account share one load; a hit does not load', async () => {
  const { cache, settle, loads } = controlledCache();
  const first = cache.load('a1');
  const second = cache.load('a1');
  await settle(compile(facts('a1', 'cus_1', 'active')));
  assert.equal(await first, await second);
  assert.equal(loads(), 1);
  assert.ok(cache.get('a1', Date.now()));
});

test('cache: a change to the customer, the account, its usage or the catalog drops the entry', async () => {
  const changes: AccessChange[] = [
    { kind: 'customer', id: 'cus_1' },
    { kind: 'account', id: 'a1' },
    { kind: 'usage', id: 'a1' },
    { kind: 'catalog' },
  ];
  for (const change of changes) {
    const { cache, settle } = controlledCache();
    const loading = cache.load('a1');
    await settle(compile(facts('a1', 'cus_1', 'active')));
    await loading;
    cache.apply([
      { kind: 'customer', id: 'cus_other' },
      { kind: 'account', id: 'a2' },
    ]);
    assert.ok(cache.get('a1', Date.now()), 'changes to others leave it');
    cache.apply([change]);
    assert.equal(cache.get('a1', Date.now()), undefined, change.kind);
  }
});

test('cache: a load overtaken by a change is read again, never kept stale', async () => {
  const { cache, settle, loads } = controlledCache();
  const loading = cache.load('a1');
  // The customer was not known to the cache when the load began; the change still counts.
  cache.apply([{ kind: 'customer', id: 'cus_1' }]);
  await settle(compile(facts('a1', 'cus_1', 'active', 1)));
  await settle(compile(facts('a1', 'cus_1', 'canceled', 2)));
  const answer = await loading;
  assert.equal(answer.standing.access.state, 'expired');
  assert.equal(loads(), 2);
  assert.equal(cache.get('a1', Date.now())?.standing.access.state, 'expired');
});

test('cache: while changes are not delivered, nothing is kept', async () => {
  const { cache, settle } = controlledCache();
  cache.setListening(false);
  const loading = cache.load('a1');
  await settle(compile(facts('a1', 'cus_1', 'active')));
  await loading;
  assert.equal(cache.get('a1', Date.now()), undefined);
});

test('cache: entries expire by TTL, by their own validity, and the oldest go past the size limit', async () => {
  const { cache, settle } = controlledCache();
  for (const id of ['a1', 'a2', 'a3', 'a4']) {
    const loading = cache.load(id);
    await settle(compile(facts(id, `cus_${id}`, 'active'), id));
    await loading;
  }
  assert.equal(cache.size, 3);
  assert.equal(cache.get('a1', Date.now()), undefined, 'the oldest was dropped');
  assert.equal(cache.get('a2', Date.now() + 61_000), undefined, 'past its TTL');
  const validUntil = cache.get('a3', Date.now())?.validUntil ?? 0;
  assert.equal(cache.get('a3', validUntil * 1000), undefined, 'past its window');
  // Its customer no longer points to it: a change to that customer touches nothing else.
  cache.apply([{ kind: 'customer', id: 'cus_a1' }]);
  assert.ok(cache.get('a4', Date.now()));
});

test('cache: an entry late in its TTL is served and read again in the background', async () => {
  const { cache, settle, loads, clock } = controlledCache();
  const loading = cache.load('a1');
  await settle(compile(facts('a1', 'cus_1', 'active', 1)));
  await loading;
  const loadedAt = clock.now;
  assert.equal(cache.get('a1', loadedAt + 30_000)?.standing.access.subscriptionId, 'sub_cus_1_1');
  assert.equal(loads(), 1, 'early in its TTL: no refresh');
  assert.equal(cache.get('a1', loadedAt + 50_000)?.standing.access.subscriptionId, 'sub_cus_1_1');
  assert.equal(loads(), 2, 'late in its TTL: served, and refreshed');
  cache.get('a1', loadedAt + 50_000);
  assert.equal(loads(), 2, 'one refresh at a time');
  clock.now = loadedAt + 50_000;
  await settle(compile(facts('a1', 'cus_1', 'active', 2)));
  assert.equal(cache.get('a1', loadedAt + 70_000)?.standing.access.subscriptionId, 'sub_cus_1_2');
});

test('cache (property): whatever the interleaving of loads and changes, what it serves is the newest', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.constantFrom('load', 'change', 'resolve', 'get'), { minLength: 1, maxLength: 30 }),
      async (steps) => {
        // The database: a version that every change bumps. A load reads the version current when it
        // starts; the cache may serve only the version current when it answers.
        let version = 0;
        const waiting: { read: number; resolve: (compiled: CompiledAccess) => void }[] = [];
        const cache = new AccessCache(
          { ttlMs: 60_000, maxAccounts: 10, now: Date.now },
          () =>
            new Promise((resolve) => {
              waiting.push({ read: version, resolve });
            }),
        );
        cache.setListening(true);
        const loads: Promise<CompiledAccess>[] = [];
        for (const step of steps) {
          if (step === 'load') loads.push(cache.load('a1'));
          if (step === 'change') {
            version++;
            cache.apply([{ kind: 'customer', id: 'cus_1' }]);
          }
          if (step === 'resolve') {
            const next = waiting.shift();
            next?.resolve(compile(facts('a1', 'cus_1', 'active', next.read)));
            await new Promise((resolve) => setImmediate(resolve));
          }
          const served = cache.get('a1', Date.now());
          if (served) assert.equal(served.standing.access.subscriptionId, `sub_cus_1_${version}`);
        }
        // Let every load finish: each answers, and what stays cached is the newest.
        while (waiting.length > 0) {
          const next = waiting.shift();
          next?.resolve(compile(facts('a1', 'cus_1', 'active', next.read)));
          await new Promise((resolve) => setImmediate(resolve));
        }
        await Promise.all(loads);
        const served = cache.get('a1', Date.now());
        if (served) assert.equal(served.standing.access.subscriptionId, `sub_cus_1_${version}`);
      },
    ),
    { numRuns: 300 },
  );
});
