import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SubscriptionShapeError, subscriptionFactsOf } from '../src/access/facts.ts';

const REFERENCE = new URL('../../../../shared/stripe-reference/events/', import.meta.url);
const referenceObject = (file: string) =>
  (JSON.parse(readFileSync(new URL(file, REFERENCE), 'utf8')) as { data: { object: unknown } }).data.object;

test('facts: an old-API subscription event (periods on the subscription) is read', () => {
  const facts = subscriptionFactsOf(referenceObject('stripe-ruby-mock/customer.subscription.updated.json'));
  assert.equal(facts.status, 'active');
  assert.equal(facts.currentPeriodStart, 1648320105);
  assert.equal(facts.currentPeriodEnd, 1650998505);
  assert.equal(facts.cancelAtPeriodEnd, false);
  assert.equal(facts.pauseCollection, null);
});

test('facts: every real subscription event in the reference is readable', () => {
  for (const file of [
    'sync-engine/subscription_created.json',
    'sync-engine/subscription_updated.json',
    'sync-engine/subscription_deleted.json',
    'stripe-ruby-mock/customer.subscription.created.json',
    'stripe-ruby-mock/customer.subscription.deleted.json',
    'stripe-ruby-mock/customer.subscription.trial_will_end.json',
  ])
    assert.doesNotThrow(() => subscriptionFactsOf(referenceObject(file)), file);
});

const current = {
  id: 'sub_1',
  object: 'subscription',
  status: 'past_due',
  created: 1_700_000_000,
  cancel_at_period_end: true,
  cancel_at: 1_700_500_000,
  trial_end: null,
  pause_collection: { behavior: 'void', resumes_at: null },
  items: {
    object: 'list',
    data: [
      { id: 'si_1', current_period_start: 1_700_100_000, current_period_end: 1_700_500_000 },
      { id: 'si_2', current_period_start: 1_700_200_000, current_period_end: 1_700_600_000 },
    ],
    has_more: false,
  },
};

test('facts: a current-API subscription (periods on its items) gives its latest start and next renewal', () => {
  const facts = subscriptionFactsOf(current);
  assert.equal(facts.currentPeriodStart, 1_700_200_000);
  assert.equal(facts.currentPeriodEnd, 1_700_500_000);
  assert.equal(facts.cancelAt, 1_700_500_000);
  assert.deepEqual(facts.pauseCollection, { behavior: 'void', resumesAt: null });
});

test('facts: past due since the oldest open invoice was finalized', () => {
  const facts = subscriptionFactsOf(current, [
    { id: 'in_2', created: 1_700_300_000, status_transitions: { finalized_at: 1_700_303_600 } },
    { id: 'in_1', created: 1_700_200_000, status_transitions: { finalized_at: 1_700_203_600 } },
    { id: 'in_0', created: 1_700_250_000 },
  ]);
  assert.equal(facts.pastDueSince, 1_700_203_600);
  assert.equal(subscriptionFactsOf({ ...current, status: 'active' }, []).pastDueSince, null);
  assert.equal(subscriptionFactsOf(current, []).pastDueSince, null);
});

test('facts: a subscription that is not one is refused with a coded error naming the field', () => {
  assert.throws(
    () => subscriptionFactsOf({ ...current, status: 'sleeping' }),
    (error: unknown) =>
      error instanceof SubscriptionShapeError &&
      error.code === 'subscription_unreadable' &&
      error.message.includes('status'),
  );
});
