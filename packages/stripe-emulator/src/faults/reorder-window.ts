/**
 * Holds deliveries back and lets them go in a shuffled order: the window fills up to `size` items (or
 * is released early by its owner, e.g. when a timer fires), then everything in it leaves at once in
 * the order `shuffle` gives. Real webhooks are not ordered; this makes a consumer meet that on purpose.
 */
export class ReorderWindow<T> {
  readonly #size: number | undefined;
  readonly #shuffle: (items: T[]) => T[];
  #held: T[] = [];

  constructor(size: number | undefined, shuffle: (items: T[]) => T[]) {
    this.#size = size;
    this.#shuffle = shuffle;
  }

  get length(): number {
    return this.#held.length;
  }

  /** Adds an item; returns the released items (shuffled) when the window is full, else nothing. */
  add(item: T): T[] {
    this.#held.push(item);
    return this.#size !== undefined && this.#held.length >= this.#size ? this.release() : [];
  }

  /** Lets everything held go now, shuffled. */
  release(): T[] {
    const items = this.#held;
    this.#held = [];
    return items.length > 1 ? this.#shuffle(items) : items;
  }
}
