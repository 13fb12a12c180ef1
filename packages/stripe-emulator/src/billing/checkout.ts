import type { Scope } from '../core/scope.ts';
import { createSubscription } from './create.ts';
import { withDeferredEntitlements } from './entitlements.ts';
import type { WireSubscription } from './store.ts';

export type CheckoutSubscription = {
  customerId: string;
  items: { price: string; quantity: number }[];
  trialPeriodDays?: number | undefined;
  trialEnd?: number | undefined;
  metadata: Record<string, string>;
  defaultPaymentMethod: string | null;
  description?: string | null | undefined;
};

/**
 * The subscription a completed Checkout Session creates: charged at once with the payment method
 * the session collected, which becomes the subscription's default. Events as for any new
 * subscription: `customer.subscription.created`, `invoice.created`, `invoice.finalized`, the
 * payment's events, `invoice.paid`, `invoice.payment_succeeded`, `invoice_payment.paid`,
 * `customer.subscription.updated` (incomplete → active); a trial starts `trialing` with a $0 invoice.
 */
export function createSubscriptionForCheckout(scope: Scope, input: CheckoutSubscription): WireSubscription {
  return withDeferredEntitlements(scope, () =>
    createSubscription(scope, {
      customerId: input.customerId,
      items: input.items.map((item) => ({ price: item.price, quantity: item.quantity })),
      trialEnd: input.trialEnd,
      trialPeriodDays: input.trialPeriodDays,
      billingCycleAnchor: undefined,
      defaultPaymentMethod: input.defaultPaymentMethod,
      paymentBehavior: 'allow_incomplete',
      collectionMethod: 'charge_automatically',
      daysUntilDue: null,
      cancelAtPeriodEnd: false,
      cancelAt: null,
      description: input.description ?? null,
      metadata: input.metadata,
      prorationBehavior: 'create_prorations',
      missingPaymentMethod: 'create_invoice',
    }),
  );
}
