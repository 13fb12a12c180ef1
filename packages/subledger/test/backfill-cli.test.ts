import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { toBackfillInput } from '../src/cli/backfill.ts';
import { loadConfig } from '../src/config/index.ts';
import { KIND_NAMES } from '../src/sync/kinds.ts';
import { type BackfillStack, backfillStack } from './support/backfill-runs.ts';
import { type CliOptions, interruptOnTerminal, stackCli } from './support/run-cli.ts';
import type { Stack } from './support/stack.ts';

// `subledger backfill`: its options, its progress lines and its refusals.

let stack: Stack;
let runs: BackfillStack['runs'];
before(async () => {
  ({ stack, runs } = await backfillStack({ customers: 3, clocks: [2] }));
});
after(() => stack.close());

const cli = (args: string[], environment: Record<string, string> = {}, options: CliOptions = {}) =>
  stackCli(stack, args, environment, options);
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

  it('says when a resumed run began and what it leaves to others; --restart starts over', async () => {
    const begun = new Date('2026-01-05T10:00:00Z');
    // An interrupted run's checkpoint, before its first page of prices was written.
    const interrupted = () =>
      stack.database.pool.query(
        `insert into sync_checkpoints (job, stripe_account, livemode, kind, objects, started_at)
         values ('backfill', 'platform', false, 'price', 0, $1)
         on conflict (job, stripe_account, livemode, kind) do update
           set test_clock = null, last_id = null, objects = 0, started_at = $1, completed_at = null`,
        [begun],
      );
    await interrupted();
    const resumed = await cli(['backfill', '--kinds', 'price']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(
      resumed.stdout,
      /^backfill: 2 objects in [\d.]+ s \(resumed the run begun 2026-01-05T10:00:00\.000Z: objects created since, and changes to those it had read, are left to the webhooks and reconcile; --restart reads everything again\): price 2$/m,
    );
    await interrupted();
    const restarted = await cli(['backfill', '--kinds', 'price', '--restart']);
    assert.equal(restarted.code, 0, restarted.stderr);
    assert.match(restarted.stdout, /^backfill: 2 objects in [\d.]+ s: price 2$/m);
  });

  it('reads every kind to the end and exits 0 when no one reads its progress any more', async () => {
    const result = await cli(['backfill', '--restart'], {}, { closeStderrAfterFirstRead: true });
    assert.equal(result.code, 0, result.stderr);
    const kinds = KIND_NAMES.map((kind) => `${kind.replaceAll('.', '\\.')} \\d+`).join(', ');
    assert.match(result.stdout, new RegExp(`^backfill: \\d+ objects in [\\d.]+ s: ${kinds}$`, 'm'));
  });

  it('gives the terminal back its cursor and line wrap when Ctrl-C stops it while its bars show', async () => {
    const [hideCursor, showCursor, wrapOff, wrapOn] = ['\x1b[?25l', '\x1b[?25h', '\x1b[?7l', '\x1b[?7h'];
    const { code, output } = await interruptOnTerminal(
      stack,
      ['backfill', '--restart', '--rps', '1'],
      (text) => text.includes('backfill customer ['),
    );
    assert.equal(code, 130, 'stopped by its SIGINT, before the end of the job');
    assert.ok(output.includes(hideCursor) && output.includes(wrapOff), JSON.stringify(output));
    assert.ok(output.lastIndexOf(showCursor) > output.lastIndexOf(hideCursor), JSON.stringify(output));
    assert.ok(output.lastIndexOf(wrapOn) > output.lastIndexOf(wrapOff), JSON.stringify(output));
  });

  it('refuses to run without STRIPE_SECRET_KEY, in one coded line (exit 78)', async () => {
    const result = await cli(['backfill'], { STRIPE_SECRET_KEY: '' });
    assert.equal(result.code, 78);
    assert.equal(
      result.stderr.trim(),
      'subledger: stripe_not_configured: STRIPE_SECRET_KEY is required for backfill',
    );
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
    assert.deepEqual(toBackfillInput({ kinds: 'customer,price,customer' }, config).kinds, [
      'customer',
      'price',
    ]);
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
    assert.equal(result.code, 64);
    assert.equal(result.stderr.trim(), 'subledger: invalid_argument: --rps must be a positive whole number');
  });
});
