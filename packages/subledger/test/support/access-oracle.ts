import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import type pg from 'pg';
import type Stripe from 'stripe';
import { loadConfig } from '../../src/config/index.ts';
import { PLATFORM } from '../../src/store/index.ts';
import { createSubledger } from '../../src/subledger.ts';
import { backfill } from '../../src/sync/backfill.ts';
import type { Place } from '../../src/sync/index.ts';
import { createLogger } from '../../src/telemetry/index.ts';
import { testDatabase } from './database.ts';
import type { Stack } from './stack.ts';

/**
 * Derived access, checked against Stripe: what a stack's access checks answer, from its per-process
 * cache, must be what a new Subledger answers once it backfilled the emulator's state into an empty
 * database. A change notice lost, or a cache entry loaded before a change and kept after it, would
 * leave an answer behind the mirror; a link or a row applied wrongly, behind Stripe.
 */

/**
 * The accounts of `place` linked to a live customer in a mirror. A deleted customer keeps its link, its
 * billing ended; Stripe's lists leave deleted customers out, so a backfill cannot know it.
 */
async function linkedAccounts(pool: pg.Pool, place: Place): Promise<string[]> {
  const { rows } = await pool.query<{ account_id: string }>(
    `select a.account_id from account_customers a
     join customers c on c.id = a.customer_id and c.stripe_account = a.stripe_account and c.livemode = a.livemode
     where a.stripe_account = $1 and a.livemode = $2 and not c.deleted order by a.account_id`,
    [place.stripeAccount, place.livemode],
  );
  return rows.map((row) => row.account_id);
}

/** Access is answered for the platform's accounts, in the mode of Subledger's key. */
function platformPlace(stack: Stack): Place {
  assert.equal(stack.place.stripeAccount, PLATFORM, 'access is answered for the platform only');
  return stack.place;
}

/**
 * Loads every linked account's access into the stack's cache, so that the changes after it must reach
 * the cache by notice (its TTL outlasts a run). Called between the workload's steps.
 */
export async function warmAccessCache(stack: Stack): Promise<void> {
  for (const account of await linkedAccounts(stack.database.pool, platformPlace(stack)))
    await stack.subledger.access.entitlements(account);
}

/** Asserts each linked account's access as the stack serves it equals a backfill's; returns how many. */
export async function assertAccessAsBackfilled(stack: Stack): Promise<number> {
  const place = platformPlace(stack);
  const accounts = await linkedAccounts(stack.database.pool, place);
  const served = await Promise.all(accounts.map((account) => stack.subledger.access.entitlements(account)));
  const database = await testDatabase();
  const config = loadConfig({
    STRIPE_SECRET_KEY: stack.subledger.config.stripeSecretKey as string,
    STRIPE_API_BASE: stack.emulator.url,
    LOG_LEVEL: 'silent',
    SUBLEDGER_RECONCILE_MINUTES: '0',
  });
  const fresh = await createSubledger({ config, database, logger: createLogger('silent') });
  try {
    await backfill({
      database,
      stripe: fresh.stripe as Stripe,
      context: { accountKeys: config.accountKeys },
      place,
      requestsPerSecond: 1000,
    });
    await fresh.credits.grantPending();
    assert.deepEqual(await linkedAccounts(database.pool, place), accounts, 'the accounts a backfill links');
    const backfilled = await Promise.all(accounts.map((account) => fresh.access.entitlements(account)));
    assert.deepEqual(
      accounts.filter((_, index) => !isDeepStrictEqual(served[index], backfilled[index])),
      [],
      'accounts whose access differs from a backfill of Stripe',
    );
    assert.deepEqual(served, backfilled);
    return accounts.length;
  } finally {
    await fresh.close();
    await database.drop();
  }
}
