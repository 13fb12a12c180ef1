import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { toBackfillInput } from '../src/cli/backfill.ts';
import { loadConfig } from '../src/config/index.ts';
import { type BackfillStack, backfillStack } from './support/backfill-runs.ts';
import { stackCli } from './support/run-cli.ts';
import type { Stack } from './support/stack.ts';

// `subledger backfill`: its options, its progress lines and its refusals.

let stack: Stack;
let runs: BackfillStack['runs'];
before(async () => {
  ({ stack, runs } = await backfillStack({ customers: 3, clocks: [2] }));
});
after(() => stack.close());

const cli = (args: string[], environment: Record<string, string> = {}) => stackCli(stack, args, environment);
const stripeCounts = () => runs.stripeCounts();

describe('subledger backfill', () => {
  it('runs as `subledger backfill` with plain progress lines off a terminal', async () => {
    const result = await cli(['backfill', '--kinds', 'customer,price', '--rps', '50']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^backfill: customer \d+\/(…|\d+)$/m);
    assert.match(result.stderr, /^backfill: price \d+\/\d+ done$/m);
    const customers = stripeCounts().customer;
    assert.match(
      result.stdout,
      new RegExp(`^backfill: \\d+ objects in [\\d.]+ s: customer ${customers}, price 2$`, 'm'),
    );
  });

  it('refuses to run without STRIPE_SECRET_KEY, in one line', async () => {
    const result = await cli(['backfill'], { STRIPE_SECRET_KEY: '' });
    assert.equal(result.code, 1);
    assert.equal(result.stderr.trim(), 'subledger: STRIPE_SECRET_KEY is required for backfill');
  });

  it('rejects bad options with one clear line', async () => {
    const config = loadConfig({});
    for (const [options, message] of [
      [{ rps: '0' }, /^--rps must be a positive whole number$/],
      [{ rps: '2.5' }, /^--rps must be a positive whole number$/],
      [{ kinds: 'customer,coupon' }, /^--kinds: unknown kind 'coupon'; use customer, product/],
      [{ account: 'platform' }, /^--account must be a connected account id \(acct_…\)$/],
    ] as const)
      assert.throws(() => toBackfillInput(options, config), { message });
    assert.deepEqual(toBackfillInput({ kinds: 'customer, price', rps: '7', account: 'acct_1Shop' }, config), {
      kinds: ['customer', 'price'],
      rps: 7,
      account: 'acct_1Shop',
    });
    assert.deepEqual(toBackfillInput({}, config), {
      kinds: undefined,
      rps: config.stripeRequestsPerSecond,
      account: undefined,
    });
    const result = await cli(['backfill', '--rps', 'fast']);
    assert.equal(result.code, 1);
    assert.equal(result.stderr.trim(), 'subledger: --rps must be a positive whole number');
  });
});
