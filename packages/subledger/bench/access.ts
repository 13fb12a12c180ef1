/**
 * Access bench: checks answered from the per-process cache (in-process and over HTTP beside a bare Hono
 * route), what a warm cache weighs, and how soon another process sees a change. 100,000 accounts are
 * written straight into the mirror tables of one database (embedded PostgreSQL 18, or DATABASE_URL);
 * every measure runs in a process of its own. Prints figures; asserts nothing. See README.md here.
 *
 *   npm run bench                      (after the sync bench)
 *   node packages/subledger/bench/access.ts
 *   BENCH_QUICK=1 node packages/subledger/bench/access.ts      (10,000 accounts, 2 s runs)
 *
 * Knobs: BENCH_ACCOUNTS (100000), BENCH_CHECK_ACCOUNTS (10000: warm for the check runs),
 * BENCH_CHECK_SECONDS (5), BENCH_HTTP_SECONDS (10), BENCH_HTTP_WARMUP_SECONDS (3), BENCH_CONNECTIONS (64),
 * BENCH_LATENCY_SAMPLES (1000000), BENCH_ROUNDS (200), BENCH_IN_FLIGHT (1000: cold loads at a time).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { connect, type EmbeddedCluster, migrate } from '../src/store/index.ts';
import { buildPopulation } from './access-data.ts';
import { measureHttp } from './access-http.ts';
import type { InProcessJob, InProcessResult } from './access-inprocess.ts';
import type { MemoryJob, MemoryResult } from './access-memory.ts';
import { printAccessReport } from './access-report.ts';
import { seedMirror } from './access-seed.ts';
import { measureStaleness } from './access-staleness.ts';
import { runChild } from './children.ts';
import { checkpoint, createDatabase, settingsOf, startCluster } from './cluster.ts';
import { seconds } from './report.ts';
import { counts } from './stats.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const knob = (name: string, full: number, quick = full) =>
  Number(process.env[name] ?? (QUICK ? quick : full));
const ACCOUNTS = knob('BENCH_ACCOUNTS', 100_000, 10_000);
const CHECK_ACCOUNTS = Math.min(ACCOUNTS, knob('BENCH_CHECK_ACCOUNTS', 10_000));
const CHECK_SECONDS = knob('BENCH_CHECK_SECONDS', 5, 2);
const HTTP_SECONDS = knob('BENCH_HTTP_SECONDS', 10, 2);
const HTTP_WARMUP_SECONDS = knob('BENCH_HTTP_WARMUP_SECONDS', 3, 1);
const CONNECTIONS = knob('BENCH_CONNECTIONS', 64);
const LATENCY_SAMPLES = knob('BENCH_LATENCY_SAMPLES', 1_000_000, 300_000);
const ROUNDS = knob('BENCH_ROUNDS', 200, 50);
const IN_FLIGHT = knob('BENCH_IN_FLIGHT', 1_000);

const step = (message: string) => console.log(`  · ${message}`);

/**
 * The bench's database: a new one on the server DATABASE_URL names (dropped at the end), else in an
 * embedded cluster of its own (default settings, fsync on).
 */
async function benchDatabase(dir: string) {
  const external = process.env.DATABASE_URL;
  const cluster: EmbeddedCluster = external
    ? { url: external, owned: false, stop: async () => {} }
    : await startCluster(dir);
  const name = `subledger_access_bench_${process.pid}`;
  const url = await createDatabase(cluster, name);
  const database = connect(url);
  await migrate(database);
  await database.close();
  return {
    url,
    settings: await settingsOf(cluster),
    /** Flushes what the last phase left dirty, so that no checkpoint lands in the next one. */
    checkpoint: () => (external ? Promise.resolve() : checkpoint(cluster)),
    async stop() {
      if (!external) return cluster.stop();
      const admin = new pg.Client({ connectionString: external });
      await admin.connect();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

const dir = await mkdtemp(path.join(tmpdir(), 'subledger-access-bench-'));
let database: Awaited<ReturnType<typeof benchDatabase>> | null = null;
try {
  console.log(
    `\nSubledger access bench (${ACCOUNTS.toLocaleString('en-US')} accounts in the mirror, ` +
      `checks over ${CHECK_ACCOUNTS.toLocaleString('en-US')} warm accounts${QUICK ? ', quick mode' : ''})`,
  );
  database = await benchDatabase(dir);
  const { url: databaseUrl } = database;
  step(`PostgreSQL: ${database.settings}`);
  const now = Math.floor(Date.now() / 1000);
  const profiles = buildPopulation(ACCOUNTS, now);
  const seeded = await seedMirror(databaseUrl, profiles, now);
  step(`mirror seeded in ${seconds(seeded.elapsedMs)}: ${counts(seeded.rows)}`);

  await database.checkpoint();
  step(
    `in-process checks: ${CHECK_SECONDS} s of throughput, ${LATENCY_SAMPLES.toLocaleString('en-US')} timed`,
  );
  const inProcess = await runChild<InProcessJob, InProcessResult>(
    './access-inprocess.ts',
    { databaseUrl, accounts: CHECK_ACCOUNTS, now, seconds: CHECK_SECONDS, latencySamples: LATENCY_SAMPLES },
    dir,
  );

  await database.checkpoint();
  step(`HTTP: bare route, then Subledger, ${CONNECTIONS} connections, ${HTTP_SECONDS} s each`);
  const http = await measureHttp({
    databaseUrl,
    dir,
    accounts: CHECK_ACCOUNTS,
    now,
    connections: CONNECTIONS,
    seconds: HTTP_SECONDS,
    warmupSeconds: HTTP_WARMUP_SECONDS,
  });

  await database.checkpoint();
  step(`memory: ${ACCOUNTS.toLocaleString('en-US')} accounts into a fresh process's cache`);
  const memory = await runChild<MemoryJob, MemoryResult>(
    './access-memory.ts',
    { databaseUrl, accounts: ACCOUNTS, inFlight: IN_FLIGHT },
    dir,
  );

  await database.checkpoint();
  step(`staleness: ${ROUNDS} rounds across two processes`);
  const staleness = await measureStaleness({
    databaseUrl,
    dir,
    profiles: profiles.slice(0, CHECK_ACCOUNTS),
    rounds: ROUNDS,
  });

  printAccessReport({
    accounts: ACCOUNTS,
    checkAccounts: CHECK_ACCOUNTS,
    inProcess,
    http: { ...http, connections: CONNECTIONS, seconds: HTTP_SECONDS, warmupSeconds: HTTP_WARMUP_SECONDS },
    memory,
    staleness,
  });
} finally {
  await database?.stop();
  await rm(dir, { recursive: true, force: true });
}
