/**
 * Writes the bench's accounts straight into the mirror tables, as a backfill would have left them:
 * creating 100,000 customers through the emulator and the sync engine would take the whole run. Each
 * chunk is one transaction whose statements take the chunk's objects as one JSON array and derive the
 * typed columns in SQL from the objects themselves.
 */
import pg from 'pg';
import { PLATFORM } from '../src/store/index.ts';
import type { Profile } from './access-data.ts';
import { catalogObjects, customerObject, openInvoiceObject, subscriptionObject } from './access-objects.ts';

const CHUNK = 5_000;

/** `to_timestamp` of a Unix-seconds JSON field; null stays null. */
const at = (field: string) => `to_timestamp((o->>'${field}')::bigint)`;
const MIRROR = `$2, false, o, $3, 'fetch'`;

const INSERT_CUSTOMERS = `
  insert into customers (id, stripe_account, livemode, data, last_event_created, source, email, name, created_at)
  select o->>'id', ${MIRROR}, o->>'email', o->>'name', ${at('created')}
  from jsonb_array_elements($1::jsonb) as o`;

const INSERT_LINKS = `
  insert into account_customers (account_id, stripe_account, livemode, customer_id, source)
  select o->'metadata'->>'subledger_account_id', $2, false, o->>'id', 'customer_metadata'
  from jsonb_array_elements($1::jsonb) as o`;

const INSERT_SUBSCRIPTIONS = `
  insert into subscriptions (id, stripe_account, livemode, data, last_event_created, source, customer_id, status,
                             current_period_end_at, cancel_at_period_end, trial_end_at)
  select o->>'id', ${MIRROR}, o->>'customer', o->>'status',
         (select min(to_timestamp((i->>'current_period_end')::bigint)) from jsonb_array_elements(o->'items'->'data') i),
         (o->>'cancel_at_period_end')::boolean, ${at('trial_end')}
  from jsonb_array_elements($1::jsonb) as o`;

const INSERT_ITEMS = `
  insert into subscription_items (id, stripe_account, livemode, data, last_event_created, source, subscription_id,
                                  price_id, quantity, current_period_end_at)
  select o->>'id', ${MIRROR}, o->>'subscription', o->'price'->>'id', (o->>'quantity')::int, ${at('current_period_end')}
  from jsonb_array_elements($1::jsonb) as s, jsonb_array_elements(s->'items'->'data') as o`;

const INSERT_INVOICES = `
  insert into invoices (id, stripe_account, livemode, data, last_event_created, source, customer_id, subscription_id,
                        status, billing_reason, currency, amount_due, amount_paid, period_end_at)
  select o->>'id', ${MIRROR}, o->>'customer', o->'parent'->'subscription_details'->>'subscription',
         o->>'status', o->>'billing_reason', o->>'currency', (o->>'amount_due')::bigint, (o->>'amount_paid')::bigint,
         ${at('period_end')}
  from jsonb_array_elements($1::jsonb) as o`;

const INSERT_PRODUCTS = `
  insert into products (id, stripe_account, livemode, data, last_event_created, source, active, name)
  select o->>'id', ${MIRROR}, (o->>'active')::boolean, o->>'name' from jsonb_array_elements($1::jsonb) as o`;

const INSERT_PRICES = `
  insert into prices (id, stripe_account, livemode, data, last_event_created, source, product_id, active, lookup_key,
                      type, currency, unit_amount, recurring_interval)
  select o->>'id', ${MIRROR}, o->>'product', (o->>'active')::boolean, o->>'lookup_key', o->>'type', o->>'currency',
         (o->>'unit_amount')::bigint, o->'recurring'->>'interval'
  from jsonb_array_elements($1::jsonb) as o`;

const INSERT_USES = `
  insert into usage_events (account_id, stripe_account, livemode, feature_id, quantity, idempotency_key, occurred_at)
  select u.account_id, $1, false, 'api_calls', u.quantity, u.key, to_timestamp(u.at)
  from unnest($2::text[], $3::bigint[], $4::text[], $5::float8[]) as u(account_id, quantity, key, at)`;

export type SeedResult = { elapsedMs: number; rows: Record<string, number> };

/** Seeds `profiles` into the mirror of the database at `url` (migrated, empty). */
export async function seedMirror(
  url: string,
  profiles: readonly Profile[],
  now: number,
): Promise<SeedResult> {
  const started = performance.now();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { products, prices } = catalogObjects();
    await client.query(INSERT_PRODUCTS, [JSON.stringify(products), PLATFORM, now]);
    await client.query(INSERT_PRICES, [JSON.stringify(prices), PLATFORM, now]);
    // Postgres works on one chunk while this process builds the next one's objects.
    let writing: Promise<void> = Promise.resolve();
    for (let from = 0; from < profiles.length; from += CHUNK) {
      const chunk = chunkOf(profiles.slice(from, from + CHUNK));
      await writing;
      writing = writeChunk(client, chunk, now);
    }
    await writing;
    await client.query('analyze');
    return { elapsedMs: performance.now() - started, rows: await rowCounts(client) };
  } finally {
    await client.end();
  }
}

type Uses = { accountIds: string[]; quantities: number[]; keys: string[]; occurredAt: number[] };
type Chunk = { customers: string; subscriptions: string; invoices: string; uses: Uses };

function chunkOf(profiles: readonly Profile[]): Chunk {
  const uses: Uses = { accountIds: [], quantities: [], keys: [], occurredAt: [] };
  const push = (accountId: string, quantity: number, key: string, at: number) => {
    uses.accountIds.push(accountId);
    uses.quantities.push(quantity);
    uses.keys.push(key);
    uses.occurredAt.push(at);
  };
  for (const profile of profiles) {
    for (const [n, quantity] of profile.uses.entries())
      push(profile.accountId, quantity, `${profile.accountId}-${n}`, profile.periodStart + 3_600 * (n + 1));
    // A use from before the current window, which a check must not count.
    push(profile.accountId, 1_000, `${profile.accountId}-before`, profile.periodStart - 3_600);
  }
  return {
    customers: JSON.stringify(profiles.map(customerObject)),
    subscriptions: JSON.stringify(profiles.map(subscriptionObject)),
    invoices: JSON.stringify(profiles.flatMap((profile) => openInvoiceObject(profile) ?? [])),
    uses,
  };
}

async function writeChunk(client: pg.Client, chunk: Chunk, now: number): Promise<void> {
  await client.query('begin');
  await client.query(INSERT_CUSTOMERS, [chunk.customers, PLATFORM, now]);
  await client.query(INSERT_LINKS, [chunk.customers, PLATFORM]);
  await client.query(INSERT_SUBSCRIPTIONS, [chunk.subscriptions, PLATFORM, now]);
  await client.query(INSERT_ITEMS, [chunk.subscriptions, PLATFORM, now]);
  await client.query(INSERT_INVOICES, [chunk.invoices, PLATFORM, now]);
  const { accountIds, quantities, keys, occurredAt } = chunk.uses;
  await client.query(INSERT_USES, [PLATFORM, accountIds, quantities, keys, occurredAt]);
  await client.query('commit');
}

const TABLES = [
  'account_customers',
  'customers',
  'subscriptions',
  'subscription_items',
  'invoices',
  'usage_events',
];

async function rowCounts(client: pg.Client): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES)
    counts[table] = Number((await client.query(`select count(*) as n from ${table}`)).rows[0].n);
  return counts;
}
