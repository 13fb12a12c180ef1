import { randomUUID } from 'node:crypto';
import { type HeldReads, type RefetchDependencies, serveRefetches } from './refetch.ts';
import { holdRefetcherLock, leaseRefetches, REFETCH_CHANNEL } from './refetch-queue.ts';
import { connectionStringOf, WakeLoop } from './wake-loop.ts';

export type RefetcherOptions = RefetchDependencies & {
  /** Objects leased, read side by side and written together per step. */
  batchSize?: number;
  loops?: number;
  onError?: (error: unknown) => void;
};

/**
 * Serves the refetch queue in the background: leases ready refetches across serial keys, reads them from
 * Stripe and writes them, batch after batch. Requests made while a batch is read wait for the next
 * one, so a burst for one object costs one read. Its leases live as long as its listening session,
 * which holds its lock: a refetcher that dies leaves nothing stranded.
 */
export class Refetcher {
  readonly id = randomUUID();
  readonly #options: RefetcherOptions;
  readonly #held: HeldReads = new Map();
  #loop: WakeLoop | null = null;

  constructor(options: RefetcherOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    this.#loop = new WakeLoop({
      connectionString: connectionStringOf(this.#options.pool),
      channel: REFETCH_CHANNEL,
      step: async () => {
        const found = await this.step();
        return { found, behind: found >= this.#batchSize };
      },
      loops: this.#options.loops ?? 2,
      onListening: (session) => holdRefetcherLock(session, this.id),
      ...(this.#options.onError ? { onError: this.#options.onError } : {}),
    });
    await this.#loop.start();
  }

  get #batchSize(): number {
    return this.#options.batchSize ?? 32;
  }

  async stop(): Promise<void> {
    await this.#loop?.stop();
    this.#loop = null;
  }

  /** Leases and serves one batch; returns how many refetches it leased. */
  async step(): Promise<number> {
    const leased = await leaseRefetches(this.#options.pool, this.id, { limit: this.#batchSize });
    const served = await serveRefetches(this.#options, this.id, leased, { held: this.#held });
    for (const failure of served.failures) this.#options.onError?.(failure);
    return leased.length;
  }
}
