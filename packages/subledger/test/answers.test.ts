import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type Stripe from 'stripe';
import { inTransaction } from '../src/store/index.ts';
import { mirrorAnswers } from '../src/sync/answers.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';

const PLACE = { stripeAccount: 'platform', livemode: false };

let database: TestDatabase;
before(async () => {
  database = await testDatabase();
});
after(() => database.drop());

/** A subscription as Stripe answers an update with it; `hasMore` when its items are one page of more. */
function answeredSubscription(id: string, hasMore: boolean) {
  const item = (n: number) => ({
    id: `si_${id}_${n}`,
    object: 'subscription_item',
    price: { id: 'price_1' },
  });
  return {
    id,
    object: 'subscription',
    customer: 'cus_answers',
    status: 'active',
    test_clock: null,
    created: 1_700_000_000,
    items: { object: 'list', data: Array.from({ length: 10 }, (_, n) => item(n)), has_more: hasMore },
  };
}

const mirrored = async (id: string) =>
  (await database.pool.query('select id from subscriptions where id = $1', [id])).rowCount;

test('an answer is written to the mirror at once, unless it embeds one page of a list', async () => {
  // Subscriptions are decided by their own test_clock: Stripe is never asked.
  const target = { stripe: {} as Stripe, place: PLACE, context: { accountKeys: [] } };
  const answers = [
    { kind: 'subscription' as const, result: answeredSubscription('sub_whole', false) },
    { kind: 'subscription' as const, result: answeredSubscription('sub_one_page', true) },
  ];
  await inTransaction(database.pool, (client) => mirrorAnswers(client, target, answers, new Date()));
  assert.equal(await mirrored('sub_whole'), 1);
  assert.equal(await mirrored('sub_one_page'), 0, 'its events bring every item, through a fetch');
});
