import { connect, migrate } from '../src/store/index.ts';
import { createStripeClient } from '../src/stripe/index.ts';
import { backfill } from '../src/sync/backfill.ts';
import { KIND_NAMES, type KindName } from '../src/sync/kinds.ts';
import type { EmulatorProcess } from './emulator.ts';

export type BackfillRun = {
  requestsPerSecond: number;
  what: string;
  objects: number;
  requests: number;
  elapsedMs: number;
  byKind: Record<string, number>;
};

type Setup = { emulator: EmulatorProcess; databaseUrl: (name: string) => Promise<string> };

const SUMMARIES: KindName = 'entitlements.active_entitlement_summary';
const LISTED = KIND_NAMES.filter((kind) => kind !== SUMMARIES);

class EnoughRead extends Error {}

/**
 * `backfill` into a fresh database from the populated emulator. At 1000 requests/s it reads everything.
 * At 25/s (Stripe's test-mode limit) a full read would take minutes, because entitlement summaries have
 * no account-wide list and cost one request per customer; so the listed kinds are read in full and the
 * summaries for their first page of 100 customers only.
 */
export async function measureBackfill(setup: Setup): Promise<BackfillRun[]> {
  return [
    await run(setup, 25, 'listed kinds (100 per page)', { kinds: LISTED }),
    await run(setup, 25, 'entitlement summaries (1 request each), first 100', {
      kinds: [SUMMARIES],
      stopAfterPages: 1,
    }),
    await run(setup, 1000, 'every kind', {}),
  ];
}

async function run(
  setup: Setup,
  requestsPerSecond: number,
  what: string,
  options: { kinds?: KindName[]; stopAfterPages?: number },
): Promise<BackfillRun> {
  const database = connect(await setup.databaseUrl(`backfill_${requestsPerSecond}_${Date.now()}`));
  await migrate(database);
  let requests = 0;
  const stripe = createStripeClient({
    secretKey: setup.emulator.key,
    apiBase: setup.emulator.url,
    onResponse: () => requests++,
  });
  let pages = 0;
  let objects = 0;
  const byKind: Record<string, number> = {};
  const started = performance.now();
  try {
    const result = await backfill({
      database,
      stripe,
      context: { accountKeys: ['subledger_account_id'] },
      place: { stripeAccount: 'platform', livemode: false },
      requestsPerSecond,
      ...(options.kinds ? { kinds: options.kinds } : {}),
      onProgress: (progress) => {
        byKind[progress.kind] = progress.done;
        if (progress.finished) return;
        objects = Object.values(byKind).reduce((sum, count) => sum + count, 0);
        if (options.stopAfterPages && ++pages >= options.stopAfterPages) throw new EnoughRead();
      },
    });
    objects = result.objects;
    Object.assign(byKind, result.byKind);
  } catch (error) {
    if (!(error instanceof EnoughRead)) throw error;
  } finally {
    await database.close();
  }
  return { requestsPerSecond, what, objects, requests, elapsedMs: performance.now() - started, byKind };
}
