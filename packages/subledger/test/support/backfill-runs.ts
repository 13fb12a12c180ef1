import { EMULATOR_KEY } from '../../src/cli/local-stripe.ts';
import { type BackfillOptions, backfill } from '../../src/sync/backfill.ts';
import { KIND_NAMES } from '../../src/sync/kinds.ts';
import { MIRROR_TABLES } from './auditor.ts';
import { createBillingHistory } from './billing-history.ts';
import { recordingClient } from './recording-stripe.ts';
import { type Stack, startStack } from './stack.ts';

const PLACE = { stripeAccount: 'platform', livemode: false };
export const BACKFILL_CONTEXT = { accountKeys: ['subledger_account_id'] };

/** Backfills of a stack's emulator into its database, and what to check them with. */
export function backfillRuns(stack: Stack) {
  /** A Stripe client on the emulator that records every request it completes. */
  const countingStripe = () => recordingClient(stack.emulator.url, EMULATOR_KEY);
  const run = (options: Partial<BackfillOptions> = {}) =>
    backfill({
      database: stack.database,
      stripe: countingStripe().stripe,
      context: BACKFILL_CONTEXT,
      place: PLACE,
      requestsPerSecond: 1000,
      ...options,
    });
  return {
    countingStripe,
    run,
    emptyMirror: () => emptyMirror(stack),
    stripeCounts: () => stripeCounts(stack),
  };
}

/**
 * Empties the mirror. The stack's readers (access cache, jobs) may hold one of these tables while
 * waiting for another, so the truncate can lose a deadlock; Postgres then aborts it and it is tried again.
 */
async function emptyMirror(stack: Stack): Promise<void> {
  const tables = [...MIRROR_TABLES, 'account_customers', 'sync_checkpoints'].join(', ');
  for (let attempt = 1; ; attempt++) {
    try {
      await stack.database.pool.query(`truncate ${tables}`);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '40P01' || attempt === 5) throw error;
    }
  }
}

/** How many objects of each kind the emulator holds (deleted customers and products excluded). */
function stripeCounts(stack: Stack): Record<string, number> {
  const partition = stack.emulator.emulator.partition(null, false);
  const counts: Record<string, number> = {};
  for (const kind of KIND_NAMES) {
    const table = kind === 'entitlements.active_entitlement_summary' ? 'customer' : kind;
    counts[kind] = partition.table(table).size;
  }
  return counts;
}

export type BackfillStack = { stack: Stack; runs: ReturnType<typeof backfillRuns> };

/**
 * A stack with no webhook endpoint, so the emulator's billing history reaches Subledger only through
 * the backfill, and the backfills of it.
 */
export async function backfillStack(history: {
  customers: number;
  clocks: number[];
}): Promise<BackfillStack> {
  const stack = await startStack({ webhookEndpoint: false });
  await createBillingHistory(stack.stripe, stack.emulator.url, history);
  return { stack, runs: backfillRuns(stack) };
}
