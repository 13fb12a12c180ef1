import { performance } from 'node:perf_hooks';

/** One consume of 1 credit under a unique key: true when spent, false when refused for want of credits. */
export type Consume = (accountId: string, key: string) => Promise<boolean>;

/** How long the clients keep consuming: for a time, or until they have asked `count` times in all. */
export type Until = { seconds: number } | { count: number };

export type Run = {
  spent: number;
  refused: number;
  /** Calls that threw (a database error): neither spent nor refused as far as the client knows. */
  failed: number;
  firstError: string | null;
  elapsedMs: number;
  /** From each call to its answer, in milliseconds. */
  latenciesMs: number[];
};

/**
 * `clients` closed loops in this process, each calling `consume` on a random one of `accounts` and
 * calling again as soon as it is answered. Keys are `prefix` plus the client and its call number, so
 * every call of a run (warm-up included) spends under a key of its own.
 */
export async function drive(
  consume: Consume,
  options: { clients: number; accounts: readonly string[]; until: Until; prefix: string },
): Promise<Run> {
  const { clients, accounts, until, prefix } = options;
  const run: Run = { spent: 0, refused: 0, failed: 0, firstError: null, elapsedMs: 0, latenciesMs: [] };
  const started = performance.now();
  const deadline = 'seconds' in until ? started + until.seconds * 1000 : Number.POSITIVE_INFINITY;
  let issued = 0;
  const more = () => ('count' in until ? issued < until.count : performance.now() < deadline);

  async function client(index: number) {
    for (let call = 0; more(); call++) {
      issued++;
      const accountId = accounts[Math.floor(Math.random() * accounts.length)] as string;
      const asked = performance.now();
      try {
        if (await consume(accountId, `${prefix}-${index}-${call}`)) run.spent++;
        else run.refused++;
      } catch (error) {
        run.failed++;
        run.firstError ??= String(error);
      }
      run.latenciesMs.push(performance.now() - asked);
    }
  }

  await Promise.all(Array.from({ length: clients }, (_, index) => client(index)));
  run.elapsedMs = performance.now() - started;
  return run;
}
