import type { Scope } from '../core/scope.ts';
import type { WireCustomer } from '../customers/index.ts';
import { customerHooks } from '../customers/index.ts';
import type { EmulatorModule } from '../server/module.ts';
import { balanceTransactionRoutes } from './balance-transactions.ts';
import { chargeRoutes } from './charges.ts';
import { paymentsControl } from './control.ts';
import { paymentIntentRoutes } from './payment-intent-routes.ts';
import { paymentMethodRoutes } from './payment-method-routes.ts';
import { attachPaymentMethod } from './payment-methods.ts';
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
 * `payment_method` on customer create attaches it. A declining card answers 402 as in Stripe, but the
 * hook runs after the customer was stored, so (unlike Stripe) the customer exists all the same.
 */
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
    if (!customerHooks.afterCreate.includes(attachOnCustomerCreate))
      customerHooks.afterCreate.push(attachOnCustomerCreate);
  },
};
