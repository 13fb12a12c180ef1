/** A live secret or restricted key: the mode is the prefix's, as Stripe (and the emulator) read it. */
const LIVE_KEY_PREFIX = /^(sk|rk)_live_/;

/**
 * Whether a Stripe key is a live one. Only the prefix says so: the rest of a key may hold `_live_`
 * (`sk_test_shop_live_mirror` is a test key). Without a key, test: `start` then runs the emulator with a
 * test key.
 */
export function isLiveKey(key: string | undefined): boolean {
  return key !== undefined && LIVE_KEY_PREFIX.test(key);
}
