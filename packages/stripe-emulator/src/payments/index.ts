import { invalidState } from '../core/errors.ts';
import type { Scope } from '../core/scope.ts';
import type { WireCustomer } from '../customers/index.ts';
import { customerHooks } from '../customers/index.ts';
import type { EmulatorModule } from '../server/module.ts';
import { balanceTransactionRoutes } from './balance-transactions.ts';
import { chargeRoutes } from './charges.ts';
import { paymentsControl } from './control.ts';
import { paymentIntentRoutes } from './payment-intent-routes.ts';
import { paymentMethodRoutes } from './payment-method-routes.ts';
import { attachPaymentMethod, declineError, lookUpPaymentMethod, testCardOf } from './payment-methods.ts';
import { setupIntentRoutes } from './setup-intents.ts';

export { chargeTable, requireCharge, type WireCharge } from './charges.ts';
export { controlError, partitionHolding } from './control.ts';
export {
  type ChargeFailure,
  type ChargeOutcome,
  chargeInvoice,
  defaultPaymentMethodFor,
  type InvoiceCharge,
  orderReference,
} from './invoice-charge.ts';
export { cancelPaymentIntent, capturePaymentIntent } from './payment-intent-capture.ts';
export {
  type Confirmation,
  completeAuthentication,
  confirmPaymentIntent,
  createPaymentIntent,
  type NewPaymentIntent,
  paymentIntentTable,
  requirePaymentIntent,
  type WirePaymentIntent,
} from './payment-intents.ts';
export {
  attachPaymentMethod,
  declineError,
  paymentMethodTable,
  requirePaymentMethod,
  resolvePaymentMethod,
  testCardOf,
  type WirePaymentMethod,
} from './payment-methods.ts';
export { publicUrl } from './public-url.ts';
export {
  confirmSetupIntent,
  createSetupIntent,
  requireSetupIntent,
  setupIntentTable,
  type WireSetupIntent,
} from './setup-intents.ts';
export { decideCharge, testCardForPaymentMethodToken } from './test-cards.ts';

/**
 * `payment_method` on customer create: checked before the customer is stored, so an unknown id (404),
 * one attached elsewhere (400) or a card that declines on attach (402) leaves no customer, as in
 * Stripe. The lookup follows `resolvePaymentMethod`'s without its side effect: a test token is not
 * turned into a payment method until the customer exists.
 */
function checkPaymentMethodOnCustomerCreate(scope: Scope, paymentMethod: string | undefined) {
  if (!paymentMethod) return;
  const { stored, token } = lookUpPaymentMethod(scope, paymentMethod, 'payment_method');
  const card = stored ? testCardOf(stored) : token;
  if (stored?.customer)
    throw invalidState(
      'The payment method you provided has already been attached to a customer.',
      undefined,
      'payment_method_unexpected_state',
    );
  if (card?.declinesOnAttach && card.decline) throw declineError(card.decline);
}

function attachOnCustomerCreate(scope: Scope, customer: WireCustomer, paymentMethod: string | undefined) {
  if (paymentMethod) attachPaymentMethod(scope, paymentMethod, customer.id);
}

export const paymentsModule: EmulatorModule = {
  name: 'payments',
  routes: [
    ...paymentMethodRoutes,
    ...paymentIntentRoutes,
    ...setupIntentRoutes,
    ...chargeRoutes,
    ...balanceTransactionRoutes,
  ],
  control: paymentsControl,
  install: () => {
    // The hook list is shared by every emulator in the process; the hook itself is per scope.
    if (!customerHooks.beforeCreate.includes(checkPaymentMethodOnCustomerCreate))
      customerHooks.beforeCreate.push(checkPaymentMethodOnCustomerCreate);
    if (!customerHooks.afterCreate.includes(attachOnCustomerCreate))
      customerHooks.afterCreate.push(attachOnCustomerCreate);
  },
};
