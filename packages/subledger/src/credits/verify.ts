import type pg from 'pg';
import {
  type ClosedHoldRow,
  type EntryRow,
  type GrantKeyRow,
  type LotRow,
  type Numeric,
  type OpenHoldRow,
  type Problem,
  problemsOf,
  type VerifyRows,
} from './verify-problems.ts';

/**
 * `credits verify`: checks, against one snapshot of the database, that every pool's ledger holds
 * together — each lot's remainder is the sum of its entries and within its grant, each lot was granted
 * once, each hold's entries agree with the hold. Read-only, and set-based: every check is one query
 * that aggregates in PostgreSQL and returns only the rows that are off. Measured on the embedded
 * cluster: 0.55 s for 200,000 entries (10,000 lots, 50,000 open holds), 3 s for 1,000,000 entries.
 */

export type VerifyReport = {
  /** What was checked: pools, lots, entries and open holds. */
  pools: number;
  lots: number;
  entries: number;
  holds: number;
  problems: Problem[];
  /** True when some check found more than `limit` rows off and only the first `limit` are reported. */
  truncated: boolean;
};

export type VerifyOptions = {
  /** At most this many rows off per check are read (default VERIFY_LIMIT), so a ledger broken
   * everywhere still answers at once, and small. */
  limit?: number;
};

export const VERIFY_LIMIT = 1000;

/**
 * Verifies every pool's ledger. Given a pg.Pool, it takes one connection for a REPEATABLE READ,
 * READ ONLY transaction, so all checks see one snapshot while spends go on. Given a single connection
 * (a client), its queries run in whatever transaction the caller has open.
 */
export async function verifyCredits(
  database: pg.Pool | Pick<pg.Pool, 'query'>,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const limit = options.limit ?? VERIFY_LIMIT;
  if (!isPool(database)) return readReport(database, limit);
  const client = await database.connect();
  try {
    await client.query('begin isolation level repeatable read read only');
    const report = await readReport(client, limit);
    await client.query('commit');
    return report;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

// A pg.Pool hands out connections; a client (or anything else with `query`) is one already.
const isPool = (database: pg.Pool | Pick<pg.Pool, 'query'>): database is pg.Pool =>
  'totalCount' in database && typeof (database as pg.Pool).connect === 'function';

async function readReport(client: Pick<pg.Pool, 'query'>, limit: number): Promise<VerifyReport> {
  // One after the other: a transaction's statements share one connection.
  const counts = await client.query<Record<'pools' | 'lots' | 'entries' | 'holds', Numeric>>(COUNTS);
  let truncated = false;
  // The limit stays outside each check: a LIMIT the planner sees makes it hope the first rows are off
  // and pick nested loops, and a clean ledger has none. Measured with 250,000 open holds: the open-hold
  // check ran for over 12 minutes that way.
  const read = async <Row extends pg.QueryResultRow>(text: string): Promise<Row[]> => {
    const { rows } = await client.query<Row>(
      `with off as materialized (${text}) select * from off limit $1`,
      [limit + 1],
    );
    if (rows.length > limit) truncated = true;
    return rows.slice(0, limit);
  };
  const rows: VerifyRows = {
    lots: await read<LotRow>(LOTS_OFF),
    grantKeys: await read<GrantKeyRow>(GRANT_KEYS_REUSED),
    entries: await read<EntryRow>(ENTRIES_OFF),
    openHolds: await read<OpenHoldRow>(OPEN_HOLDS_OFF),
    closedHolds: await read<ClosedHoldRow>(CLOSED_HOLDS_OFF),
  };
  const count = counts.rows[0] as Record<'pools' | 'lots' | 'entries' | 'holds', Numeric>;
  return {
    pools: Number(count.pools),
    lots: Number(count.lots),
    entries: Number(count.entries),
    holds: Number(count.holds),
    problems: problemsOf(rows),
    truncated,
  };
}

const COUNTS = `select (select count(*) from credit_pools) as pools, (select count(*) from credit_lots) as lots,
  (select count(*) from credit_entries) as entries, (select count(*) from credit_holds) as holds`;

/** A table alias's pool columns, for a select list or a row comparison. */
const pooled = (alias: string) =>
  ['account_id', 'credit_type', 'stripe_account', 'livemode']
    .map((column) => `${alias}.${column}`)
    .join(', ');

const LOTS_OFF = `
  with sums as (
    select lot_id, sum(amount) as total, count(*) filter (where kind = 'grant') as grants,
      sum(amount) filter (where kind = 'grant') as granted
    from credit_entries group by lot_id
  )
  select l.id, ${pooled('l')}, l.amount, l.remaining,
    coalesce(s.total, 0) as total, coalesce(s.grants, 0) as grants, s.granted
  from credit_lots l left join sums s on s.lot_id = l.id
  where l.remaining <> coalesce(s.total, 0) or l.remaining < 0 or l.remaining > l.amount
    or coalesce(s.grants, 0) <> 1 or s.granted is distinct from l.amount`;

// Reused within the scope in which a source may grant once (credit_lots_source_idx: one Stripe
// account and mode, one credit type), which is wider than a pool: one invoice may not grant two accounts.
// The problem is filed under the pool of the key's first entry.
const GRANT_KEYS_REUSED = `
  with reused as (
    select min(id) as first_id, count(*) as uses from credit_entries where kind = 'grant'
    group by stripe_account, livemode, credit_type, key having count(*) > 1
  )
  select ${pooled('e')}, e.key, r.uses
  from reused r join credit_entries e on e.id = r.first_id`;

const ENTRIES_OFF = `
  select e.id, e.key, e.lot_id, ${pooled('e')},
    l.account_id as lot_account_id, l.credit_type as lot_credit_type,
    l.stripe_account as lot_stripe_account, l.livemode as lot_livemode
  from credit_entries e left join credit_lots l on l.id = e.lot_id
  where l.id is null or (${pooled('e')}) is distinct from (${pooled('l')})`;

// An open hold's allocations, one row per lot; a malformed element (not an object, no numeric amount)
// becomes a row with nulls, which matches no entry.
const OPEN_HOLDS_OFF = `
  with allocated as (
    select h.id as hold_id, a.value->>'lotId' as lot_id,
      sum(case when jsonb_typeof(a.value->'amount') = 'number' then (a.value->>'amount')::numeric end) as amount
    from credit_holds h cross join lateral jsonb_array_elements(
      case when jsonb_typeof(h.allocations) = 'array' then h.allocations else jsonb_build_array(h.allocations) end
    ) as a(value)
    group by 1, 2
  ), entered as (
    select hold_id, lot_id, sum(amount) as total, count(*) filter (where kind <> 'hold') as others
    from credit_entries where hold_id in (select id from credit_holds) group by hold_id, lot_id
  ), compared as (
    select coalesce(e.hold_id, a.hold_id) as hold_id, coalesce(sum(e.total), 0) as total,
      coalesce(sum(e.others), 0) as others, bool_and(coalesce(e.total = -a.amount, false)) as allocations_match
    from entered e full join allocated a on a.hold_id = e.hold_id and a.lot_id = e.lot_id
    group by 1
  )
  select h.id, ${pooled('h')}, h.amount, coalesce(c.total, 0) as total,
    coalesce(c.others, 0) as others, coalesce(c.allocations_match, true) as allocations_match
  from credit_holds h left join compared c on c.hold_id = h.id
  where coalesce(c.total, 0) <> -h.amount or coalesce(c.others, 0) > 0 or not coalesce(c.allocations_match, true)`;

// A closed hold is known by its entries only; it is filed under the pool of its first entry.
const CLOSED_HOLDS_OFF = `
  with closed as (
    select hold_id, min(id) as first_id, coalesce(sum(amount) filter (where kind = 'hold'), 0) as held,
      sum(amount) as total
    from credit_entries e
    where hold_id is not null and not exists (select 1 from credit_holds h where h.id = e.hold_id)
    group by hold_id
  )
  select c.hold_id, ${pooled('e')}, c.held, c.total
  from closed c join credit_entries e on e.id = c.first_id
  where c.total > 0 or c.total < c.held`;
