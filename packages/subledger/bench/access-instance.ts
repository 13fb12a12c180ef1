import { loadConfig } from '../src/config/index.ts';
import { createSubledger, type Subledger } from '../src/subledger.ts';
import { createLogger } from '../src/telemetry/index.ts';
import { accountIdOf, benchCatalog } from './access-data.ts';

/**
 * Subledger as an app embeds it for access only: the bench catalog, no Stripe key (so no Stripe client),
 * no workers. Its access service listens for the mirror's changes from the start.
 */
export function openSubledger(databaseUrl: string): Promise<Subledger> {
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'silent',
    SUBLEDGER_DEMO: '0',
    SUBLEDGER_RECONCILE_MINUTES: '0',
  });
  return createSubledger({
    config,
    catalog: benchCatalog,
    logger: createLogger(process.env.BENCH_LOG ?? 'silent'),
  });
}

/**
 * Loads the population's first `count` accounts into the access cache, `inFlight` at a time: the misses of one event-loop turn share
 * one statement, so a chunk of 1,000 costs one read of the facts (and one usage sum per account).
 */
export async function warmAccounts(subledger: Subledger, count: number, inFlight = 1_000): Promise<number> {
  const started = performance.now();
  for (let from = 0; from < count; from += inFlight) {
    const chunk = Array.from({ length: Math.min(inFlight, count - from) }, (_, n) => accountIdOf(from + n));
    await Promise.all(chunk.map((id) => subledger.access.entitlements(id)));
  }
  return performance.now() - started;
}

/** The child processes' common ending: collect, so that a measurement starts with nothing to collect. */
export const collect = () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
};

/**
 * Epoch milliseconds, monotonic within a process and comparable across the processes of one machine:
 * each process's `timeOrigin` is the wall clock read once at its start.
 */
export const sharedClock = () => performance.timeOrigin + performance.now();
