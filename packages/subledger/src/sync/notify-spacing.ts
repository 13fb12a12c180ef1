/**
 * Spaces out the inbox's notifications to the workers. PostgreSQL signals every listening session of the
 * database on each notification, and each one wakes and reads the queue in a transaction of its own;
 * with a notification per commit, those wake-ups competed with the commits for the cores. (At 500
 * webhooks/s, at most one per 20 ms lowered the acknowledgement p50 by 0.3–1 ms, and its p99 in 8 of 9
 * paired runs.)
 *
 * A commit carries a notification only when none was sent in the last `spacingMs`. One that carries none
 * is covered by a notification sent after it finished: the next commit that carries one, or, failing
 * that, one sent on its own `spacingMs` later. So every stored event is announced, at most `spacingMs`
 * late; the workers gather events for longer than that anyway.
 */
export class NotifySpacing {
  readonly #spacingMs: number;
  readonly #sendAlone: () => Promise<unknown>;
  readonly #now: () => number;
  /** When the last notification was asked for: a commit carrying one began, or one was sent alone. */
  #lastSentAt = Number.NEGATIVE_INFINITY;
  /** When the last commit that carried none finished. */
  #lastUncoveredAt = Number.NEGATIVE_INFINITY;
  #cover: NodeJS.Timeout | null = null;

  constructor(spacingMs: number, sendAlone: () => Promise<unknown>, now = () => performance.now()) {
    this.#spacingMs = spacingMs;
    this.#sendAlone = sendAlone;
    this.#now = now;
  }

  /** Whether the commit about to begin carries a notification. */
  claim(): boolean {
    const now = this.#now();
    if (now - this.#lastSentAt < this.#spacingMs) return false;
    this.#lastSentAt = now;
    return true;
  }

  /** A commit that carried a notification failed: it sent none, so it covers nothing. */
  failed(): void {
    this.#lastSentAt = Number.NEGATIVE_INFINITY;
  }

  /** A commit that carried no notification has finished: one must follow it. */
  uncovered(): void {
    this.#lastUncoveredAt = this.#now();
    if (this.#cover) return;
    this.#cover = setTimeout(() => this.#coverNow(), this.#spacingMs);
    // A pending cover must not keep a process that is done from exiting.
    this.#cover.unref();
  }

  #coverNow(): void {
    this.#cover = null;
    if (this.#lastSentAt > this.#lastUncoveredAt) return;
    this.#lastSentAt = this.#now();
    void this.#send();
  }

  /** Should it fail, even at once (a pool already closed), the workers still look on their own when idle. */
  async #send(): Promise<void> {
    try {
      await this.#sendAlone();
    } catch {
      this.failed();
    }
  }
}
