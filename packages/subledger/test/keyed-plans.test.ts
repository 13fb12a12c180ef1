import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { BEGIN_KEYED } from '../src/store/transaction.ts';
import { type ClaimedEvent, claimReady } from '../src/sync/claim.ts';
import { handlingOf } from '../src/sync/handlers.ts';
import type { EventFacts } from '../src/sync/ordering.ts';
import { loadVersions } from '../src/sync/versions.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';

/**
 * A burst fills the inbox and the mirror from empty faster than autovacuum analyzes them: these tests
 * plan the worker's statements on such tables, with no statistics, and require index paths.
 */

const BACKLOG = 20_000;
const CUSTOMERS = 5_000;

let database: TestDatabase;
before(async () => {
  database = await testDatabase();
  await database.pool.query(
    `insert into stripe_events (id, type, livemode, stripe_account, created, object_type, object_id, serial_key, payload)
     select 'evt_' || g, 'customer.updated', false, 'platform', 1700000000 + g, 'customer', 'cus_' || (g % $2),
            'platform/cus_' || (g % $2), jsonb_build_object('id', 'evt_' || g, 'filler', repeat('x', 1500))
     from generate_series(1, $1) g`,
    [BACKLOG, CUSTOMERS],
  );
  await database.pool.query(
    `insert into customers (id, stripe_account, livemode, data, last_event_created, source)
     select 'cus_' || g, 'platform', false, jsonb_build_object('id', 'cus_' || g, 'filler', repeat('x', 1500)),
            1700000000, 'event'
     from generate_series(0, $1 - 1) g`,
    [CUSTOMERS],
  );
});
after(() => database.drop());

/** The plans of the statements `work` sends, each explained instead of run, inside a keyed transaction. */
async function plansOf(work: (client: pg.PoolClient) => Promise<unknown>): Promise<string[]> {
  const client = await database.pool.connect();
  const plans: string[] = [];
  const explaining = new Proxy(client, {
    get(target, property) {
      if (property !== 'query') return Reflect.get(target, property);
      return async (text: string, values?: unknown[]) => {
        const { rows } = await target.query<{ 'QUERY PLAN': string }>(`explain ${text}`, values);
        plans.push(rows.map((row) => row['QUERY PLAN']).join('\n'));
        return { rows: [] };
      };
    },
  });
  try {
    await client.query(BEGIN_KEYED);
    await work(explaining);
    return plans;
  } finally {
    await client.query('rollback');
    client.release();
  }
}

const unanalyzed = async (table: string) =>
  (
    await database.pool.query(
      `select last_analyze, last_autoanalyze from pg_stat_user_tables where relname = $1`,
      [table],
    )
  ).rows[0];

test('a claim on a full, unanalyzed inbox walks the pending index in order, never sorting the backlog', async () => {
  assert.deepEqual(await unanalyzed('stripe_events'), { last_analyze: null, last_autoanalyze: null });
  const [plan] = await plansOf((client) => claimReady(client, 500));
  // The ready events are read in index order up to the look-ahead; only those few are sorted again.
  assert.match(
    plan ?? '',
    /CTE ahead\n\s+->\s+Limit[^\n]*\n\s+->\s+Index Scan using stripe_events_pending_idx/,
  );
  assert.doesNotMatch(plan ?? '', /Seq Scan|Bitmap/);
});

test('a batch finds the versions of its rows by key in an unanalyzed mirror table', async () => {
  assert.deepEqual(await unanalyzed('customers'), { last_analyze: null, last_autoanalyze: null });
  const handling = handlingOf('customer.updated', 'customer');
  assert.ok(handling);
  const events = Array.from({ length: 500 }, (_, index) => ({
    id: `evt_${index}`,
    objectId: `cus_${index * 7}`,
    stripeAccount: 'platform',
    livemode: false,
  })) as ClaimedEvent[];
  const facts = events.map((event) => ({ id: event.id, handling }) as EventFacts);
  const [plan] = await plansOf((client) =>
    loadVersions(client, facts, new Map(events.map((event) => [event.id, event]))),
  );
  assert.match(plan ?? '', /Index Scan using customers_id_stripe_account_livemode_pk/);
  assert.doesNotMatch(plan ?? '', /Seq Scan|Bitmap/);
});
