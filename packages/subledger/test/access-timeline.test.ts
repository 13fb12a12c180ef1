import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type TimelineEntry, transitionOf } from '../src/access/index.ts';
import type { Access } from '../src/access/state.ts';
import { recordStates } from '../src/access/timeline.ts';
import { customerWithCard } from '../src/cli/demo-accounts.ts';
import { createSubledger } from '../src/subledger.ts';
import { createLogger } from '../src/telemetry/index.ts';
import { testDatabase } from './support/database.ts';
import { explainingClient } from './support/plans.ts';
import { type Stack, startStack } from './support/stack.ts';

const access = (state: Access['state'], reason: string = state): Access => ({
  state,
  reason,
  subscriptionId: 'sub_1',
  endsAt: null,
  canUse: true,
  canPurchase: false,
  canUseCredits: true,
});

test('transitionOf: no change, a change a write caused, a change the clock made', () => {
  const write = { key: 'sub_1@evt_1@1000', eventId: 'evt_1', source: 'event' as const, version: 1_000 };
  assert.equal(
    transitionOf({ state: 'active', changesAt: null, lastWrite: null }, access('active'), write, 2_000),
    null,
  );
  assert.deepEqual(transitionOf(null, access('trialing'), write, 2_000), {
    from: 'none',
    to: 'trialing',
    reason: 'trialing',
    subscriptionId: 'sub_1',
    cause: 'event',
    causeEventId: 'evt_1',
    at: 1_000,
  });
  // Nothing was written since the last evaluation: the scheduled end ran out, at its own second.
  const ranOut = transitionOf(
    { state: 'canceled', changesAt: 1_500, lastWrite: write.key },
    access('expired'),
    write,
    2_000,
  );
  assert.deepEqual([ranOut?.cause, ranOut?.causeEventId, ranOut?.at], ['clock', null, 1_500]);
  const fetched = transitionOf(
    { state: 'active', changesAt: null, lastWrite: write.key },
    access('past_due'),
    { ...write, key: 'sub_1@fetch@1900', eventId: null, source: 'fetch' },
    2_000,
  );
  assert.equal(fetched?.cause, 'fetch');
  // A write the last evaluation had not seen is the cause, whatever the clocks say of their order.
  const unseen = transitionOf(
    { state: 'incomplete', changesAt: null, lastWrite: 'sub_1@evt_0@999' },
    access('active'),
    write,
    2_000,
  );
  assert.deepEqual([unseen?.cause, unseen?.causeEventId], ['event', 'evt_1']);
});

test('recording states reads the rows of the accounts evaluated, however many the place has', async () => {
  const database = await testDatabase();
  const place = { stripeAccount: 'platform', livemode: false };
  const client = await database.pool.connect();
  try {
    // A table never analyzed, as on a new install recording its first thousand accounts.
    await client.query(
      `insert into account_access (account_id, stripe_account, livemode, state, reason, evaluated_at)
       select 'account_' || g, 'platform', false, 'none', 'no_subscription', now()
       from generate_series(1, 1100) g`,
    );
    const states = Array.from({ length: 10 }, (_, n) => ({
      ...access('active'),
      accountId: `account_${n * 10 + 1}`,
      lastWrite: `sub_1@evt_${n}@1000`,
    }));
    const explaining = explainingClient(client);
    await recordStates(explaining.client, place, states);
    const [touched] = explaining.touched;
    assert.ok((touched as number) < 100, `writing 10 states among 1,100 accounts touched ${touched} rows`);
    const { rows } = await client.query<{ account_id: string; last_write: string }>(
      `select account_id, last_write from account_access where state = 'active' order by last_write`,
    );
    assert.deepEqual(
      rows.map((row) => [row.account_id, row.last_write]),
      states.map((state) => [state.accountId, state.lastWrite]),
    );
  } finally {
    client.release();
    await database.drop();
  }
});

let stack: Stack;
let price: string;

before(async () => {
  stack = await startStack();
  const product = await stack.stripe.products.create({ name: 'Team' });
  price = (
    await stack.stripe.prices.create({
      product: product.id,
      currency: 'usd',
      unit_amount: 1500,
      recurring: { interval: 'month' },
    })
  ).id;
});

after(() => stack.close());

/** The timeline once its newest transition is into `state` (the recorder follows the mirror). */
async function untilState(accountId: string, state: string) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const entries = await stack.subledger.accounts.timeline(accountId);
    if (entries[0]?.to === state) return entries;
    assert.ok(Date.now() < deadline, `${accountId} reaches ${state}: ${JSON.stringify(entries)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The states an account went through, oldest first, checked to chain (each starts where the one before
 * ended). Stripe creates a subscription `incomplete` and activates it when its first invoice is paid;
 * whether the recorder saw that first moment depends on timing, so it is left out.
 */
function statesOf(entries: TimelineEntry[]): string[] {
  const chronological = [...entries].reverse();
  chronological.forEach((entry, index) => {
    assert.equal(entry.from, index === 0 ? 'none' : chronological[index - 1]?.to, JSON.stringify(entries));
  });
  return chronological
    .map((entry) => entry.to)
    .filter((state, index) => !(index === 0 && state === 'incomplete'));
}

/** Every transition a write caused names the subscription's event, or is a fetch of it. */
async function assertCaused(entries: TimelineEntry[], subscriptionId: string) {
  const events = await eventIdsOf(subscriptionId);
  for (const entry of entries.filter((candidate) => candidate.cause !== 'clock')) {
    if (entry.cause === 'event')
      assert.ok(events.includes(String(entry.causeEventId)), JSON.stringify(entry));
    else assert.equal(entry.cause, 'fetch');
  }
}

const eventIdsOf = async (subscriptionId: string) =>
  (
    await stack.database.pool.query<{ id: string }>(
      `select id from stripe_events where payload->'data'->'object'->>'id' = $1`,
      [subscriptionId],
    )
  ).rows.map((row) => row.id);

test('timeline: each state change, with the event that caused it, recorded as the mirror changes', async () => {
  const customer = await customerWithCard(stack.stripe, 'team_timeline', 'pm_card_visa');
  const subscription = await stack.stripe.subscriptions.create({ customer, items: [{ price }] });
  await stack.settle();
  await untilState('team_timeline', 'active');

  await stack.stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
  await stack.settle();
  await stack.stripe.subscriptions.cancel(subscription.id);
  await stack.settle();
  const entries = await untilState('team_timeline', 'expired');
  assert.deepEqual(statesOf(entries), ['active', 'canceled', 'expired']);
  assert.equal(entries[0]?.reason, 'canceled');
  // Newer API versions also set `cancel_at` for a cancel at the period's end.
  assert.match(String(entries[1]?.reason), /^cancel_at/);
  assert.ok(
    entries.every((entry) => entry.cause !== 'clock'),
    JSON.stringify(entries),
  );
  await assertCaused(entries, subscription.id);

  const { data: body } = await stack.client.GET('/v1/accounts/{account_id}/timeline', {
    params: { path: { account_id: 'team_timeline' } },
  });
  assert.deepEqual(
    body?.transitions.map((entry) => [entry.to, entry.cause_event_id]),
    entries.map((entry) => [entry.to, entry.causeEventId]),
  );
});

test('timeline: the clock ends a scheduled cancel with no event, and it is recorded once', async () => {
  const customer = await customerWithCard(stack.stripe, 'team_clock', 'pm_card_visa');
  const subscription = await stack.stripe.subscriptions.create({ customer, items: [{ price }] });
  const cancelAt = Math.floor(Date.now() / 1000) + 2;
  await stack.stripe.subscriptions.update(subscription.id, { cancel_at: cancelAt });
  await stack.settle();
  await untilState('team_clock', 'canceled');
  await new Promise((resolve) => setTimeout(resolve, (cancelAt + 1) * 1000 - Date.now()));
  // Two processes evaluate it at once, over and over: the change is recorded once.
  const other = await createSubledger({
    config: { ...stack.subledger.config, databaseUrl: stack.database.url },
    logger: createLogger('silent'),
  });
  try {
    await Promise.all(
      Array.from({ length: 4 }, (_, round) =>
        (round % 2 ? other : stack.subledger).recordTransitions(['team_clock', 'team_timeline']),
      ),
    );
  } finally {
    await other.close();
  }
  const entries = await stack.subledger.accounts.timeline('team_clock');
  // Created and scheduled to cancel at once: the recorder may never have seen it plainly active.
  assert.deepEqual(statesOf(entries).slice(-2), ['canceled', 'expired']);
  assert.deepEqual([entries[0]?.cause, entries[0]?.causeEventId], ['clock', null]);
  assert.equal(entries[0]?.at, cancelAt, 'at the second the cancel was scheduled for');
  await assertCaused(entries.slice(1), subscription.id);
});
