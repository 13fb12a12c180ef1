import type { StripeObject } from './wire.ts';

/**
 * One table of objects of a kind (`customer`, `invoice` …) inside a partition. Lists come back newest
 * first, as Stripe's do; objects created in the same second keep their creation order.
 */
export class Table<T extends { id: string }> {
  readonly #rows = new Map<string, { row: T; sequence: number }>();
  #sequence = 0;

  get(id: string): T | undefined {
    return this.#rows.get(id)?.row;
  }

  has(id: string): boolean {
    return this.#rows.has(id);
  }

  insert(row: T): T {
    this.#rows.set(row.id, { row, sequence: this.#sequence++ });
    return row;
  }

  /** Replaces a row in place, keeping its position in lists. */
  replace(row: T): T {
    const existing = this.#rows.get(row.id);
    if (!existing) return this.insert(row);
    existing.row = row;
    return row;
  }

  delete(id: string): boolean {
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

  constructor(account: string | null, livemode: boolean) {
    this.account = account;
    this.livemode = livemode;
  }

  get key(): string {
    return partitionKey(this.account, this.livemode);
  }

  table<T extends { id: string }>(objectName: string): Table<T> {
    let table = this.#tables.get(objectName);
    if (!table) {
      table = new Table<StripeObject>();
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

export class Store {
  readonly #partitions = new Map<string, Partition>();

  partition(account: string | null, livemode: boolean): Partition {
    const key = partitionKey(account, livemode);
    let partition = this.#partitions.get(key);
    if (!partition) {
      partition = new Partition(account, livemode);
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
