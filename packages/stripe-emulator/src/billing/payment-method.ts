import { invalidState } from '../core/errors.ts';
import type { Scope } from '../core/scope.ts';
import { requirePaymentMethod } from '../payments/index.ts';

/** A payment method a subscription may use as its default: it must be attached to the customer. */
export function requireAttachedPaymentMethod(
  scope: Scope,
  id: string,
  customerId: string,
  param: string,
): string {
  const paymentMethod = requirePaymentMethod(scope, id, param);
  if (paymentMethod.customer !== customerId)
    throw invalidState(
      `The customer does not have a payment method with the ID ${id}. The payment method must be attached to the customer.`,
      param,
    );
  return paymentMethod.id;
}
