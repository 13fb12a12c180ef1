import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CheckResult } from '../src/access/check.ts';
import { creditsAnswer } from '../src/access/check.ts';

const planned = (overrides: Partial<CheckResult>): CheckResult => ({
  allowed: true,
  code: 'allowed',
  state: 'active',
  plan: 'pro',
  limit: 500,
  used: null,
  remaining: null,
  resetsAt: 1_800_000_000,
  ...overrides,
});

test('a credits check is allowed while the pool holds the quantity, and says the balance', () => {
  assert.deepEqual(creditsAnswer(planned({}), true, 7, 7), planned({ remaining: 7 }));
  assert.deepEqual(
    creditsAnswer(planned({}), true, 6, 7),
    planned({ allowed: false, code: 'insufficient_credits', remaining: 6 }),
  );
});

test('without a subscription, prepaid credits count only when the policy lets them', () => {
  const none = planned({
    allowed: false,
    code: 'subscription_required',
    state: 'none',
    plan: null,
    limit: null,
  });
  assert.deepEqual(creditsAnswer(none, true, 10, 1), {
    ...none,
    allowed: true,
    code: 'allowed',
    remaining: 10,
  });
  assert.deepEqual(creditsAnswer(none, false, 10, 1), none);
});

test('other refusals stand whatever the balance', () => {
  for (const code of ['payment_required', 'subscription_paused', 'feature_not_in_plan'] as const) {
    const refused = planned({ allowed: false, code });
    assert.deepEqual(creditsAnswer(refused, true, 1_000, 1), refused);
  }
});
