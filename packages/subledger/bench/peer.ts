/**
 * The peer, `@supabase/stripe-sync-engine` 0.48.5, fed the same signed stream, run as its own process
 * (`node peer.ts <job.json>`). It has no inbox: `processWebhook(body, signature)` verifies and upserts
 * inside the call, so the rate at which calls return is the rate at which it applies events.
 *
 * Its Stripe calls are all off: `revalidateObjectsViaStripeApi: []` (never refetch an object instead of
 * using the payload), `backfillRelatedEntities: false` (never fetch a missing customer, invoice … first)
 * and `autoExpandLists: false` (never page through `items`/`lines` beyond the payload). Every request its
 * client starts is counted, to show that none is.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import pg from 'pg';
import { type Stream, signDeliveries } from './event-stream.ts';
import { type LoadResult, sendAll } from './senders.ts';

export type PeerJob = {
  databaseUrl: string;
  streamFile: string;
  secret: string;
  baseSeconds: number;
  inFlight: number;
};

export type PeerResult = {
  load: LoadResult;
  errors: Record<string, number>;
  stripeRequests: number;
  rows: Record<string, number>;
  migrateMs: number;
};

type PeerModule = typeof import('@supabase/stripe-sync-engine');

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

  const stream = JSON.parse(readFileSync(job.streamFile, 'utf8')) as Stream;
  const deliveries = signDeliveries(stream, job);
  const errors: Record<string, number> = {};
  const load = await sendAll(deliveries, { mode: 'burst', lanes: job.inFlight }, async (delivery) => {
    try {
      await sync.processWebhook(delivery.body, delivery.signature);
      return { status: 200, duplicate: false };
    } catch (error) {
      const message = error instanceof Error ? error.message.slice(0, 80) : String(error);
      errors[message] = (errors[message] ?? 0) + 1;
      return { status: 500, duplicate: false };
    }
  });
  await sync.close();
  return {
    load,
    errors,
    stripeRequests,
    rows: await countRows(job.databaseUrl),
    migrateMs,
  };
}

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
