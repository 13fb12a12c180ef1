import type { AccessChange } from '../store/index.ts';
import type { CompiledAccess } from './compiled.ts';

export type CacheOptions = {
  /** How long an entry is trusted without a notification (the fallback for one missed), in ms. */
  ttlMs: number;
  /** Entries kept at most; the oldest loaded is dropped first. */
  maxAccounts: number;
  /** The clock in ms (tests move it). */
  now: () => number;
};

type Entry = { compiled: CompiledAccess; loadedAt: number };

/** Whether a change that a load in flight may have missed arrived meanwhile. */
type Marks = {
  touchedAll: boolean;
  touchedAccount: boolean;
  touchedCustomers: Set<string>;
};

const MAX_RELOADS = 3;
/** The share of the TTL after which a served entry is refreshed in the background. */
const REFRESH_AT = 0.75;

/**
 * Compiled accounts by account id, for one process. An entry is served only while the cache is told of
 * every committed change (`listening`); a change drops the entries it touches, and a load that a change
 * overtook is not kept, so the cache never serves a state older than a change it was told of.
 */
export class AccessCache {
  readonly #options: CacheOptions;
  readonly #load: (accountId: string) => Promise<CompiledAccess>;
  readonly #entries = new Map<string, Entry>();
  readonly #accountOfCustomer = new Map<string, string>();
  readonly #flights = new Map<string, { marks: Marks; promise: Promise<CompiledAccess> }>();
  #listening = false;

  constructor(options: CacheOptions, load: (accountId: string) => Promise<CompiledAccess>) {
    this.#options = options;
    this.#load = load;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The cached answers when they still hold at `nowMs`; undefined when they must be loaded. An entry in
   * the last quarter of its TTL is still served, and read again in the background, so an account in
   * use never goes cold only because time passed.
   */
  get(accountId: string, nowMs: number): CompiledAccess | undefined {
    const entry = this.#entries.get(accountId);
    if (!entry) return undefined;
    const age = nowMs - entry.loadedAt;
    if (age < this.#options.ttlMs && nowMs < entry.compiled.validUntil * 1000) {
      if (age >= this.#options.ttlMs * REFRESH_AT && !this.#flights.has(accountId))
        this.load(accountId).catch(() => {});
      return entry.compiled;
    }
    this.#drop(accountId);
    return undefined;
  }

  /** Loads an account (one load at a time per account, shared by everyone who asks meanwhile). */
  load(accountId: string): Promise<CompiledAccess> {
    const flying = this.#flights.get(accountId);
    if (flying) return flying.promise;
    const marks: Marks = { touchedAll: false, touchedAccount: false, touchedCustomers: new Set() };
    const promise = this.#fly(accountId, marks).finally(() => this.#flights.delete(accountId));
    this.#flights.set(accountId, { marks, promise });
    return promise;
  }

  async #fly(accountId: string, flight: Marks): Promise<CompiledAccess> {
    for (let attempt = 1; ; attempt++) {
      flight.touchedAll = !this.#listening;
      flight.touchedAccount = false;
      flight.touchedCustomers.clear();
      const compiled = await this.#load(accountId);
      const customerId = compiled.facts?.customerId;
      const overtaken =
        flight.touchedAll ||
        flight.touchedAccount ||
        (customerId !== undefined && flight.touchedCustomers.has(customerId));
      if (!overtaken) {
        this.#store(accountId, compiled);
        return compiled;
      }
      // Not listening, or still overtaken after a few tries under a storm of changes: answer from what
      // was read (it is as fresh as a read can be) without keeping it.
      if (!this.#listening || attempt >= MAX_RELOADS) return compiled;
    }
  }

  /** Drops what `changes` touch, and marks the loads in flight that they overtake. */
  apply(changes: readonly AccessChange[]): void {
    for (const change of changes) {
      if (change.kind === 'catalog') {
        this.flush();
        return;
      }
      if (change.kind === 'customer') {
        const accountId = this.#accountOfCustomer.get(change.id);
        if (accountId !== undefined) this.#drop(accountId);
        for (const { marks } of this.#flights.values()) marks.touchedCustomers.add(change.id);
      } else {
        this.#drop(change.id);
        const flight = this.#flights.get(change.id);
        if (flight) flight.marks.touchedAccount = true;
      }
    }
  }

  /** Drops everything, and every load in flight is not kept. */
  flush(): void {
    this.#entries.clear();
    this.#accountOfCustomer.clear();
    for (const { marks } of this.#flights.values()) marks.touchedAll = true;
  }

  /**
   * Whether changes are being delivered. Until they are (again), nothing is kept: a change committed
   * while no one listened would go unnoticed.
   */
  setListening(listening: boolean): void {
    this.#listening = listening;
    this.flush();
  }

  #store(accountId: string, compiled: CompiledAccess): void {
    this.#drop(accountId);
    this.#entries.set(accountId, { compiled, loadedAt: this.#options.now() });
    if (compiled.facts) this.#accountOfCustomer.set(compiled.facts.customerId, accountId);
    if (this.#entries.size > this.#options.maxAccounts) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#drop(oldest);
    }
  }

  #drop(accountId: string): void {
    const entry = this.#entries.get(accountId);
    if (!entry) return;
    this.#entries.delete(accountId);
    const customerId = entry.compiled.facts?.customerId;
    if (customerId !== undefined && this.#accountOfCustomer.get(customerId) === accountId)
      this.#accountOfCustomer.delete(customerId);
  }
}
