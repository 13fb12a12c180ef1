import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type pg from 'pg';
import { loadConfig } from '../src/config/index.ts';
import { connect } from '../src/store/index.ts';
import { createSubledger } from '../src/subledger.ts';
import { createLogger } from '../src/telemetry/index.ts';
import { runChild } from './children.ts';
import type { EmulatorProcess } from './emulator.ts';
import { type Stream, signDeliveries } from './event-stream.ts';
import type { LoadJob } from './load.ts';
import { newProbe, type Probe } from './probes.ts';
import { answerOf, type LoadResult, type Pace, sendAll } from './senders.ts';
import { type Summary, summarize, tally } from './stats.ts';

export type PhaseSetup = {
  databaseUrl: string;
  emulator: EmulatorProcess;
  stream: Stream;
  streamFile: string;
  secret: string;
  dir: string;
  /**
   * Which deliveries of the stream to send, at what pace, and how: over HTTP from the load process, or
   * to the web-standard handler called in this process (as the peer is called).
   */
  load: { from: number; count: number; pace: Pace; transport: 'http' | 'in-process' };
  /**
   * Start the workers only once every delivery is acknowledged, so they drain a full inbox with the
   * machine to themselves: processing throughput apart from ingest.
   */
  workersAfterLoad?: boolean;
  environment?: Record<string, string>;
};

export type PhaseResult = {
  load: LoadResult;
  distinctSent: number;
  /** Epoch ms when every sent event was committed and no refetch or job was left. */
  settledAt: number;
  /** Epoch ms the workers started. */
  workersStartedAt: number;
  visibleMs: { all: Summary; fromPayload: Summary; refetched: Summary };
  ackServerMs: Summary;
  outcomes: Record<string, number>;
  statuses: Record<string, number>;
  storedEvents: number;
  notOneAttempt: number;
  repeatedCommits: number;
  refetchRequests: Record<string, number>;
  refetchRequestKinds: Record<string, number>;
  stripeRequests: Record<string, number>;
  mirrorRows: Record<string, number>;
};

const SETTLE_TIMEOUT_MS = 90_000;

/**
 * One measured run of Subledger as `subledger start` runs it (HTTP server, inbox workers and refetch
 * jobs in this process) on a fresh database, with the load generator in a child process.
 */
export async function runSubledgerPhase(setup: PhaseSetup): Promise<PhaseResult> {
  const database = connect(setup.databaseUrl);
  const config = loadConfig({
    DATABASE_URL: setup.databaseUrl,
    STRIPE_SECRET_KEY: setup.emulator.key,
    STRIPE_API_BASE: setup.emulator.url,
    STRIPE_WEBHOOK_SECRET: setup.secret,
    LOG_LEVEL: 'silent',
    ...setup.environment,
  });
  const subledger = await createSubledger({
    config,
    database,
    logger: createLogger(process.env.BENCH_LOG ?? 'silent'),
  });
  const probe = newProbe(subledger);
  const server = serve({ fetch: subledger.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`;
  let workersStartedAt = Date.now();
  if (!setup.workersAfterLoad) await subledger.startWorkers();
  try {
    const sentIndexes = setup.stream.deliveries.slice(setup.load.from, setup.load.from + setup.load.count);
    const distinctSent = new Set(sentIndexes).size;
    const job: LoadJob = {
      url,
      secret: setup.secret,
      streamFile: setup.streamFile,
      baseSeconds: Math.floor(Date.now() / 1000),
      ...setup.load,
    };
    let loadDone = false;
    const settled = waitSettled(database.pool, probe, distinctSent, () => loadDone);
    const load =
      setup.load.transport === 'http'
        ? await runChild<LoadJob, LoadResult>('./load.ts', job, setup.dir)
        : await sendInProcess(setup.stream, job, subledger.webhooks.handle);
    loadDone = true;
    if (setup.workersAfterLoad) {
      workersStartedAt = Date.now();
      await subledger.startWorkers();
    }
    const settledAt = await settled;
    return { load, distinctSent, settledAt, workersStartedAt, ...(await figures(database.pool, probe)) };
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await subledger.close();
    await database.close();
  }
}

/** The web-standard handler called directly, as the peer's `processWebhook` is: no HTTP, no load process. */
function sendInProcess(stream: Stream, job: LoadJob, handle: (request: Request) => Promise<Response>) {
  const deliveries = signDeliveries(stream, job);
  return sendAll(deliveries, job.pace, async (delivery) => {
    const response = await handle(
      new Request(job.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'stripe-signature': delivery.signature,
        },
        body: delivery.body,
      }),
    );
    return answerOf(response.status, await response.text());
  });
}

/**
 * Polls the probe (free) until every event is committed, then the database, every 50 ms, for refetches
 * and jobs still to run: `exists` probes, so the polling itself costs the database next to nothing.
 * A delivery that was not acknowledged (its event never stored) cannot be waited for: once the load is
 * done, every stored event committed is enough, and the correctness table shows the missing one.
 */
async function waitSettled(
  pool: pg.Pool,
  probe: Probe,
  distinct: number,
  loadDone: () => boolean,
): Promise<number> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  // Counted once: no event arrives after the load, and a count every 50 ms costs a drain ~7% of a core.
  let storedAfterLoad: number | undefined;
  for (;;) {
    if (Date.now() > deadline) {
      const { rows } = await pool.query(
        `select (select count(*) from sync_refetches) as refetches,
                (select min(last_error) from sync_refetches) as refetch_error,
                (select count(*) from graphile_worker._private_jobs) as jobs,
                (select count(*) from stripe_events where status = 'pending') as pending`,
      );
      throw new Error(
        `not settled: ${probe.eventCommits.size}/${distinct} committed; left ${JSON.stringify(rows[0])}`,
      );
    }
    if (loadDone() && storedAfterLoad === undefined) storedAfterLoad = await stored(pool);
    if (probe.eventCommits.size >= Math.min(distinct, storedAfterLoad ?? distinct)) {
      const { rows } = await pool.query<{ busy: boolean }>(
        `select exists (select 1 from sync_refetches) or exists (select 1 from graphile_worker._private_jobs)
             or exists (select 1 from stripe_events where status = 'pending') as busy`,
      );
      if (rows[0]?.busy === false) return Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const stored = async (pool: pg.Pool) =>
  Number((await pool.query('select count(*) as n from stripe_events')).rows[0].n);

type EventRow = { id: string; object_type: string; object_id: string; outcome: string; received_ms: number };

async function figures(pool: pg.Pool, probe: Probe) {
  const events = (
    await pool.query<EventRow>(
      `select id, object_type, object_id, outcome, attempts, status,
              extract(epoch from received_at) * 1000 as received_ms from stripe_events`,
    )
  ).rows as (EventRow & { attempts: number; status: string })[];
  const fromPayload: number[] = [];
  const refetched: number[] = [];
  for (const event of events) {
    const committed = probe.eventCommits.get(event.id);
    if (committed === undefined) continue;
    const isRefetch = event.outcome === 'refetch' || event.outcome === 'refetched';
    const visible = isRefetch ? refetchCommitAfter(probe, event, committed) : committed;
    if (visible !== undefined)
      (isRefetch ? refetched : fromPayload).push(visible - Number(event.received_ms));
  }
  return {
    visibleMs: {
      all: summarize([...fromPayload, ...refetched]),
      fromPayload: summarize(fromPayload),
      refetched: summarize(refetched),
    },
    ackServerMs: summarize(probe.ackServerMs),
    outcomes: tally(events.map((event) => event.outcome ?? 'none')),
    statuses: tally(events.map((event) => event.status)),
    storedEvents: events.length,
    notOneAttempt: events.filter((event) => event.attempts !== 1).length,
    repeatedCommits: probe.commits - probe.eventCommits.size,
    refetchRequests: probe.refetchRequests,
    refetchRequestKinds: probe.refetchRequestKinds,
    stripeRequests: probe.stripeRequests,
    mirrorRows: await mirrorRows(pool),
  };
}

function refetchCommitAfter(probe: Probe, event: EventRow, committed: number): number | undefined {
  return probe.refetchCommits.get(`${event.object_type}|${event.object_id}`)?.find((at) => at >= committed);
}

const MIRROR_TABLES = [
  'customers',
  'subscriptions',
  'subscription_items',
  'invoices',
  'invoice_payments',
  'payment_intents',
  'active_entitlements',
  'account_customers',
];

async function mirrorRows(pool: pg.Pool): Promise<Record<string, number>> {
  const rows: Record<string, number> = {};
  for (const table of MIRROR_TABLES)
    rows[table] = Number((await pool.query(`select count(*) as n from ${table}`)).rows[0].n);
  return rows;
}
