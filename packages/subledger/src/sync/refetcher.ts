import { randomUUID } from 'node:crypto';
import { type HeldReads, type RefetchDependencies, serveRefetches } from './refetch.ts';
import {
  holdRefetcherLock,
  type LeasedRefetch,
  leaseRefetches,
  REFETCH_CHANNEL,
  returnStrayRefetches,
} from './refetch-queue.ts';
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
  /** The leases of the steps running now (two loops step side by side). */
  readonly #serving = new Set<LeasedRefetch[]>();
  #mayHaveStrays = false;
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

  /**
   * Leases and serves one batch; returns how many refetches it leased. After a step that failed (the
   * database went away while it read, say), its leases may be left with no step serving them, and none
   * but this refetcher's own would take them while it lives: the next step hands them back first.
   */
  async step(): Promise<number> {
    const { pool } = this.#options;
    if (this.#mayHaveStrays) {
      await returnStrayRefetches(pool, this.id, [...this.#serving].flat());
      this.#mayHaveStrays = false;
    }
    let leased: LeasedRefetch[] = [];
    try {
      leased = await leaseRefetches(pool, this.id, { limit: this.#batchSize });
      this.#serving.add(leased);
      const served = await serveRefetches(this.#options, this.id, leased, { held: this.#held });
      for (const failure of served.failures) this.#options.onError?.(failure);
      return leased.length;
    } catch (error) {
      this.#mayHaveStrays = true;
      throw error;
    } finally {
      this.#serving.delete(leased);
    }
  }
}
