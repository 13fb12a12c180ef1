import type { PoolKey } from './pool-store.ts';

// What `credits verify`'s rows that are off mean, apart from reading them: pure, tested without a database.

/** The checks, in the order they are reported. */
export const PROBLEM_CODES = [
  'lot_sum_mismatch',
  'lot_out_of_range',
  'grant_entry_count',
  'grant_key_reused',
  'entry_pool_mismatch',
  'entry_without_lot',
  'hold_mismatch',
  'hold_overreleased',
] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];

export type Problem = {
  code: ProblemCode;
  pool: PoolKey;
  /** The lot or hold id, the grant key, or `entry <id>`. */
  subject: string;
  message: string;
  expected?: number | string;
  actual?: number | string;
};

/** PostgreSQL sends bigint sums as numeric text; counts may come as numbers or text. */
export type Numeric = number | string;
type Pooled = { account_id: string; credit_type: string; stripe_account: string; livemode: boolean };

export type LotRow = Pooled & {
  id: string;
  amount: Numeric;
  remaining: Numeric;
  total: Numeric;
  grants: Numeric;
  granted: Numeric | null;
};
export type GrantKeyRow = Pooled & { key: string; uses: Numeric };
export type EntryRow = Pooled & {
  id: Numeric;
  key: string;
  lot_id: string;
  /** The lot's pool; all null when the lot does not exist. */
  lot_account_id: string | null;
  lot_credit_type: string | null;
  lot_stripe_account: string | null;
  lot_livemode: boolean | null;
};
export type OpenHoldRow = Pooled & {
  id: string;
  amount: Numeric;
  total: Numeric;
  others: Numeric;
  allocations_match: boolean;
};
export type ClosedHoldRow = Pooled & { hold_id: string; held: Numeric; total: Numeric };

export type VerifyRows = {
  lots: LotRow[];
  grantKeys: GrantKeyRow[];
  entries: EntryRow[];
  openHolds: OpenHoldRow[];
  closedHolds: ClosedHoldRow[];
};

/** The problems the rows that are off stand for (pure), by check, then by subject. */
export function problemsOf(rows: VerifyRows): Problem[] {
  return [
    ...rows.lots.flatMap(lotProblems),
    ...rows.grantKeys.map(grantKeyProblem),
    ...rows.entries.map(entryProblem),
    ...rows.openHolds.map(openHoldProblem),
    ...rows.closedHolds.map(closedHoldProblem),
  ].sort(
    (a, b) =>
      PROBLEM_CODES.indexOf(a.code) - PROBLEM_CODES.indexOf(b.code) ||
      a.subject.localeCompare(b.subject, 'en', { numeric: true }),
  );
}

const poolOf = (row: Pooled): PoolKey => ({
  accountId: row.account_id,
  creditType: row.credit_type,
  stripeAccount: row.stripe_account,
  livemode: row.livemode,
});

function lotProblems(row: LotRow): Problem[] {
  const [amount, remaining, total, grants] = [row.amount, row.remaining, row.total, row.grants].map(
    Number,
  ) as [number, number, number, number];
  const granted = row.granted === null ? null : Number(row.granted);
  const problem = (code: ProblemCode, message: string, expected: number | string, actual: number) => ({
    code,
    pool: poolOf(row),
    subject: row.id,
    message,
    expected,
    actual,
  });
  const problems: Problem[] = [];
  if (remaining !== total)
    problems.push(
      problem('lot_sum_mismatch', `remaining is ${remaining}, its entries sum to ${total}`, total, remaining),
    );
  if (remaining < 0 || remaining > amount)
    problems.push(
      problem(
        'lot_out_of_range',
        `remaining is ${remaining}, outside 0..${amount}`,
        `0..${amount}`,
        remaining,
      ),
    );
  if (grants !== 1)
    problems.push(problem('grant_entry_count', `has ${grants} grant entries, not one`, 1, grants));
  else if (granted !== amount)
    problems.push(
      problem(
        'grant_entry_count',
        `its grant entry is ${granted}, its amount ${amount}`,
        amount,
        granted ?? 0,
      ),
    );
  return problems;
}

const grantKeyProblem = (row: GrantKeyRow): Problem => ({
  code: 'grant_key_reused',
  pool: poolOf(row),
  subject: row.key,
  message: `${row.uses} grant entries carry this key: a source grants once`,
  expected: 1,
  actual: Number(row.uses),
});

function entryProblem(row: EntryRow): Problem {
  const subject = `entry ${row.id}`;
  if (row.lot_account_id === null)
    return {
      code: 'entry_without_lot',
      pool: poolOf(row),
      subject,
      message: `key ${row.key} names lot ${row.lot_id}, which does not exist`,
    };
  const lotPool = poolOf({
    account_id: row.lot_account_id,
    credit_type: row.lot_credit_type as string,
    stripe_account: row.lot_stripe_account as string,
    livemode: row.lot_livemode as boolean,
  });
  return {
    code: 'entry_pool_mismatch',
    pool: poolOf(row),
    subject,
    message: `key ${row.key} is in another pool than its lot ${row.lot_id}`,
    expected: poolLabel(lotPool),
    actual: poolLabel(poolOf(row)),
  };
}

function openHoldProblem(row: OpenHoldRow): Problem {
  const [amount, total, others] = [row.amount, row.total, row.others].map(Number) as [number, number, number];
  const why =
    others > 0
      ? `is open but has ${others} entries other than holds`
      : total !== -amount
        ? `holds ${amount}, its entries sum to ${total}`
        : 'its allocations disagree with its entries, lot by lot';
  const sums = others === 0 && total === -amount ? {} : { expected: -amount, actual: total };
  return { code: 'hold_mismatch', pool: poolOf(row), subject: row.id, message: why, ...sums };
}

function closedHoldProblem(row: ClosedHoldRow): Problem {
  const [held, total] = [row.held, row.total].map(Number) as [number, number];
  if (total > 0)
    return {
      code: 'hold_overreleased',
      pool: poolOf(row),
      subject: row.hold_id,
      message: `closed hold gave back ${total - held}, more than the ${-held} it held`,
      expected: -held,
      actual: total - held,
    };
  return {
    code: 'hold_mismatch',
    pool: poolOf(row),
    subject: row.hold_id,
    message: `closed hold spent ${-total}, more than the ${-held} it held`,
    expected: `>= ${held}`,
    actual: total,
  };
}

/** A pool in one word: `account/credit type@stripe account:live|test`. */
export const poolLabel = (pool: PoolKey): string =>
  `${pool.accountId}/${pool.creditType}@${pool.stripeAccount}:${pool.livemode ? 'live' : 'test'}`;
