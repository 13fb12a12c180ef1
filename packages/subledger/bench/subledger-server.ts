/**
 * Subledger under measurement, in a process of its own (`node subledger-server.ts <job.json>`, with an
 * IPC channel): the HTTP server, inbox workers and refetch jobs as `subledger start` runs them, and the
 * probes. Its heap holds what a server holds, not the bench's event stream. It warms up first (`warming`
 * with a scratch server's URL, until `warmed`), then says `listening` with its webhook URL, waits for
 * `loaded` (the load process is done; for the in-process transport it sends the deliveries itself),
 * waits until every event is settled, and sends its figures.
 */

import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type pg from 'pg';
import { startWorkerThread, type WorkerThread } from '../src/cli/worker-thread.ts';
import { loadConfig } from '../src/config/index.ts';
import { connect } from '../src/store/index.ts';
import { createSubledger } from '../src/subledger.ts';
import { CommitGate } from '../src/sync/index.ts';
import { createLogger } from '../src/telemetry/index.ts';
import { type Stream, signDeliveries } from './event-stream.ts';
import type { LoadJob } from './load.ts';
import { newProbe, type Probe } from './probes.ts';
import { answerOf, sendAll } from './senders.ts';
import { summarize, tally } from './stats.ts';
import type { ServerJob, ServerMessage, ServerResult, ToServer } from './subledger-phase.ts';
import { controlChannel } from './workers-control.ts';

const SETTLE_TIMEOUT_MS = 90_000;

const configFor = (databaseUrl: string, setup: ServerJob) =>
  loadConfig({
    DATABASE_URL: databaseUrl,
    STRIPE_SECRET_KEY: setup.stripeKey,
    STRIPE_API_BASE: setup.stripeUrl,
    STRIPE_WEBHOOK_SECRET: setup.secret,
    LOG_LEVEL: 'silent',
    ...setup.environment,
  });

/** Subledger on `databaseUrl`, served over HTTP, as `subledger start` runs it (its workers apart). */
async function startServing(databaseUrl: string, setup: ServerJob, commitGate: CommitGate) {
  const database = connect(databaseUrl);
  const config = configFor(databaseUrl, setup);
  const subledger = await createSubledger({
    config,
    database,
    logger: createLogger(process.env.BENCH_LOG ?? 'silent'),
    commitGate,
  });
  const server = serve({ fetch: subledger.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return {
    database,
    subledger,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await subledger.close();
      await database.close();
    },
  };
}

/**
 * A server that has run a while has compiled its hot paths and sized its heap. This process has not:
 * it first serves the bench's load for a few seconds on a scratch database, its workers' thread
 * working there too, then lets it all go.
 */
async function warmUp(
  setup: ServerJob,
  control: ReturnType<typeof controlChannel>,
  commitGate: CommitGate,
): Promise<void> {
  const warm = await startServing(setup.warmupDatabaseUrl, setup, commitGate);
  try {
    await control.next('open');
    control.send('warm');
    await control.next('warm-started');
    const warmed = nextMessage('warmed');
    send({ type: 'warming', url: warm.url });
    await warmed;
    control.send('warmed');
    await control.next('cooled');
  } finally {
    await warm.close();
  }
  (globalThis as { gc?: () => void }).gc?.();
}

/** The workers' thread, as `subledger start` runs it, on the bench's entry (warm-up and probe). */
function workersThread(setup: ServerJob, commitGate: CommitGate) {
  const starting = startWorkerThread({
    config: configFor(setup.databaseUrl, setup),
    databaseUrl: setup.databaseUrl,
    commitGate,
    entry: new URL('./subledger-workers.ts', import.meta.url),
    extraData: { warmupDatabaseUrl: setup.warmupDatabaseUrl },
    onFailure: (error) => {
      console.error('The workers failed:', error);
      process.exit(1);
    },
  });
  // Awaited once the workers are told to go; a failure before that ends the phase there.
  starting.catch((error: unknown) => {
    console.error('The workers could not start:', error);
    process.exit(1);
  });
  return starting;
}

async function serveAndMeasure(setup: ServerJob): Promise<ServerResult> {
  const control = controlChannel();
  // As `subledger start` shares it: the workers' statements yield to the inbox's commits.
  const commitGate = new CommitGate();
  const starting = workersThread(setup, commitGate);
  await warmUp(setup, control, commitGate);
  const { database, subledger, url, close } = await startServing(setup.databaseUrl, setup, commitGate);
  const observing = newProbe(subledger.metrics);
  const { probe } = observing;
  let workers: WorkerThread | undefined;
  let workersStartedAt = Date.now();
  const startWorkers = async () => {
    workersStartedAt = Date.now();
    control.send('go');
    workers = await starting;
  };
  if (!setup.workersAfterLoad) await startWorkers();
  try {
    let loadDone = false;
    const settled = waitSettled(database.pool, probe, setup.sentEventIds.length, () => loadDone);
    const loaded = nextMessage('loaded');
    send({ type: 'listening', url });
    const load =
      setup.load.transport === 'http'
        ? ((await loaded) as Extract<ToServer, { type: 'loaded' }>).load
        : await sendInProcess(
            {
              ...setup.load,
              url,
              secret: setup.secret,
              streamFile: setup.streamFile,
              baseSeconds: setup.baseSeconds,
            },
            subledger.webhooks.handle,
          );
    loadDone = true;
    if (setup.workersAfterLoad) await startWorkers();
    const settledAt = await settled;
    await observing.flush();
    const measured = await figures(database.pool, probe, setup.sentEventIds);
    return { load, distinctSent: setup.sentEventIds.length, settledAt, workersStartedAt, ...measured };
  } finally {
    await workers?.stop();
    observing.close();
    control.close();
    await close();
  }
}

/** The web-standard handler called directly, as the peer's `processWebhook` is: no HTTP, no load process. */
function sendInProcess(job: LoadJob, handle: (request: Request) => Promise<Response>) {
  const stream = JSON.parse(readFileSync(job.streamFile, 'utf8')) as Stream;
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

async function figures(pool: pg.Pool, probe: Probe, sentEventIds: string[]) {
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
    inboxWaitMs: summarize(probe.inboxWaitMs),
    inboxCommitMs: summarize(probe.inboxCommitMs),
    eventsPerCommit: summarize(probe.inboxCommitEvents),
    outcomes: tally(events.map((event) => event.outcome ?? 'none')),
    statuses: tally(events.map((event) => event.status)),
    storedEvents: events.length,
    notStored: notIn(sentEventIds, new Set(events.map((event) => event.id))),
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

// Last, so that every declaration above is initialised before the run uses it.
const job = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as ServerJob;
const send = (message: ServerMessage) => process.send?.(message);
function nextMessage(type: ToServer['type']): Promise<ToServer> {
  return new Promise((resolve) => {
    const listener = (message: ToServer) => {
      if (message.type !== type) return;
      process.off('message', listener);
      resolve(message);
    };
    process.on('message', listener);
  });
}
send({ type: 'result', result: await serveAndMeasure(job) });
process.disconnect();

function notIn(ids: string[], held: Set<string>): string[] {
  return ids.filter((id) => !held.has(id));
}
