/**
 * The longest a workers' statement is held back for the inbox. Measured at 500 webhooks/s on two cores
 * (`bench/sync.ts`' steady phase, twelve rounds taking turns with workers that do not wait): the client's
 * acknowledgement p99 was lower in all twelve, 6.7–13.3 ms against 8.4–257 ms, and webhook-to-visible
 * p99 rose from 145–185 ms (one round 1,033) to 152–241 ms. Held back 3 ms at most, it was lower in two
 * rounds of three.
 *
 * Only a statement that opens a transaction, or runs outside one, is held (see `connect`). When every
 * statement was, a worker's batch of some fifteen statements waited up to 150 ms on a machine whose
 * inbox committed most of the time: on a slower day, in turns of two rounds each, webhook-to-visible
 * p50 / p99 was 236–373 / 575–840 ms held at each statement, 97–127 / 286–317 ms held at the
 * transaction's start (and 258 / 731 in a round whose acknowledgement p50 was 22 ms, three times the
 * others'), 109–126 / 290–329 ms not held; the acknowledgement p99 was alike in all three (22–62 ms).
 */
export const WORKERS_YIELD_MS = 10;

/**
 * How many inbox commits are in flight, in memory the server's thread and the workers' thread share.
 * The server counts its commits in and out; the workers' connections hold each transaction's start
 * back while one is in flight, up to `WORKERS_YIELD_MS`. On a small machine the workers' statements take
 * the cores an acknowledgement waits for, in PostgreSQL as much as in Node; a webhook is answered only
 * once its commit is done, while applying an event may take a few milliseconds longer.
 */
export class CommitGate {
  readonly buffer: SharedArrayBuffer;
  readonly #inFlight: Int32Array;

  /** A new gate, or, given the buffer of one, the same gate seen from another thread. */
  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT)) {
    this.buffer = buffer;
    this.#inFlight = new Int32Array(buffer);
  }

  enter(): void {
    Atomics.add(this.#inFlight, 0, 1);
  }

  leave(): void {
    Atomics.sub(this.#inFlight, 0, 1);
    Atomics.notify(this.#inFlight, 0);
  }

  get inFlight(): number {
    return Atomics.load(this.#inFlight, 0);
  }

  /**
   * Null when no commit is in flight, so a statement goes at once; otherwise a promise that resolves
   * when none is, or after `maxMs`, whichever comes first.
   */
  holdBack(maxMs: number = WORKERS_YIELD_MS): Promise<void> | null {
    return this.inFlight === 0 ? null : this.#whenClear(performance.now() + maxMs);
  }

  async #whenClear(deadline: number): Promise<void> {
    for (;;) {
      const inFlight = this.inFlight;
      const left = deadline - performance.now();
      if (inFlight === 0 || left <= 0) return;
      // Woken by any count change; one commit ending as another begins is checked again.
      const waiting = Atomics.waitAsync(this.#inFlight, 0, inFlight);
      if (!waiting.async) continue;
      // The bound is a timer of the event loop: `waitAsync`'s own timeout keeps no loop alive, and a
      // process whose loop had emptied took its leave while a statement still waited.
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([waiting.value, new Promise((resolve) => (bound = setTimeout(resolve, left)))]);
      clearTimeout(bound);
    }
  }
}
