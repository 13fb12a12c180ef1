import Stripe from 'stripe';
import { isStripeUnavailable } from '../stripe/index.ts';

export type BillingErrorCode =
  | 'price_not_found'
  | 'price_mode_mismatch'
  | 'invalid_top_up'
  | 'subscription_exists'
  | 'checkout_session_not_found'
  | 'subscription_not_found'
  | 'plan_unchanged'
  | 'stripe_unavailable'
  | 'stripe_not_configured'
  | 'stripe_refused';

const STATUS: Record<BillingErrorCode, 400 | 404 | 409 | 502 | 503> = {
  price_not_found: 400,
  price_mode_mismatch: 400,
  invalid_top_up: 400,
  subscription_exists: 409,
  checkout_session_not_found: 404,
  subscription_not_found: 404,
  plan_unchanged: 409,
  stripe_unavailable: 503,
  stripe_not_configured: 503,
  stripe_refused: 502,
};

/** A billing action refused, with the code and HTTP status the API answers with. */
export class BillingError extends Error {
  readonly code: BillingErrorCode;
  readonly status: 400 | 404 | 409 | 502 | 503;
  readonly param: string | undefined;
  constructor(code: BillingErrorCode, message: string, param?: string) {
    super(message);
    this.code = code;
    this.status = STATUS[code];
    this.param = param;
  }
}

/**
 * A Stripe failure as a billing error. Stripe down (connection, timeout, 5xx, rate limited after the
 * retries) is `stripe_unavailable`; Stripe refusing the request is `stripe_refused`. Stripe's own message
 * is not passed on: it may quote the key or another account's ids.
 */
export function fromStripe(error: unknown): unknown {
  if (!(error instanceof Stripe.errors.StripeError)) return error;
  if (isStripeUnavailable(error))
    return new BillingError(
      'stripe_unavailable',
      'Stripe is not answering; try again (a retry is never applied twice)',
    );
  return new BillingError('stripe_refused', `Stripe refused the request (${error.code ?? error.type})`);
}
