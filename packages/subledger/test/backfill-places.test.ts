import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KindName } from '../src/sync/kinds.ts';
import { type BackfillStack, backfillStack } from './support/backfill-runs.ts';
import type { Stack } from './support/stack.ts';
import { clockDeletedWhileListed } from './support/vanishing-clock.ts';

// Backfill of a connected account, and through test clocks deleted while they are listed: apart from
// the platform's backfill tests, whose walks their connected account and hundred test clocks would slow.

let stack: Stack;
let runs: BackfillStack['runs'];
before(async () => {
  ({ stack, runs } = await backfillStack({ customers: 3, clocks: [2] }));
});
after(() => stack.close());

const countingStripe = () => runs.countingStripe();
const run: BackfillStack['runs']['run'] = (options) => runs.run(options);

describe('backfill of a connected account', () => {
  it('reads its customers, subscriptions and summaries in test mode, asking for no test clock', async () => {
    const shop = { stripeAccount: 'acct_1BackfillShop' };
    const customer = await stack.stripe.customers.create({ email: 'shop@example.com' }, shop);
    const { stripe, requests } = countingStripe();
    const kinds: KindName[] = ['customer', 'subscription', 'entitlements.active_entitlement_summary'];
    const result = await run({ stripe, place: { ...shop, livemode: false }, kinds });
    assert.deepEqual(result.byKind, {
      customer: 1,
      subscription: 0,
      'entitlements.active_entitlement_summary': 1,
    });
    // Stripe refuses test clocks to a connected account (400, "Connected account impersonation…").
    assert.deepEqual(
      requests.filter((request) => request.path.startsWith('/v1/test_helpers/')),
      [],
      'no test clock endpoint was called',
    );
    const mirrored = await stack.database.pool.query(
      'select id from customers where stripe_account = $1 and not livemode',
      [shop.stripeAccount],
    );
    assert.deepEqual(mirrored.rows, [{ id: customer.id }]);
  });
});

describe('backfill through test clocks deleted meanwhile', () => {
  it('goes on when a test clock is deleted while the clocks are listed', async () => {
    await runs.emptyMirror();
    const { stripe } = countingStripe();
    const { onOldest, deleted } = await clockDeletedWhileListed(stack.stripe, stripe);
    const result = await run({ stripe, kinds: ['customer'] });
    assert.equal(deleted.length, 1, 'a clock was deleted between two pages of clocks');
    assert.equal(result.resumed, false);
    assert.equal(result.byKind.customer, runs.stripeCounts().customer);
    const mirrored = await stack.database.pool.query('select 1 from customers where id = $1', [onOldest]);
    assert.equal(mirrored.rowCount, 1, 'the customer on the oldest clock, listed after the deleted one');
  });
});
