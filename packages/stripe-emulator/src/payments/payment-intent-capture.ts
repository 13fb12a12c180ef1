import type Stripe from 'stripe';
import { invalidState } from '../core/errors.ts';
import type { Scope } from '../core/scope.ts';
import { emitEvent } from '../events/emit.ts';
import { captureCharge, releaseCharge } from './charges.ts';
import { save, type WirePaymentIntent } from './payment-intents.ts';

/** What happens to an authorization: captured (all or part of it) or released by canceling. */
/** Captures an authorized payment intent, all of it or `amount` of it. */
export function capturePaymentIntent(
  scope: Scope,
  current: WirePaymentIntent,
  amount: number | undefined,
  at: number,
): WirePaymentIntent {
  if (current.status !== 'requires_capture')
    throw invalidState(
      `This PaymentIntent could not be captured because it has a status of ${current.status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`,
      undefined,
      'payment_intent_unexpected_state',
    );
  const captured = amount ?? current.amount_capturable;
  if (captured > current.amount_capturable)
    throw invalidState(
      `The amount to capture (${captured}) cannot be greater than the amount capturable (${current.amount_capturable}).`,
      'amount_to_capture',
      'amount_too_large',
    );
  if (typeof current.latest_charge === 'string') captureCharge(scope, current.latest_charge, captured, at);
  const paymentIntent = save(scope, {
    ...current,
    amount_capturable: 0,
    amount_received: captured,
    status: 'succeeded',
  });
  emitEvent(scope, 'payment_intent.succeeded', paymentIntent, undefined, at);
  return paymentIntent;
}

const CANCELABLE = [
  'requires_payment_method',
  'requires_capture',
  'requires_confirmation',
  'requires_action',
  'processing',
];

export function cancelPaymentIntent(
  scope: Scope,
  current: WirePaymentIntent,
  reason: Stripe.PaymentIntent.CancellationReason | null,
  at: number,
): WirePaymentIntent {
  if (!CANCELABLE.includes(current.status as string))
    throw invalidState(
      `You cannot cancel this PaymentIntent because it has a status of ${current.status}. Only a PaymentIntent with one of the following statuses may be canceled: ${CANCELABLE.join(', ')}.`,
      undefined,
      'payment_intent_unexpected_state',
    );
  if (current.status === 'requires_capture' && typeof current.latest_charge === 'string')
    releaseCharge(scope, current.latest_charge, at);
  const paymentIntent = save(scope, {
    ...current,
    amount_capturable: 0,
    canceled_at: at,
    cancellation_reason: reason,
    next_action: null,
    status: 'canceled',
  });
  emitEvent(scope, 'payment_intent.canceled', paymentIntent, undefined, at);
  return paymentIntent;
}
