import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

const ID_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * Seeded randomness for everything the emulator decides by chance: ids, injected faults, delivery
 * order. The same seed and the same requests give the same run, so a failing test replays exactly.
 */
export class Random {
  readonly seed: number;
  #rng;

  constructor(seed: number) {
    this.seed = seed;
    this.#rng = xoroshiro128plus(seed);
  }

  int(fromInclusive: number, toInclusive: number): number {
    return uniformInt(this.#rng, fromInclusive, toInclusive);
  }

  /** True with the given probability (0 … 1). */
  chance(probability: number): boolean {
    if (probability <= 0) return false;
    if (probability >= 1) return true;
    return this.int(0, 999_999) < probability * 1_000_000;
  }

  token(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += ID_ALPHABET[this.int(0, ID_ALPHABET.length - 1)];
    return out;
  }

  /** A Stripe-style id: `cus_` followed by 14 (short) or 24 characters. */
  id(prefix: string, length = 24): string {
    return `${prefix}_${this.token(length)}`;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
    return items;
  }
}
