/**
 * The peer, `@supabase/stripe-sync-engine` 0.48.5, fed the same signed stream, run as its own process
 * (`node peer.ts <job.json>`). It has no inbox: `processWebhook(body, signature)` verifies and upserts
 * inside the call, so the rate at which calls return is the rate at which it applies events.
 *
 * It is fed in one of two ways. `in-process`: this process calls `processWebhook` itself. `http`: a
 * webhook route on the same HTTP stack as Subledger's (Hono on `@hono/node-server`) calls it with the raw
 * body and answers once it returns, and `load.ts` sends the deliveries from its own process, as it does
 * to Subledger. The peer's pool holds `inFlight` connections either way.
 *
 * Its Stripe calls are all off: `revalidateObjectsViaStripeApi: []` (never refetch an object instead of
 * using the payload), `backfillRelatedEntities: false` (never fetch a missing customer, invoice … first)
 * and `autoExpandLists: false` (never page through `items`/`lines` beyond the payload). Every request its
 * client starts is counted, to show that none is.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import pg from 'pg';
import { runChild } from './children.ts';
import { type Stream, signDeliveries } from './event-stream.ts';
import type { LoadJob } from './load.ts';
import { type Answer, type LoadResult, sendAll } from './senders.ts';

export type PeerJob = {
  databaseUrl: string;
  streamFile: string;
  secret: string;
  baseSeconds: number;
  inFlight: number;
  transport: { kind: 'in-process' } | { kind: 'http'; connections: number };
};

export type PeerResult = {
  load: LoadResult;
  errors: Record<string, number>;
  stripeRequests: number;
  rows: Record<string, number>;
  migrateMs: number;
};

type PeerModule = typeof import('@supabase/stripe-sync-engine');
type Apply = (body: string, signature: string) => Promise<Answer>;

// The ESM build's `runMigrations` resolves its SQL folder with `__dirname`, which ESM lacks: it logs the
// ReferenceError and returns with nothing migrated. The CommonJS build has `__dirname`.
const peer = createRequire(import.meta.url)('@supabase/stripe-sync-engine') as PeerModule;

const TABLES = ['customers', 'subscriptions', 'subscription_items', 'invoices', 'payment_intents'];

async function run(job: PeerJob): Promise<PeerResult> {
  const migrateStarted = performance.now();
  await peer.runMigrations({ databaseUrl: job.databaseUrl, schema: 'stripe' });
  const migrateMs = performance.now() - migrateStarted;
  const sync = new peer.StripeSync({
    poolConfig: { connectionString: job.databaseUrl, max: job.inFlight },
    stripeSecretKey: 'sk_test_peer_offline',
    stripeWebhookSecret: job.secret,
    revalidateObjectsViaStripeApi: [],
    backfillRelatedEntities: false,
    autoExpandLists: false,
  });
  let stripeRequests = 0;
  sync.stripe.on('request', () => stripeRequests++);

  const errors: Record<string, number> = {};
  const apply: Apply = async (body, signature) => {
    try {
      await sync.processWebhook(body, signature);
      return { status: 200, duplicate: false };
    } catch (error) {
      const message = error instanceof Error ? error.message.slice(0, 80) : String(error);
      errors[message] = (errors[message] ?? 0) + 1;
      return { status: 500, duplicate: false };
    }
  };
  const load =
    job.transport.kind === 'http'
      ? await overHttp(job, job.transport.connections, apply)
      : await inProcess(job, apply);
  await sync.close();
  return {
    load,
    errors,
    stripeRequests,
    rows: await countRows(job.databaseUrl),
    migrateMs,
  };
}

function inProcess(job: PeerJob, apply: Apply): Promise<LoadResult> {
  const stream = JSON.parse(readFileSync(job.streamFile, 'utf8')) as Stream;
  const deliveries = signDeliveries(stream, job);
  return sendAll(deliveries, { mode: 'burst', lanes: job.inFlight }, (delivery) =>
    apply(delivery.body, delivery.signature),
  );
}

async function overHttp(job: PeerJob, connections: number, apply: Apply): Promise<LoadResult> {
  const app = new Hono().post('/webhooks', async (c) => {
    const answer = await apply(await c.req.text(), c.req.header('stripe-signature') ?? '');
    return c.json({ received: answer.status === 200 }, answer.status === 200 ? 200 : 500);
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  try {
    return await runChild<LoadJob, LoadResult>(
      './load.ts',
      {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`,
        secret: job.secret,
        streamFile: job.streamFile,
        baseSeconds: job.baseSeconds,
        from: 0,
        count: deliveriesIn(job.streamFile),
        pace: { mode: 'burst', lanes: connections },
      },
      path.dirname(job.streamFile),
    );
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** How many deliveries the stream holds; the stream itself is not kept while the load runs. */
const deliveriesIn = (streamFile: string) =>
  (JSON.parse(readFileSync(streamFile, 'utf8')) as Stream).deliveries.length;

async function countRows(url: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const rows: Record<string, number> = {};
    for (const table of TABLES)
      rows[table] = Number((await client.query(`select count(*) as n from stripe.${table}`)).rows[0].n);
    return rows;
  } finally {
    await client.end();
  }
}

const jobFile = process.argv[2];
if (!jobFile) throw new Error('usage: node peer.ts <job.json>');
const result = await run(JSON.parse(readFileSync(jobFile, 'utf8')) as PeerJob);
process.stdout.write(`${JSON.stringify(result)}\n`);
