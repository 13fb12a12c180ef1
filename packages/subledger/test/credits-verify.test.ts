import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { type CreditsService, createCreditsService } from '../src/credits/service.ts';
import { type VerifyOptions, type VerifyReport, verifyCredits } from '../src/credits/verify.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';
import { type BuiltLedger, breakagesOf } from './support/ledger-breakages.ts';
import { runCli } from './support/run-cli.ts';

const place = { stripeAccount: 'platform', livemode: false };
let database: TestDatabase;
let clock = 1_800_000_000;
let credits: CreditsService;

/** Ids of the ledger built in `before`, for the tests that break it. */
const built: BuiltLedger = { lot: '', otherLot: '', openHold: '', committedHold: '', spendEntry: 0 };

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

for (const breakage of breakagesOf(built))
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

test('the CLI exits 0 on a clean ledger, 2 with a line per problem, 69 when it cannot read the database', async () => {
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
    assert.equal(broken.code, 2);
    assert.match(
      broken.stdout,
      new RegExp(
        `^lot_sum_mismatch acct_a/ai@platform:test ${built.lot}: remaining is \\d+, its entries sum to \\d+$`,
        'm',
      ),
    );
    assert.equal(broken.stderr.trim(), 'subledger: ledger_problems: the credit ledger has 1 problem');
    const json = await runCli(['credits', 'verify', '--json'], environment);
    assert.equal(json.code, 2);
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
  assert.equal(unreadable.code, 69);
  assert.match(
    unreadable.stderr,
    /^subledger: database_unavailable: credits verify could not read the database: .+\n$/,
  );
  const help = await runCli(['credits', 'verify', '--help'], {});
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--json/);
});
