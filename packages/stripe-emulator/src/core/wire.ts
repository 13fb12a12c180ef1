import type Stripe from 'stripe';

/**
 * The JSON form of an SDK type. The SDK parses decimal strings into its `Decimal` class on the way in;
 * on the wire they are strings, so the emulator builds `Wire<Stripe.Price>` and the compiler still
 * checks every field name and type against the SDK's own declarations.
 */
export type Wire<T> = T extends Stripe.Decimal
  ? string
  : T extends string | number | boolean | bigint | symbol | null | undefined
    ? T
    : T extends readonly (infer Item)[]
      ? Wire<Item>[]
      : T extends object
        ? { [K in keyof T]: Wire<T[K]> }
        : T;

/** Any object the emulator stores: Stripe objects all carry an id and an object name. */
export type StripeObject = { id: string; object: string; [key: string]: unknown };
