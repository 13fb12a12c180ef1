/**
 * The credit ledger's arithmetic, pure: one pool's lots (what each grant has left), its holds, and the
 * operations applied to it in order. No I/O: the database layer loads a pool's state under its lock,
 * applies a batch of operations here, and writes back the entries and the lots and holds they changed.
 *
 * Terminology:
 * - lot: what is left of one grant; it may expire. Spending takes from the lot that expires first
 *   (never-expiring lots last, older lots first among equals).
 * - hold: credits set aside by `reserve` until `commit` (spend some or all, return the rest), `release`
 *   (return all) or its expiry (return all). Held credits are out of their lots while held.
 * - entry: one movement of credits in or out of one lot; for every lot, its grant plus its entries is
 *   what it has left, and that is never negative.
 */

export type Lot = { id: string; remaining: number; expiresAt: number | null; createdAt: number };
export type Allocation = { lotId: string; amount: number };
export type Hold = { id: string; amount: number; expiresAt: number; allocations: Allocation[] };
export type PoolState = { lots: Lot[]; holds: Hold[] };

export type Operation =
  | { kind: 'consume'; key: string; amount: number }
  | { kind: 'reserve'; key: string; holdId: string; amount: number; expiresAt: number }
  | { kind: 'commit'; key: string; holdId: string; actual?: number }
  | { kind: 'release'; key: string; holdId: string };

export type Refusal =
  | 'insufficient_credits'
  | 'hold_not_found'
  | 'hold_exists'
  | 'commit_exceeds_hold'
  | 'invalid_amount'
  | 'invalid_expiry';

/** What an operation answers: the pool's available balance after it, whether it was applied or not. */
export type Outcome = { ok: true; balance: number } | { ok: false; code: Refusal; balance: number };

export type EntryKind = 'spend' | 'hold' | 'release' | 'expire';
/** `amount` is signed: out of the lot is negative. */
export type Entry = { key: string; kind: EntryKind; lotId: string; holdId: string | null; amount: number };

export type Applied = { state: PoolState; outcomes: Outcome[]; entries: Entry[] };

const isLive = (lot: Lot, now: number) => lot.expiresAt === null || lot.expiresAt > now;

/** Credits that may be spent now: the live lots' remainders (held credits are already out of them). */
export function availableBalance(state: PoolState, now: number): number {
  return state.lots.reduce((sum, lot) => sum + (isLive(lot, now) ? lot.remaining : 0), 0);
}

/** Credits set aside by holds that have not expired. */
export function heldBalance(state: PoolState, now: number): number {
  return state.holds.reduce((sum, hold) => sum + (hold.expiresAt > now ? hold.amount : 0), 0);
}

/** The order lots are spent in: earliest expiry first, never-expiring last, then oldest first. */
export function spendingOrder(lots: readonly Lot[]): Lot[] {
  const expiry = (lot: Lot) => lot.expiresAt ?? Number.POSITIVE_INFINITY;
  return [...lots].sort(
    (a, b) => expiry(a) - expiry(b) || a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1),
  );
}

/** Takes `amount` from the live lots in spending order; null when they do not hold that much. */
export function allocate(state: PoolState, amount: number, now: number): Allocation[] | null {
  if (availableBalance(state, now) < amount) return null;
  const allocations: Allocation[] = [];
  let left = amount;
  for (const lot of spendingOrder(state.lots.filter((candidate) => isLive(candidate, now)))) {
    if (left === 0) break;
    const taken = Math.min(lot.remaining, left);
    if (taken > 0) allocations.push({ lotId: lot.id, amount: taken });
    left -= taken;
  }
  return allocations;
}

/**
 * Applies operations in order, each against the state the previous ones left, after expiring what ran
 * out by `now`. A refused operation changes nothing. Operations of one key are applied once: a key seen
 * again in the batch answers what it answered the first time.
 */
export function applyOperations(state: PoolState, operations: readonly Operation[], now: number): Applied {
  const ledger = new Ledger(state);
  ledger.expire(now);
  const answered = new Map<string, Outcome>();
  const outcomes = operations.map((operation) => {
    const earlier = answered.get(operation.key);
    if (earlier) return earlier;
    const outcome = ledger.apply(operation, now);
    answered.set(operation.key, outcome);
    return outcome;
  });
  return { state: ledger.state(), outcomes, entries: ledger.entries };
}

class Ledger {
  readonly entries: Entry[] = [];
  readonly #lots: Map<string, Lot>;
  readonly #holds: Map<string, Hold>;

  constructor(state: PoolState) {
    this.#lots = new Map(state.lots.map((lot) => [lot.id, { ...lot }]));
    this.#holds = new Map(
      state.holds.map((hold) => [hold.id, { ...hold, allocations: [...hold.allocations] }]),
    );
  }

  state(): PoolState {
    return { lots: [...this.#lots.values()], holds: [...this.#holds.values()] };
  }

  /** Returns expired holds to their lots, then takes what expired lots have left out of them. */
  expire(now: number): void {
    for (const hold of [...this.#holds.values()].filter((candidate) => candidate.expiresAt <= now))
      this.#returnHold(`expire:${hold.id}`, hold, hold.amount);
    for (const lot of this.#lots.values())
      if (!isLive(lot, now) && lot.remaining > 0)
        this.#move(`expire:${lot.id}`, 'expire', lot.id, null, -lot.remaining);
  }

  apply(operation: Operation, now: number): Outcome {
    const refusal = this.#refusalOf(operation, now);
    if (refusal) return { ok: false, code: refusal, balance: this.#balance(now) };
    if (operation.kind === 'consume') this.#take(operation.key, 'spend', null, operation.amount, now);
    if (operation.kind === 'reserve') {
      const allocations = this.#take(operation.key, 'hold', operation.holdId, operation.amount, now);
      this.#holds.set(operation.holdId, {
        id: operation.holdId,
        amount: operation.amount,
        expiresAt: operation.expiresAt,
        allocations,
      });
    }
    if (operation.kind === 'commit' || operation.kind === 'release') {
      const hold = this.#holds.get(operation.holdId) as Hold;
      const spent = operation.kind === 'commit' ? (operation.actual ?? hold.amount) : 0;
      this.#returnHold(operation.key, hold, hold.amount - spent);
    }
    return { ok: true, balance: this.#balance(now) };
  }

  #refusalOf(operation: Operation, now: number): Refusal | null {
    if (operation.kind === 'reserve') {
      if (this.#holds.has(operation.holdId)) return 'hold_exists';
      if (!(operation.expiresAt > now)) return 'invalid_expiry';
    }
    if (operation.kind === 'consume' || operation.kind === 'reserve') {
      if (!(Number.isSafeInteger(operation.amount) && operation.amount > 0)) return 'invalid_amount';
      return this.#balance(now) >= operation.amount ? null : 'insufficient_credits';
    }
    const hold = this.#holds.get(operation.holdId);
    if (!hold || hold.expiresAt <= now) return 'hold_not_found';
    if (operation.kind === 'release' || operation.actual === undefined) return null;
    if (!(Number.isSafeInteger(operation.actual) && operation.actual >= 0)) return 'invalid_amount';
    return operation.actual > hold.amount ? 'commit_exceeds_hold' : null;
  }

  #take(
    key: string,
    kind: 'spend' | 'hold',
    holdId: string | null,
    amount: number,
    now: number,
  ): Allocation[] {
    const allocations = allocate(this.state(), amount, now) as Allocation[];
    for (const allocation of allocations) this.#move(key, kind, allocation.lotId, holdId, -allocation.amount);
    return allocations;
  }

  /** Gives `amount` of a hold back to the lots it came from, last taken first; the hold is then closed. */
  #returnHold(key: string, hold: Hold, amount: number): void {
    let left = amount;
    for (const allocation of [...hold.allocations].reverse()) {
      const back = Math.min(allocation.amount, left);
      if (back > 0) this.#move(key, 'release', allocation.lotId, hold.id, back);
      left -= back;
    }
    this.#holds.delete(hold.id);
  }

  #move(key: string, kind: EntryKind, lotId: string, holdId: string | null, amount: number): void {
    const lot = this.#lots.get(lotId) as Lot;
    lot.remaining += amount;
    this.entries.push({ key, kind, lotId, holdId, amount });
  }

  #balance(now: number): number {
    return availableBalance(this.state(), now);
  }
}
