import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { type CreditsService, createCreditsService } from '../src/credits/service.ts';
import { type VerifyOptions, type VerifyReport, verifyCredits } from '../src/credits/verify.ts';
import type { ProblemCode } from '../src/credits/verify-problems.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';
import { runCli } from './support/run-cli.ts';

const place = { stripeAccount: 'platform', livemode: false };
let database: TestDatabase;
let clock = 1_800_000_000;
let credits: CreditsService;

/** Ids of the ledger built in `before`, for the tests that break it. */
const built = {
  lot: '', // acct_a's manual lot: spent from, some left
  otherLot: '', // acct_a's top-up lot
  openHold: '', // acct_h: reserved, not settled
  committedHold: '', // acct_h: 8 held, 3 spent, 5 given back
  spendEntry: 0, // a consume of acct_a
};

before(async () => {
  database = await testDatabase();
  credits = createCreditsService({ database, place, now: () => clock });
  await buildLedger();
});

after(() => database.drop());

/** Every kind of movement the service makes: grants, spends, holds settled every way, expiry, rollover. */
async function buildLedger() {
  const spend = (accountId: string, amount: number, key: string) =>
    credits.consume({ accountId, creditType: 'ai', amount, key });
  const reserve = (accountId: string, amount: number, key: string, ttlSeconds = 60) =>
    credits.reserve({ accountId, creditType: 'ai', amount, key, ttlSeconds });

  built.lot = (
    await credits.grant({
      accountId: 'acct_a',
      creditType: 'ai',
      amount: 50,
      source: { kind: 'manual', id: 'm1' },
    })
  ).lotId;
  built.otherLot = (
    await credits.grant({
      accountId: 'acct_a',
      creditType: 'ai',
      amount: 30,
      expiresAt: clock + 1000,
      source: { kind: 'top_up', id: 'cs_1' },
    })
  ).lotId;
  await credits.grant({
    accountId: 'acct_a',
    creditType: 'storage',
    amount: 5,
    source: { kind: 'manual', id: 'm1' },
  });
  await Promise.all([
    spend('acct_a', 35, 'a-1'),
    spend('acct_a', 4, 'a-2'),
    spend('acct_a', 1000, 'a-too-much'),
  ]);

  await credits.grant({
    accountId: 'acct_h',
    creditType: 'ai',
    amount: 30,
    source: { kind: 'manual', id: 'm2' },
  });
  const committed = await reserve('acct_h', 8, 'call-1');
  built.committedHold = committed.holdId;
  await credits.commit(committed.holdId, 3);
  await spend('acct_h', 10, 'h-1');
  await credits.release((await reserve('acct_h', 2, 'call-2')).holdId);
  await credits.commit((await reserve('acct_h', 1, 'call-3')).holdId);
  built.openHold = (await reserve('acct_h', 3, 'call-4', 3600)).holdId;

  // A hold and a lot that expire: swept by the pool's next batch, and an expired hold left unswept.
  await credits.grant({
    accountId: 'acct_x',
    creditType: 'ai',
    amount: 10,
    expiresAt: clock + 100,
    source: { kind: 'manual', id: 'm3' },
  });
  await credits.grant({
    accountId: 'acct_x',
    creditType: 'ai',
    amount: 10,
    source: { kind: 'manual', id: 'm4' },
  });
  await reserve('acct_x', 12, 'x-1', 30);
  clock += 200;
  await spend('acct_x', 1, 'x-2');
  await reserve('acct_x', 2, 'x-3', 30);
  clock += 60;

  // A renewal carries part of the last period's plan credits into a rollover lot.
  await credits.grant({
    accountId: 'acct_r',
    creditType: 'ai',
    amount: 100,
    expiresAt: clock + 500,
    source: { kind: 'invoice', id: 'in_1' },
  });
  await spend('acct_r', 60, 'r-1');
  await credits.grant({
    accountId: 'acct_r',
    creditType: 'ai',
    amount: 100,
    expiresAt: clock + 1000,
    source: { kind: 'invoice', id: 'in_2' },
    rollover: { cap: 25, periodStart: clock + 500 },
  });

  const { rows } = await database.pool.query<{ id: number }>(
    `select id from credit_entries where kind = 'spend' and lot_id = $1 order by id limit 1`,
    [built.lot],
  );
  built.spendEntry = Number(rows[0]?.id);
}

/** What verify reports once `damage` is done, in a transaction rolled back afterwards. */
async function reportAfter(
  damage: (client: pg.PoolClient) => Promise<unknown>,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const client = await database.pool.connect();
  try {
    await client.query('begin');
    await damage(client);
    return await verifyCredits(client, options);
  } finally {
    await client.query('rollback');
    client.release();
  }
}

/** Inserts an entry in its lot's pool (acct_a's when the lot does not exist). */
const entry = (
  client: pg.PoolClient,
  fields: { key: string; kind: string; lot: string; hold?: string; amount: number },
) =>
  client.query(
    `insert into credit_entries (account_id, credit_type, stripe_account, livemode, key, kind, lot_id, hold_id, amount)
     select coalesce(l.account_id, 'acct_a'), coalesce(l.credit_type, 'ai'), coalesce(l.stripe_account, 'platform'),
       coalesce(l.livemode, false), $1, $2, $3, $4, $5
     from (select 1) as one left join credit_lots l on l.id = $3`,
    [fields.key, fields.kind, fields.lot, fields.hold ?? null, fields.amount],
  );

/** The lot an open or closed hold took credits from. */
const lotOfHold = async (client: pg.PoolClient, holdId: string) =>
  (
    await client.query<{ lot_id: string }>(
      `select lot_id from credit_entries where hold_id = $1 and kind = 'hold'`,
      [holdId],
    )
  ).rows[0]?.lot_id as string;

test('a ledger the service built verifies clean, in one snapshot, counting what it checked', async () => {
  const report = await verifyCredits(database.pool);
  assert.deepEqual(report.problems, []);
  assert.equal(report.truncated, false);
  const { rows } = await database.pool.query<Record<string, number>>(
    `select (select count(*)::int from credit_pools) as pools, (select count(*)::int from credit_lots) as lots,
       (select count(*)::int from credit_entries) as entries, (select count(*)::int from credit_holds) as holds`,
  );
  assert.deepEqual(
    { pools: report.pools, lots: report.lots, entries: report.entries, holds: report.holds },
    rows[0],
  );
  assert.ok(report.pools >= 5 && report.holds >= 2, JSON.stringify(report));
  const kinds = await database.pool.query<{ kind: string }>(
    'select distinct kind from credit_entries order by kind',
  );
  assert.deepEqual(
    kinds.rows.map((row) => row.kind),
    ['expire', 'grant', 'hold', 'release', 'spend'],
    'the ledger has every kind of entry',
  );
  const rollovers = await database.pool.query(`select 1 from credit_lots where source_kind = 'rollover'`);
  assert.equal(rollovers.rowCount, 1, 'and a rollover lot');
});

// Each breakage is made so that exactly one check fails: the other invariants are kept by hand.
const breakages: {
  name: string;
  code: ProblemCode;
  subject: () => string;
  damage: (client: pg.PoolClient) => Promise<unknown>;
}[] = [
  {
    name: "a lot's remainder changed without an entry",
    code: 'lot_sum_mismatch',
    subject: () => built.lot,
    damage: (client) =>
      client.query('update credit_lots set remaining = remaining - 1 where id = $1', [built.lot]),
  },
  {
    name: 'a spend entry deleted',
    code: 'lot_sum_mismatch',
    subject: () => built.lot,
    damage: (client) => client.query('delete from credit_entries where id = $1', [built.spendEntry]),
  },
  {
    name: 'a lot below zero (its check constraint dropped), with an entry to match',
    code: 'lot_out_of_range',
    subject: () => built.lot,
    damage: async (client) => {
      await client.query('alter table credit_lots drop constraint credit_lots_remaining_check');
      const { rows } = await client.query<{ remaining: number }>(
        'select remaining from credit_lots where id = $1',
        [built.lot],
      );
      await client.query('update credit_lots set remaining = -3 where id = $1', [built.lot]);
      await entry(client, {
        key: 'overdraw',
        kind: 'spend',
        lot: built.lot,
        amount: -3 - Number(rows[0]?.remaining),
      });
    },
  },
  {
    name: 'a second grant entry for a lot (of nothing, under a key of its own)',
    code: 'grant_entry_count',
    subject: () => built.lot,
    damage: (client) =>
      entry(client, { key: 'grant:manual:again', kind: 'grant', lot: built.lot, amount: 0 }),
  },
  {
    name: "a lot's amount no longer its grant entry",
    code: 'grant_entry_count',
    subject: () => built.lot,
    damage: (client) =>
      client.query('update credit_lots set amount = amount + 10 where id = $1', [built.lot]),
  },
  {
    name: "a lot's grant entry carrying another lot's grant key",
    code: 'grant_key_reused',
    subject: () => 'grant:manual:m1',
    damage: (client) =>
      client.query(`update credit_entries set key = 'grant:manual:m1' where lot_id = $1 and kind = 'grant'`, [
        built.otherLot,
      ]),
  },
  {
    name: 'an entry moved to another pool',
    code: 'entry_pool_mismatch',
    subject: () => `entry ${built.spendEntry}`,
    damage: (client) =>
      client.query(`update credit_entries set account_id = 'acct_elsewhere' where id = $1`, [
        built.spendEntry,
      ]),
  },
  {
    name: 'an entry of a lot that does not exist',
    code: 'entry_without_lot',
    subject: () => 'entry',
    damage: (client) => entry(client, { key: 'ghost', kind: 'spend', lot: 'lot_gone', amount: -1 }),
  },
  {
    name: "an open hold's amount changed",
    code: 'hold_mismatch',
    subject: () => built.openHold,
    damage: (client) =>
      client.query('update credit_holds set amount = amount + 1 where id = $1', [built.openHold]),
  },
  {
    name: "an open hold's allocations naming another lot",
    code: 'hold_mismatch',
    subject: () => built.openHold,
    damage: (client) =>
      client.query(
        `update credit_holds set allocations = jsonb_build_array(jsonb_build_object('lotId', 'lot_other', 'amount', amount))
         where id = $1`,
        [built.openHold],
      ),
  },
  {
    name: 'an open hold given back in part while still open',
    code: 'hold_mismatch',
    subject: () => built.openHold,
    damage: async (client) => {
      const lot = await lotOfHold(client, built.openHold);
      await entry(client, { key: 'early', kind: 'release', lot, hold: built.openHold, amount: 1 });
      await client.query('update credit_holds set amount = amount - 1 where id = $1', [built.openHold]);
      await client.query('update credit_lots set remaining = remaining + 1 where id = $1', [lot]);
    },
  },
  {
    name: 'an extra release for a closed hold, the lot credited to match',
    code: 'hold_overreleased',
    subject: () => built.committedHold,
    damage: async (client) => {
      const lot = await lotOfHold(client, built.committedHold);
      await entry(client, { key: 'again', kind: 'release', lot, hold: built.committedHold, amount: 4 });
      await client.query('update credit_lots set remaining = remaining + 4 where id = $1', [lot]);
    },
  },
  {
    name: 'a closed hold spending more than it held, the lot debited to match',
    code: 'hold_mismatch',
    subject: () => built.committedHold,
    damage: async (client) => {
      const lot = await lotOfHold(client, built.committedHold);
      await entry(client, { key: 'more', kind: 'spend', lot, hold: built.committedHold, amount: -6 });
      await client.query('update credit_lots set remaining = remaining - 6 where id = $1', [lot]);
    },
  },
];

for (const breakage of breakages)
  test(`verify finds ${breakage.code}: ${breakage.name}`, async () => {
    const { problems } = await reportAfter(breakage.damage);
    assert.deepEqual(
      problems.map((problem) => problem.code),
      [breakage.code],
      JSON.stringify(problems, null, 2),
    );
    assert.ok(problems[0]?.subject.startsWith(breakage.subject()), JSON.stringify(problems[0]));
  });

test('each check reports at most `limit` rows and says the report is cut', async () => {
  const report = await reportAfter((client) => client.query('update credit_lots set amount = amount + 1'), {
    limit: 2,
  });
  assert.deepEqual(
    report.problems.map((problem) => problem.code),
    ['grant_entry_count', 'grant_entry_count'],
  );
  assert.equal(report.truncated, true);
});

test('verify sees one snapshot while spends go on', async () => {
  await credits.grant({
    accountId: 'acct_busy',
    creditType: 'ai',
    amount: 300,
    source: { kind: 'manual', id: 'busy' },
  });
  const spends = Array.from({ length: 300 }, (_, index) =>
    index % 3 === 0
      ? credits
          .reserve({
            accountId: 'acct_busy',
            creditType: 'ai',
            amount: 1,
            key: `busy-${index}`,
            ttlSeconds: 60,
          })
          .then((hold) => credits.commit(hold.holdId, index % 2))
      : credits.consume({ accountId: 'acct_busy', creditType: 'ai', amount: 1, key: `busy-${index}` }),
  );
  const reports = await Promise.all([
    ...Array.from({ length: 5 }, () => verifyCredits(database.pool)),
    ...spends,
  ]);
  for (const report of reports.slice(0, 5)) assert.deepEqual((report as VerifyReport).problems, []);
  assert.deepEqual((await verifyCredits(database.pool)).problems, []);
});

test('the CLI exits 0 on a clean ledger, 1 with a line per problem, 2 when it cannot read the database', async () => {
  const environment = { DATABASE_URL: database.url };
  const clean = await runCli(['credits', 'verify'], environment);
  assert.equal(clean.code, 0, clean.stderr);
  assert.match(
    clean.stdout,
    /^credits verify: \d+ pools, \d+ lots, \d+ entries, \d+ open holds checked; no problems$/m,
  );

  await database.pool.query('update credit_lots set remaining = remaining - 1 where id = $1', [built.lot]);
  try {
    const broken = await runCli(['credits', 'verify'], environment);
    assert.equal(broken.code, 1);
    assert.match(
      broken.stdout,
      new RegExp(
        `^lot_sum_mismatch acct_a/ai@platform:test ${built.lot}: remaining is \\d+, its entries sum to \\d+$`,
        'm',
      ),
    );
    assert.equal(broken.stderr.trim(), 'subledger: the credit ledger has 1 problem');
    const json = await runCli(['credits', 'verify', '--json'], environment);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout) as VerifyReport;
    assert.deepEqual(
      report.problems.map((problem) => [problem.code, problem.subject]),
      [['lot_sum_mismatch', built.lot]],
    );
  } finally {
    await database.pool.query('update credit_lots set remaining = remaining + 1 where id = $1', [built.lot]);
  }

  const unreadable = await runCli(['credits', 'verify'], {
    DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
  });
  assert.equal(unreadable.code, 2);
  assert.match(unreadable.stderr, /^subledger: credits verify could not read the database: .+\n$/);
  const help = await runCli(['credits', 'verify', '--help'], {});
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--json/);
});
