import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toReconcileInput } from '../src/cli/reconcile.ts';
import { loadConfig } from '../src/config/index.ts';
import { everyMinutes } from '../src/sync/jobs.ts';

// Reconcile's schedule and its command-line options (pure).

describe('the reconcile schedule', () => {
  const at = (hour: number, min: number) => ({ hour, min, date: 1, month: 1, dow: 0 });
  const cases: [number, [number, number], boolean][] = [
    [15, [0, 0], true],
    [15, [13, 45], true],
    [15, [0, 10], false],
    [90, [1, 30], true],
    [90, [3, 0], true],
    [90, [1, 0], false],
    [1, [17, 23], true],
  ];
  for (const [minutes, [hour, min], runs] of cases)
    it(`every ${minutes} min ${runs ? 'runs' : 'does not run'} at ${hour}:${String(min).padStart(2, '0')}`, () =>
      assert.equal(everyMinutes(minutes)(at(hour, min)), runs));
  it('refuses a period that is not a whole number of minutes', () => {
    assert.throws(() => everyMinutes(0), RangeError);
    assert.throws(() => everyMinutes(2.5), RangeError);
  });
});

describe('reconcile options', () => {
  const config = loadConfig({});
  const now = new Date('2026-03-01T12:00:00Z');
  it('defaults catch-up to the last 30 days, and reads --since', () => {
    assert.deepEqual(
      toReconcileInput({ catchUp: true }, config, now).catchUpSince,
      new Date('2026-01-30T12:00:00Z'),
    );
    assert.deepEqual(
      toReconcileInput({ catchUp: true, since: '2h' }, config, now).catchUpSince,
      new Date('2026-03-01T10:00:00Z'),
    );
    assert.equal(toReconcileInput({ fix: true, rps: '5' }, config, now).catchUpSince, null);
    assert.deepEqual(
      toReconcileInput({ catchUp: true, since: '30d' }, config, now).catchUpSince,
      new Date('2026-01-30T12:00:00Z'),
      'as far back as Stripe keeps events',
    );
  });
  it('refuses a --since further back than Stripe keeps events, saying what heals older drift', () => {
    const beyond =
      /^--since must lie within the last 30 days: Stripe keeps events for 30 days; for older drift run `subledger backfill` or `subledger reconcile --fix`$/;
    for (const since of ['31d', '90d', '2026-01-29', '2025-12-01T00:00:00Z'])
      assert.throws(
        () => toReconcileInput({ catchUp: true, since }, config, now),
        { message: beyond },
        since,
      );
  });
  it('rejects bad options with one clear line', () => {
    for (const [flags, message] of [
      [{ since: '2h' }, /^--since needs --catch-up$/],
      [{ catchUp: true, since: 'yesterday' }, /^--since must be a past ISO 8601 time/],
      [{ catchUp: true, since: '2027-01-01T00:00:00Z' }, /^--since must be a past ISO 8601 time/],
      [{ catchUp: true, since: '99999999999d' }, /^--since must be a past ISO 8601 time/],
      [{ catchUp: true, since: '2025-02-30' }, /^--since must be a past ISO 8601 time/],
      [{ rps: '-3' }, /^--rps must be a positive whole number$/],
      [{ kinds: 'invoice,charge' }, /^--kinds: unknown kind 'charge'/],
      [{ account: 'cus_123' }, /^--account must be a connected account id \(acct_…\)$/],
    ] as const)
      assert.throws(() => toReconcileInput(flags, config, now), { message });
  });
});
