/**
 * - `succeeded`: the endpoint answered 2xx.
 * - `retrying`: it failed (non-2xx, timeout, connection error) and will be tried again.
 * - `failed`: it failed and that was the last attempt.
 * - `dropped`: a fault swallowed the delivery; it was never sent.
 * - `canceled`: the endpoint was disabled or deleted before the attempt.
 */
export type AttemptStatus = 'succeeded' | 'retrying' | 'failed' | 'dropped' | 'canceled';

/** One line of `GET /_emulator/deliveries`. */
export type DeliveryAttempt = {
  /** Order in the log, from 1. */
  sequence: number;
  event: string;
  type: string;
  endpoint: string;
  url: string;
  /** 1 for the first attempt; 0 for a delivery that was never attempted (dropped, canceled). */
  attempt: number;
  /** Which copy of a duplicated delivery this is (0 = the original). */
  copy: number;
  status: AttemptStatus;
  statusCode: number | null;
  error: string | null;
  /** When the attempt started (ISO 8601, wall clock). */
  at: string;
  durationMs: number;
  /** Wait before the next attempt, for `retrying`. */
  nextAttemptInMs: number | null;
  /** Faults applied to this delivery: `drop`, `duplicate`, `delay`, `reorder`. */
  faults: string[];
};

export type AttemptFilter = { endpoint?: string; event?: string; status?: string; type?: string };

/** Enough for any test run; the oldest lines go first when a long-running emulator passes it. */
const MAX_ENTRIES = 10_000;

/** Every delivery attempt, oldest first: what a Stripe dashboard shows under an endpoint's "Events". */
export class DeliveryLog {
  #entries: DeliveryAttempt[] = [];
  #sequence = 0;

  record(entry: Omit<DeliveryAttempt, 'sequence'>): DeliveryAttempt {
    const line = { sequence: ++this.#sequence, ...entry };
    this.#entries.push(line);
    if (this.#entries.length > MAX_ENTRIES) this.#entries.splice(0, this.#entries.length - MAX_ENTRIES);
    return line;
  }

  list(filter: AttemptFilter = {}): DeliveryAttempt[] {
    return this.#entries.filter(
      (entry) =>
        (filter.endpoint === undefined || entry.endpoint === filter.endpoint) &&
        (filter.event === undefined || entry.event === filter.event) &&
        (filter.status === undefined || entry.status === filter.status) &&
        (filter.type === undefined || entry.type === filter.type),
    );
  }

  clear(): void {
    this.#entries = [];
  }
}
