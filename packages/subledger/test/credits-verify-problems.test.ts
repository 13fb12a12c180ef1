import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PROBLEM_LINES, verifyReportLines } from '../src/cli/credits.ts';
import type { VerifyReport } from '../src/credits/verify.ts';
import {
  type Problem,
  type ProblemCode,
  problemsOf,
  type VerifyRows,
} from '../src/credits/verify-problems.ts';

/**
 * The pure half of `credits verify`: which problems each kind of off row stands for, and how the report
 * reads. No database; the checks against a real ledger are in credits-verify.test.ts.
 */
const pooled = { account_id: 'acct_1', credit_type: 'ai', stripe_account: 'platform', livemode: false };
const pool = { accountId: 'acct_1', creditType: 'ai', stripeAccount: 'platform', livemode: false };
const none: VerifyRows = { lots: [], grantKeys: [], entries: [], openHolds: [], closedHolds: [] };
const lot = { ...pooled, id: 'lot_1', amount: '10', remaining: '4', total: '4', grants: '1', granted: '10' };
const openHold = { ...pooled, id: 'hold_1', amount: 5, total: '-5', others: 0, allocations_match: true };
const orphan = {
  ...pooled,
  id: 7,
  key: 'k',
  lot_id: 'lot_9',
  lot_account_id: null,
  lot_credit_type: null,
  lot_stripe_account: null,
  lot_livemode: null,
};

/** Rows that are off, one per line, and the problems they stand for: [code, expected, actual]. */
const rowCases: { name: string; rows: Partial<VerifyRows>; problems: [ProblemCode, unknown, unknown][] }[] = [
  {
    name: 'a lot off its entries',
    rows: { lots: [{ ...lot, total: '6' }] },
    problems: [['lot_sum_mismatch', 6, 4]],
  },
  {
    name: 'a lot over its amount and off its entries',
    rows: { lots: [{ ...lot, remaining: '11', total: '10' }] },
    problems: [
      ['lot_sum_mismatch', 10, 11],
      ['lot_out_of_range', '0..10', 11],
    ],
  },
  {
    name: 'a lot without a grant',
    rows: { lots: [{ ...lot, grants: 0, granted: null }] },
    problems: [['grant_entry_count', 1, 0]],
  },
  {
    name: 'a grant of another amount',
    rows: { lots: [{ ...lot, granted: '9' }] },
    problems: [['grant_entry_count', 10, 9]],
  },
  {
    name: 'a key granting twice',
    rows: { grantKeys: [{ ...pooled, key: 'grant:manual:m', uses: '2' }] },
    problems: [['grant_key_reused', 1, 2]],
  },
  {
    name: 'an entry without its lot',
    rows: { entries: [orphan] },
    problems: [['entry_without_lot', undefined, undefined]],
  },
  {
    name: 'an entry in another pool',
    rows: {
      entries: [
        {
          ...orphan,
          lot_account_id: 'acct_2',
          lot_credit_type: 'ai',
          lot_stripe_account: 'platform',
          lot_livemode: false,
        },
      ],
    },
    problems: [['entry_pool_mismatch', 'acct_2/ai@platform:test', 'acct_1/ai@platform:test']],
  },
  {
    name: 'an open hold off its entries',
    rows: { openHolds: [{ ...openHold, total: '-4' }] },
    problems: [['hold_mismatch', -5, -4]],
  },
  {
    name: 'an open hold off its allocations',
    rows: { openHolds: [{ ...openHold, allocations_match: false }] },
    problems: [['hold_mismatch', undefined, undefined]],
  },
  {
    name: 'a closed hold given back more than held',
    rows: { closedHolds: [{ ...pooled, hold_id: 'hold_2', held: '-5', total: '1' }] },
    problems: [['hold_overreleased', 5, 6]],
  },
  {
    name: 'a closed hold spending more than held',
    rows: { closedHolds: [{ ...pooled, hold_id: 'hold_2', held: '-5', total: '-6' }] },
    problems: [['hold_mismatch', '>= -5', -6]],
  },
];

for (const { name, rows, problems } of rowCases)
  test(`problemsOf: ${name}`, () => {
    const found = problemsOf({ ...none, ...rows });
    assert.deepEqual(
      found.map((problem) => [problem.code, problem.expected, problem.actual]),
      problems,
    );
    for (const problem of found) {
      assert.deepEqual(problem.pool, pool);
      assert.ok(problem.message.length > 0);
    }
  });

test('the readable report: a summary, one line per problem up to its limit, then how many more', () => {
  const problem: Problem = {
    code: 'lot_sum_mismatch',
    pool,
    subject: 'lot_1',
    message: 'remaining is 4, its entries sum to 6',
  };
  const report = (count: number, truncated = false): VerifyReport => ({
    pools: 2,
    lots: 3,
    entries: 9,
    holds: 1,
    problems: Array.from({ length: count }, () => problem),
    truncated,
  });
  assert.deepEqual(verifyReportLines(report(0)), [
    'credits verify: 2 pools, 3 lots, 9 entries, 1 open holds checked; no problems',
  ]);
  assert.deepEqual(verifyReportLines(report(1)), [
    'credits verify: 2 pools, 3 lots, 9 entries, 1 open holds checked; 1 problem',
    'lot_sum_mismatch acct_1/ai@platform:test lot_1: remaining is 4, its entries sum to 6',
  ]);
  const long = verifyReportLines(report(PROBLEM_LINES + 2));
  assert.equal(long.length, PROBLEM_LINES + 2);
  assert.equal(long.at(-1), '… and 2 more');
  assert.match(verifyReportLines(report(1, true)).at(-1) ?? '', /stopped at their first 1000 problems/);
});
