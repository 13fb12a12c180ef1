/**
 * Credits bench: Subledger's `consume` beside the plain row-lock approach (`update … where balance >= n`
 * plus a ledger insert, one transaction per consume), 64 concurrent clients, over 1,000 accounts and on
 * one hot account, then on a hot account granted less than its demand. One embedded PostgreSQL 18
 * cluster (default settings, fsync on), a fresh database per phase with Subledger's migrations. Prints
 * figures and asserts nothing about them; exits non-zero when any account is overdrawn or its books do
 * not add up. See README.md here.
 *
 *   npm run bench                      (after the access bench)
 *   node packages/subledger/bench/credits.ts
 *
 * Knobs: BENCH_CREDITS_SECONDS (10), BENCH_CREDITS_WARMUP_SECONDS (2), BENCH_CREDITS_CLIENTS (64),
 * BENCH_CREDITS_ACCOUNTS (1000), BENCH_CREDITS_LIMITED_GRANT (10000: the hot account's grant in the
 * limited phases, which ask 1.5 times as much), BENCH_SUBLEDGER_POOL (20, `connect(url)`'s default),
 * BENCH_NAIVE_POOL (20).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type EmbeddedCluster, migrate } from '../src/store/index.ts';
import { checkpoint, createDatabase, settingsOf, startCluster } from './cluster.ts';
import { checkBooks } from './credits-books.ts';
import { openNaive, openSubledger } from './credits-ledgers.ts';
import { drive, type Until } from './credits-load.ts';
import { answeredPerSecond, type PhaseResult, printCreditsReport } from './credits-report.ts';

const knob = (name: string, value: number) => Number(process.env[name] ?? value);
const SECONDS = knob('BENCH_CREDITS_SECONDS', 10);
const WARMUP_SECONDS = knob('BENCH_CREDITS_WARMUP_SECONDS', 2);
const CLIENTS = knob('BENCH_CREDITS_CLIENTS', 64);
const ACCOUNTS = knob('BENCH_CREDITS_ACCOUNTS', 1000);
const LIMITED_GRANT = knob('BENCH_CREDITS_LIMITED_GRANT', 10_000);
const SUBLEDGER_POOL = knob('BENCH_SUBLEDGER_POOL', 20);
// The same 20 connections as Subledger's pool: on 2 cores the naive approach did worse with one per
// client (64: 749/s hot and 3,520/s spread, against 1,149/s and 4,355/s with 20, in back-to-back runs).
const NAIVE_POOL = knob('BENCH_NAIVE_POOL', 20);
/** A grant no phase can spend. */
const PLENTY = 1_000_000_000;

type Phase = {
  name: string;
  ledger: 'subledger' | 'naive';
  /** The accounts the measured run spends from, each granted `grant`. */
  accounts: string[];
  grant: number;
  until: Until;
  /** Where the warm-up spends: the measured accounts, unless that would eat a grant the phase counts on. */
  warmupAccounts: string[];
  /** The run asks more than the grant: exactly the grant must be spent. */
  limited: boolean;
};

const step = (message: string) => console.log(`  · ${message}`);
const spread = Array.from({ length: ACCOUNTS }, (_, index) => `acct_${String(index).padStart(5, '0')}`);
const hot = ['acct_hot'];

function phasesFor(ledger: Phase['ledger']): Phase[] {
  const label = ledger === 'subledger' ? 'Subledger' : 'naive';
  const timed = { grant: PLENTY, until: { seconds: SECONDS }, limited: false };
  return [
    {
      name: `${label}, ${ACCOUNTS.toLocaleString('en-US')} accounts`,
      ledger,
      accounts: spread,
      warmupAccounts: spread,
      ...timed,
    },
    { name: `${label}, hot account`, ledger, accounts: hot, warmupAccounts: hot, ...timed },
    {
      name: `${label}, hot, grant < demand`,
      ledger,
      accounts: hot,
      warmupAccounts: ['acct_warmup'],
      grant: LIMITED_GRANT,
      until: { count: Math.round(LIMITED_GRANT * 1.5) },
      limited: true,
    },
  ];
}

async function runPhase(cluster: EmbeddedCluster, phase: Phase, index: number): Promise<PhaseResult> {
  step(phase.name);
  await checkpoint(cluster);
  const url = await createDatabase(cluster, `credits_${index}_${phase.ledger}`);
  const migrator = connect(url, { max: 1 });
  await migrate(migrator);
  await migrator.close();
  const grants = new Map(phase.accounts.map((accountId) => [accountId, phase.grant]));
  for (const accountId of phase.warmupAccounts) if (!grants.has(accountId)) grants.set(accountId, PLENTY);
  const connections = phase.ledger === 'subledger' ? SUBLEDGER_POOL : NAIVE_POOL;
  const ledger = await (phase.ledger === 'subledger' ? openSubledger : openNaive)(url, grants, connections);
  try {
    const warmup = await drive(ledger.consume, {
      clients: CLIENTS,
      accounts: phase.warmupAccounts,
      until: { seconds: WARMUP_SECONDS },
      prefix: 'warmup',
    });
    const run = await drive(ledger.consume, {
      clients: CLIENTS,
      accounts: phase.accounts,
      until: phase.until,
      prefix: 'run',
    });
    const check = checkBooks(
      await ledger.books(),
      grants,
      warmup.spent + run.spent,
      phase.limited ? phase.accounts : [],
    );
    step(`  ${Math.round(answeredPerSecond(run))}/s, overdraft ${check.overdraft}`);
    return { name: phase.name, connections, run, check };
  } finally {
    await ledger.close();
  }
}

const dir = await mkdtemp(path.join(tmpdir(), 'subledger-credits-bench-'));
let cluster: EmbeddedCluster | null = null;
try {
  console.log(
    `\nSubledger credits bench (${CLIENTS} clients, ${SECONDS} s a phase after ${WARMUP_SECONDS} s of warm-up)`,
  );
  cluster = await startCluster(dir);
  step(`PostgreSQL: ${await settingsOf(cluster)}`);
  const [subledger, naive] = [phasesFor('subledger'), phasesFor('naive')];
  // Alternating the two keeps a burst of other work on the machine from landing on one side only.
  const order = subledger.flatMap((phase, index) => [phase, naive[index] as Phase]);
  const results: PhaseResult[] = [];
  for (const [index, phase] of order.entries()) results.push(await runPhase(cluster, phase, index));
  const [spreadSubledger, spreadNaive, hotSubledger, hotNaive] = results as [
    PhaseResult,
    PhaseResult,
    PhaseResult,
    PhaseResult,
  ];
  printCreditsReport({
    phases: results,
    clients: CLIENTS,
    spread: { subledger: spreadSubledger, naive: spreadNaive },
    hot: { subledger: hotSubledger, naive: hotNaive },
  });
  // Timings are figures; an overdrawn account or books that do not add up are wrong answers.
  if (results.some((result) => result.check.overdraft > 0 || !result.check.exact)) {
    console.error('\ncredits bench: an account was overdrawn or its books do not add up (see above)');
    process.exitCode = 1;
  }
} finally {
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
}
