import type { StripeObject } from './wire.ts';

/** Puts one write back the way it was. */
type Undo = () => void;

/** Where tables report their writes while a store transaction is open (and nowhere otherwise). */
type Journal = { record(undo: Undo): void };

const NO_JOURNAL: Journal = { record: () => {} };

/**
 * One table of objects of a kind (`customer`, `invoice` …) inside a partition. Lists come back newest
 * first, as Stripe's do; objects created in the same second keep their creation order.
 */
export class Table<T extends { id: string }> {
  readonly #rows = new Map<string, { row: T; sequence: number }>();
  readonly #journal: Journal;
  #sequence = 0;

  constructor(journal: Journal = NO_JOURNAL) {
    this.#journal = journal;
  }

  /** Records how to restore the row `id` to what it is now. */
  #remember(id: string): void {
    const entry = this.#rows.get(id);
    const row = entry?.row;
    this.#journal.record(() => {
      if (!entry) this.#rows.delete(id);
      else {
        entry.row = row as T;
        this.#rows.set(id, entry);
      }
    });
  }

  get(id: string): T | undefined {
    return this.#rows.get(id)?.row;
  }

  has(id: string): boolean {
    return this.#rows.has(id);
  }

  insert(row: T): T {
    this.#remember(row.id);
    this.#rows.set(row.id, { row, sequence: this.#sequence++ });
    return row;
  }

  /** Replaces a row in place, keeping its position in lists. */
  replace(row: T): T {
    const existing = this.#rows.get(row.id);
    if (!existing) return this.insert(row);
    this.#remember(row.id);
    existing.row = row;
    return row;
  }

  delete(id: string): boolean {
    this.#remember(id);
    return this.#rows.delete(id);
  }

  get size(): number {
    return this.#rows.size;
  }

  /** Newest first: by `created` descending, then by insertion descending. */
  newestFirst(): T[] {
    const created = (row: T) => ((row as { created?: number }).created ?? 0) as number;
    return [...this.#rows.values()]
      .sort((a, b) => created(b.row) - created(a.row) || b.sequence - a.sequence)
      .map((entry) => entry.row);
  }

  *values(): Generator<T> {
    for (const entry of this.#rows.values()) yield entry.row;
  }
}

/**
 * The objects of one Stripe account in one mode. A connected account (`Stripe-Account: acct_…`) and the
 * platform never see each other's objects, and test-mode objects are invisible to live keys.
 */
export class Partition {
  readonly account: string | null;
  readonly livemode: boolean;
  readonly #tables = new Map<string, Table<StripeObject>>();
  readonly #journal: Journal;

  constructor(account: string | null, livemode: boolean, journal: Journal = NO_JOURNAL) {
    this.account = account;
    this.livemode = livemode;
    this.#journal = journal;
  }

  get key(): string {
    return partitionKey(this.account, this.livemode);
  }

  table<T extends { id: string }>(objectName: string): Table<T> {
    let table = this.#tables.get(objectName);
    if (!table) {
      table = new Table<StripeObject>(this.#journal);
      this.#tables.set(objectName, table);
    }
    return table as unknown as Table<T>;
  }

  tableNames(): string[] {
    return [...this.#tables.keys()];
  }
}

export const partitionKey = (account: string | null, livemode: boolean) =>
  `${livemode ? 'live' : 'test'}:${account ?? 'platform'}`;

/** An open store transaction: `rollback` undoes every table write made since it began. */
export type Transaction = { commit(): void; rollback(): void };

export class Store {
  readonly #partitions = new Map<string, Partition>();
  #undos: Undo[] | null = null;
  readonly #journal: Journal = { record: (undo) => this.#undos?.push(undo) };

  /**
   * Starts recording writes so they can be undone, for a request whose handler has written but whose
   * response can still fail (an `expand[]` that names no expandable field). Only synchronous work may
   * run inside: writes of anything interleaved would be undone too. Transactions do not nest; an inner
   * one joins the outer.
   */
  begin(): Transaction {
    if (this.#undos) return { commit: () => {}, rollback: () => {} };
    const undos: Undo[] = [];
    this.#undos = undos;
    const close = () => {
      if (this.#undos === undos) this.#undos = null;
    };
    return {
      commit: close,
      rollback: () => {
        close();
        for (const undo of undos.reverse()) undo();
      },
    };
  }

  partition(account: string | null, livemode: boolean): Partition {
    const key = partitionKey(account, livemode);
    let partition = this.#partitions.get(key);
    if (!partition) {
      partition = new Partition(account, livemode, this.#journal);
      this.#partitions.set(key, partition);
    }
    return partition;
  }

  partitions(): Partition[] {
    return [...this.#partitions.values()];
  }

  clear(): void {
    this.#partitions.clear();
  }
}
