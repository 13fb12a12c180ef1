import { z } from 'zod';
import type { Database } from '../store/index.ts';
import { encodeChanges, inTransaction, NOTIFY_CHANGES } from '../store/index.ts';
import { accountIdSchema, type Place } from '../sync/index.ts';

/** A use of a metered feature, as the app reports it. */
export type UsageRecord = {
  accountId: string;
  featureId: string;
  /** How many uses; a positive integer. */
  quantity: number;
  /** Makes a retried record count once: the same key is the same use. */
  idempotencyKey: string;
  /** When the use happened (Unix seconds); default now. */
  timestamp?: number;
};

export class UsageError extends Error {
  readonly code = 'usage_invalid';
}

const recordSchema = z.object({
  accountId: accountIdSchema,
  featureId: z.string().min(1).max(200),
  quantity: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  idempotencyKey: z.string().min(1).max(255),
  timestamp: z.number().int().nonnegative().optional(),
});

const INSERT = `
  insert into usage_events
    (account_id, stripe_account, livemode, feature_id, quantity, idempotency_key, occurred_at)
  values ($1, $2, $3, $4, $5, $6, to_timestamp($7))
  on conflict (stripe_account, livemode, idempotency_key) do nothing
  returning id`;

/**
 * Records a use and tells every process's access cache, in one transaction. Returns whether it was new:
 * false when its key was recorded before (the earlier record stands, whatever this one says).
 */
export async function recordUsage(database: Database, place: Place, usage: UsageRecord): Promise<boolean> {
  const parsed = recordSchema.safeParse(usage);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`usage ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'is invalid'}`);
  }
  const record = parsed.data;
  return inTransaction(database.pool, async (client) => {
    const { rowCount } = await client.query(INSERT, [
      record.accountId,
      place.stripeAccount,
      place.livemode,
      record.featureId,
      record.quantity,
      record.idempotencyKey,
      record.timestamp ?? Date.now() / 1000,
    ]);
    if (rowCount)
      await client.query(NOTIFY_CHANGES, [encodeChanges([{ kind: 'usage', id: record.accountId }])]);
    return Boolean(rowCount);
  });
}

/** An account's feature and the start of its current window (Unix seconds). */
export type UsageWindow = { accountId: string; featureId: string; since: number };

const SUMS = `
  select w.account_id, w.feature_id, coalesce(sum(u.quantity), 0)::bigint as used
  from unnest($3::text[], $4::text[], $5::float8[]) as w(account_id, feature_id, since)
  left join usage_events u
    on u.account_id = w.account_id and u.stripe_account = $1 and u.livemode = $2
   and u.feature_id = w.feature_id and u.occurred_at >= to_timestamp(w.since)
  group by w.account_id, w.feature_id`;

/**
 * Uses of each feature since its window's start, by account then feature: one statement for any number
 * of accounts and features.
 */
export async function usageSince(
  database: Database,
  place: Place,
  windows: readonly UsageWindow[],
): Promise<Map<string, Map<string, number>>> {
  const usage = new Map<string, Map<string, number>>();
  if (windows.length === 0) return usage;
  const { rows } = await database.pool.query<{ account_id: string; feature_id: string; used: number }>(SUMS, [
    place.stripeAccount,
    place.livemode,
    windows.map((window) => window.accountId),
    windows.map((window) => window.featureId),
    windows.map((window) => window.since),
  ]);
  for (const row of rows) {
    const features = usage.get(row.account_id) ?? new Map<string, number>();
    features.set(row.feature_id, row.used);
    usage.set(row.account_id, features);
  }
  return usage;
}
