import { settleInvoicePaymentIntent } from '../billing/index.ts';
import type { Scope } from '../core/scope.ts';
import type { WirePaymentIntent } from './payment-intents.ts';

/**
 * A payment intent the customer confirmed (through the API or the 3D Secure page) may be the one of
 * an open invoice, e.g. the first invoice of a `default_incomplete` subscription: once it succeeds,
 * the billing engine marks that invoice paid. Intents the engine charges itself never pass here.
 */
export function settleInvoiceOf(
  scope: Scope,
  paymentIntent: WirePaymentIntent,
  at: number,
): WirePaymentIntent {
  if (paymentIntent.status === 'succeeded') settleInvoicePaymentIntent(scope, paymentIntent.id, at);
  return paymentIntent;
}
