/**
 * Sync engine bench: Subledger beside the peer `@supabase/stripe-sync-engine` on one embedded
 * PostgreSQL 18 cluster (default settings, fsync on), the same signed event stream, in one run. Prints
 * figures; asserts nothing. See README.md here for what runs where.
 *
 *   npm run bench                      (after the emulator bench)
 *   node packages/subledger/bench/sync.ts
 *
 * Knobs for trying things: BENCH_CUSTOMERS (2000), BENCH_RATE (500), BENCH_RATE_SECONDS (20),
 * BENCH_CONNECTIONS (64), BENCH_PEER_IN_FLIGHT (16), BENCH_SYNC_ROUNDS (3), and any SUBLEDGER_* variable (e.g.
 * SUBLEDGER_WORKER_BATCH) is passed to Subledger's config.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { EmbeddedCluster } from '../src/store/index.ts';
import { measureBackfill } from './backfill.ts';
import { runChild } from './children.ts';
import { checkpoint, createDatabase, settingsOf, startCluster } from './cluster.ts';
import { populate, sdkFor, startEmulatorProcess } from './emulator.ts';
import { buildStream } from './event-stream.ts';
import type { PeerJob, PeerResult } from './peer.ts';
import { printReport, type Round } from './report.ts';
import { runSubledgerPhase } from './subledger-phase.ts';

const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 2000);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 20);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const PEER_IN_FLIGHT = Number(process.env.BENCH_PEER_IN_FLIGHT ?? 16);
const ROUNDS = Math.max(1, Number(process.env.BENCH_SYNC_ROUNDS ?? 3));
const SECRET = 'whsec_subledger_bench_secret';

// The scheduled reconcile (every 15 minutes by default) would read the whole emulator in the middle of a
// phase whenever a run crosses a quarter hour; once a day keeps it out of the figures. Refetches are read
// from the emulator, which has no rate limit, and the peer's Stripe calls are off: 10,000/s instead of
// the 20/s default kept for Stripe. At 1,000/s the limiter, not the engine, set the processing figure:
// the drain's 2,000 refetches needed 2 s of its 3 (6,828-7,313 events/s drained, 7,834-8,207 at 10,000).
const subledgerEnvironment = {
  SUBLEDGER_RECONCILE_MINUTES: '1440',
  SUBLEDGER_STRIPE_RPS: '10000',
  ...Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] =>
      entry[0].startsWith('SUBLEDGER_'),
    ),
  ),
};

const step = (message: string) => console.log(`  · ${message}`);

const dir = await mkdtemp(path.join(tmpdir(), 'subledger-bench-'));
const emulator = await startEmulatorProcess();
let cluster: EmbeddedCluster | null = null;
try {
  console.log(`\nSubledger sync engine bench (${CUSTOMERS} customers, ${CUSTOMERS * 10} events)`);
  const [started, population] = await Promise.all([startCluster(dir), populate(sdkFor(emulator), CUSTOMERS)]);
  cluster = started;
  /** Every phase gets its own new database, after a checkpoint. */
  const fresh = async (name: string) => {
    await checkpoint(started);
    return createDatabase(started, name);
  };
  step(`PostgreSQL: ${await settingsOf(cluster)}`);
  step(`Subledger's Stripe reads: at most ${subledgerEnvironment.SUBLEDGER_STRIPE_RPS}/s (the emulator's)`);
  step(
    `emulator populated: ${CUSTOMERS} customers with paid subscriptions in ${(population.elapsedMs / 1000).toFixed(1)} s`,
  );
  const stream = buildStream(population);
  const streamFile = path.join(dir, 'stream.json');
  await writeFile(streamFile, JSON.stringify(stream));
  const common = { emulator, stream, streamFile, secret: SECRET, dir, environment: subledgerEnvironment };
  /** A phase's database, and the scratch one its server warms up on. */
  const databases = async (name: string) => ({
    warmupDatabaseUrl: await fresh(`warmup_${name}`),
    databaseUrl: await fresh(`subledger_${name}`),
  });

  const atSteadyRate = {
    pace: { mode: 'rate', perSecond: RATE },
    transport: 'http',
    from: 0,
    count: RATE * RATE_SECONDS,
  } as const;
  const everyDelivery = (lanes: number, transport: 'http' | 'in-process') =>
    ({ pace: { mode: 'burst', lanes }, transport, from: 0, count: stream.deliveries.length }) as const;
  const runPeer = async (name: string, transport: PeerJob['transport']) =>
    runChild<PeerJob, PeerResult>(
      './peer.ts',
      {
        databaseUrl: await fresh(name),
        streamFile,
        secret: SECRET,
        baseSeconds: Math.floor(Date.now() / 1000),
        inFlight: PEER_IN_FLIGHT,
        transport,
      },
      dir,
    );
  /**
   * The figures the goals are judged on vary from run to run on a shared two-core machine (the peer's
   * applied rate alone by ±15%), so they are taken several times, in turns, and judged on the median
   * round: Subledger's steady rate, its processing, and the peer in-process right after it.
   */
  const rounds: Round[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const of = `round ${round}/${ROUNDS}`;
    step(`${of}, steady rate: ${RATE}/s for ${RATE_SECONDS} s`);
    const steady = await runSubledgerPhase({
      ...common,
      ...(await databases(`rate_${round}`)),
      load: atSteadyRate,
    });
    step(`${of}, processing: ${stream.deliveries.length} deliveries acknowledged, then the workers started`);
    const drained = await runSubledgerPhase({
      ...common,
      ...(await databases(`drain_${round}`)),
      load: everyDelivery(CONNECTIONS, 'http'),
      workersAfterLoad: true,
    });
    step(`${of}, peer: ${stream.deliveries.length} deliveries, ${PEER_IN_FLIGHT} in flight`);
    const peer = await runPeer(`peer_${round}`, { kind: 'in-process' });
    rounds.push({ steady, drained, peer });
  }
  step(`steady rate, workers idle: ${RATE}/s for ${RATE_SECONDS} s, the workers started after`);
  const steadyIdle = await runSubledgerPhase({
    ...common,
    ...(await databases('rate_idle')),
    load: atSteadyRate,
    workersAfterLoad: true,
  });
  step(`throughput: ${stream.deliveries.length} deliveries, ${CONNECTIONS} connections`);
  const burst = await runSubledgerPhase({
    ...common,
    ...(await databases('burst')),
    load: everyDelivery(CONNECTIONS, 'http'),
  });
  step(`in-process: ${stream.deliveries.length} deliveries to the handler, ${PEER_IN_FLIGHT} in flight`);
  const inProcess = await runSubledgerPhase({
    ...common,
    ...(await databases('in_process')),
    load: everyDelivery(PEER_IN_FLIGHT, 'in-process'),
  });
  step(`peer over HTTP: ${stream.deliveries.length} deliveries, ${CONNECTIONS} connections`);
  const peerHttp = await runPeer('peer_http', { kind: 'http', connections: CONNECTIONS });
  step('backfill');
  const backfill = await measureBackfill({ emulator, databaseUrl: fresh });
  printReport({
    stream,
    rounds,
    steadyIdle,
    burst,
    inProcess,
    peerHttp,
    backfill,
    rate: RATE,
    connections: CONNECTIONS,
    peerInFlight: PEER_IN_FLIGHT,
  });
} finally {
  emulator.stop();
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
}
