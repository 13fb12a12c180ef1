import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { type MirrorWrite, writeMirror } from '../src/sync/mirror-writer.ts';
import type { Place } from '../src/sync/stripe-reads.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';
import { customerWrite, freshPlace, sessionWrite } from './support/link-writes.ts';
import { writeInTransaction } from './support/mirror-writes.ts';

/**
 * Account links written by concurrent transactions (two workers, a worker and a backfill): whichever
 * commits last, the newest statement holds the account, as it does when the same writes come one after
 * the other.
 */

let database: TestDatabase;
before(async () => {
  database = await testDatabase();
});
after(() => database.drop());

type Open = { client: pg.PoolClient; commit: () => Promise<void> };

/** A transaction that has written `writes` and waits to commit. */
async function openWrite(writes: MirrorWrite[]): Promise<Open> {
  const client = await database.pool.connect();
  await client.query('begin');
  await writeMirror(drizzle(client), writes, { accountKeys: [] });
  return {
    client,
    commit: async () => {
      await client.query('commit');
      client.release();
    },
  };
}

/** Writes `writes` in a transaction started while `first` is open; resolves once it committed. */
async function writeBehind(first: Open, writes: MirrorWrite[]): Promise<void> {
  const client = await database.pool.connect();
  const pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid;
  const second = (async () => {
    await client.query('begin');
    await writeMirror(drizzle(client), writes, { accountKeys: [] });
    await client.query('commit');
  })();
  await untilWaiting(pid);
  await first.commit();
  try {
    await second;
  } finally {
    client.release();
  }
}

/** Until the backend waits for a lock (a row or an advisory lock the open transaction holds). */
async function untilWaiting(pid: number | undefined): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const { rows } = await database.pool.query<{ waiting: boolean }>(
      `select wait_event_type = 'Lock' as waiting from pg_stat_activity where pid = $1`,
      [pid],
    );
    if (rows[0]?.waiting) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the second transaction never waited for the first');
}

const linkOf = async (accountId: string, place: Place) =>
  (
    await database.pool.query<{ customer_id: string }>(
      `select customer_id from account_customers where account_id = $1 and stripe_account = $2 and livemode = $3`,
      [accountId, place.stripeAccount, place.livemode],
    )
  ).rows[0]?.customer_id;

test('an older checkout written while a newer one commits does not take the account', async () => {
  const place = freshPlace();
  const newer = await openWrite([sessionWrite('cs_new', 'cus_new', 'team_race', 2_000, place)]);
  await writeBehind(newer, [sessionWrite('cs_old', 'cus_old', 'team_race', 1_000, place)]);
  assert.equal(await linkOf('team_race', place), 'cus_new');
});

test('an older customer naming the account, written while a newer one commits, does not take it', async () => {
  const place = freshPlace();
  const newer = await openWrite([customerWrite('cus_late', 'team_meta', 2_000, 2_000, place)]);
  await writeBehind(newer, [customerWrite('cus_early', 'team_meta', 1_000, 1_000, place)]);
  assert.equal(await linkOf('team_meta', place), 'cus_late');
});

test('one customer claimed for two accounts at once ends with the newer claim, without an error', async () => {
  const place = freshPlace();
  const newer = await openWrite([sessionWrite('cs_b', 'cus_both', 'team_b', 2_000, place)]);
  await writeBehind(newer, [sessionWrite('cs_a', 'cus_both', 'team_a', 1_000, place)]);
  assert.equal(await linkOf('team_b', place), 'cus_both');
  assert.equal(await linkOf('team_a', place), undefined);
});

test('a customer displaced while its older checkouts commit falls back on them', async () => {
  // cus_moved's checkouts for team_1 are being written (their link outdated by team_2's) when team_2
  // takes a newer customer: cus_moved is left to fall back on them, once they committed.
  const place = freshPlace();
  await writeInTransaction(database, [sessionWrite('cs_2', 'cus_moved', 'team_2', 1_031, place)], {
    accountKeys: [],
  });
  const older = await openWrite([
    sessionWrite('cs_1a', 'cus_moved', 'team_1', 1_011, place),
    sessionWrite('cs_1b', 'cus_moved', 'team_1', 1_021, place),
  ]);
  await writeBehind(older, [sessionWrite('cs_newer', 'cus_newer', 'team_2', 1_041, place)]);
  assert.equal(await linkOf('team_2', place), 'cus_newer');
  assert.equal(await linkOf('team_1', place), 'cus_moved');
});

test('two accounts falling back on each other’s customers at once both link, neither failed', async () => {
  // Each batch clears the metadata of one account's customer: X loses c1, W loses c9. X falls back on
  // the checkout that names it for c9, and W on the one that names it for c1, so each batch's second
  // round of locks wants the customer the other batch locked in its first.
  const place = freshPlace();
  await writeInTransaction(
    database,
    [
      customerWrite('cus_c1', 'team_x', 1_000, 1_000, place),
      customerWrite('cus_c9', 'team_w', 1_000, 1_000, place),
      sessionWrite('cs_w_c1', 'cus_c1', 'team_w', 500, place),
      sessionWrite('cs_x_c9', 'cus_c9', 'team_x', 500, place),
    ],
    { accountKeys: [] },
  );
  // Holding both links' rows keeps each batch waiting after its first round until both are there.
  const gate = await database.pool.connect();
  await gate.query('begin');
  await gate.query(`select 1 from account_customers where stripe_account = $1 and livemode = $2 for update`, [
    place.stripeAccount,
    place.livemode,
  ]);
  const batches = [
    customerWrite('cus_c1', null, 1_000, 2_000, place),
    customerWrite('cus_c9', null, 1_000, 2_000, place),
  ].map(async (write) => {
    // Not `inTransaction`: it tries a deadlocked transaction again, which would hide the failure.
    const client = await database.pool.connect();
    try {
      await client.query('begin');
      await writeMirror(drizzle(client), [write], { accountKeys: [] });
      await client.query('commit');
    } catch (error) {
      await client.query('rollback');
      throw error;
    } finally {
      client.release();
    }
  });
  await untilLockWaits(2);
  await gate.query('rollback');
  gate.release();
  const settled = await Promise.allSettled(batches);
  assert.deepEqual(
    settled.map((outcome) => (outcome.status === 'rejected' ? String(outcome.reason) : 'committed')),
    ['committed', 'committed'],
  );
  assert.equal(await linkOf('team_x', place), 'cus_c9');
  assert.equal(await linkOf('team_w', place), 'cus_c1');
});

/** Until `count` backends of this database wait for a lock. */
async function untilLockWaits(count: number): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const { rows } = await database.pool.query<{ waiting: number }>(
      `select count(*)::int as waiting from pg_stat_activity
       where datname = current_database() and wait_event_type = 'Lock'`,
    );
    if ((rows[0]?.waiting ?? 0) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${count} transactions never waited at once`);
}
