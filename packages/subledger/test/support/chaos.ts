import type pg from 'pg';
import type Stripe from 'stripe';
import type { FaultOptions } from 'stripe-emulator';
import { reconcile } from '../../src/sync/reconcile.ts';
import { installWriteLog } from './apply-audit.ts';
import { testDatabase } from './database.ts';
import { type Stack, startStack } from './stack.ts';
import { runWorkload, type WorkloadOptions } from './workload.ts';

export type ChaosSetup = {
  /** Runs on the new database before the first event arrives (e.g. a test-only trigger). */
  prepare?: (pool: pg.Pool) => Promise<void>;
  workload?: (stack: Stack) => Omit<WorkloadOptions, 'seed'>;
  /** The workload's calls meet none of the emulator's API faults; Subledger's do. */
  exemptWorkload?: boolean;
};

/**
 * One chaos run: a fresh database with the write log, the stack with the emulator's delivery faults,
 * the seeded workload driven through the SDK until everything settled; then `run` inspects the result.
 */
export async function chaosRun(
  faults: FaultOptions,
  seed: number,
  run: (stack: Stack) => Promise<void>,
  setup: ChaosSetup = {},
): Promise<void> {
  const database = await testDatabase();
  await installWriteLog(database.pool);
  await setup.prepare?.(database.pool);
  const stack = await startStack({ database, faults, seed, exemptFromApiFaults: setup.exemptWorkload });
  try {
    await runWorkload(stack.stripe, stack.emulator.url, { ...setup.workload?.(stack), seed });
    await stack.settle();
    await run(stack);
  } finally {
    await stack.close();
    await database.drop();
  }
}

/** Reconcile of the stack's platform test mode with fixes, through Subledger's own Stripe client. */
export function reconcileWithFixes(stack: Stack) {
  return reconcile({
    database: stack.database,
    stripe: stack.subledger.stripe as Stripe,
    context: { accountKeys: ['subledger_account_id'] },
    place: { stripeAccount: 'platform', livemode: false },
    fix: true,
    requestsPerSecond: 1000,
  });
}
