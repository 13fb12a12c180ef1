import type pg from 'pg';
import type Stripe from 'stripe';
import type { FaultOptions } from 'stripe-emulator';
import { PLATFORM } from '../../src/store/index.ts';
import type { DriftItem, DriftProblem } from '../../src/sync/drift.ts';
import { isKindName } from '../../src/sync/kinds.ts';
import { reconcile } from '../../src/sync/reconcile.ts';
import { installWriteLog } from './apply-audit.ts';
import type { Difference, Problem } from './auditor.ts';
import { testDatabase } from './database.ts';
import { setFaults } from './delivery-faults.ts';
import { type Stack, type StackOptions, startStack } from './stack.ts';
import { runWorkload, type WorkloadOptions, workloadIn } from './workload.ts';

export type ChaosSetup = {
  /** Runs on the new database before the first event arrives (e.g. a test-only trigger). */
  prepare?: (pool: pg.Pool) => Promise<void>;
  workload?: (stack: Stack) => Omit<WorkloadOptions, 'seed'>;
  /** The workload's calls meet none of the emulator's API faults; Subledger's do. */
  exemptWorkload?: boolean;
  /** Where the workload bills (default: the platform in test mode; see `StackOptions.place`). */
  place?: StackOptions['place'];
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
  // The API faults start once the stack is up: registering its webhook endpoints is the test's set-up,
  // and its requests are not Subledger's to count.
  const { api, ...deliveryFaults } = faults;
  const stack = await startStack({
    database,
    faults: deliveryFaults,
    seed,
    exemptFromApiFaults: setup.exemptWorkload,
    ...(setup.place ? { place: setup.place } : {}),
  });
  try {
    if (api) await setFaults(stack.emulator.url, { api });
    await runWorkload(stack.stripe, stack.emulator.url, {
      ...workloadIn(stack.place.livemode, stack.place.stripeAccount !== PLATFORM),
      ...setup.workload?.(stack),
      seed,
    });
    await stack.settle();
    await run(stack);
  } finally {
    await stack.close();
    await database.drop();
  }
}

/** How reconcile names each problem the auditor finds. */
const RECONCILE_PROBLEM: Record<Problem, DriftProblem> = {
  missing: 'missing_in_mirror',
  unexpected: 'missing_in_stripe',
  not_deleted: 'missing_in_stripe',
  different: 'different',
  wrongly_deleted: 'different',
};

/** The auditor's differences, of the kinds reconcile reads, that reconcile's drift does not report. */
export function unreportedDrift(
  differences: readonly Difference[],
  drift: readonly DriftItem[],
): Difference[] {
  const reported = new Set(drift.map((item) => `${item.kind} ${item.id} ${item.problem}`));
  return differences
    .filter((difference) => isKindName(difference.kind))
    .filter(({ kind, id, problem }) => !reported.has(`${kind} ${id} ${RECONCILE_PROBLEM[problem]}`));
}

/** Reconcile of the stack's place with fixes, through Subledger's own Stripe client. */
export function reconcileWithFixes(stack: Stack) {
  return reconcile({
    database: stack.database,
    stripe: stack.subledger.stripe as Stripe,
    context: { accountKeys: ['subledger_account_id'] },
    place: stack.place,
    fix: true,
    requestsPerSecond: 1000,
  });
}
