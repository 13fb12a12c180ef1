import type { Scope } from '../core/scope.ts';
import { customerHooks, type WireCustomer } from '../customers/index.ts';
import type { Emulator } from '../emulator.ts';
import type { EmulatorModule } from '../server/module.ts';
import { onSystemClock, runDueWork } from './due-work.ts';
import { withDeferredEntitlements } from './entitlements.ts';
import { invoiceItemRoutes } from './invoice-items.ts';
import { invoiceRoutes } from './invoice-routes.ts';
import { invoicePayments, subscriptions } from './store.ts';
import { subscriptionItemRoutes } from './subscription-item-routes.ts';
import { subscriptionRoutes } from './subscription-routes.ts';
import { subscriptionScheduleRoutes } from './subscription-schedule-routes.ts';
import { customerOf } from './subscription-store.ts';
import { testClockRoutes } from './test-clocks.ts';
import { cancelNow } from './update.ts';

export { createSubscriptionForCheckout } from './checkout.ts';
export { settleInvoicePaymentIntent } from './collection.ts';
export type { BillingOptions } from './options.ts';
export { amountFor, type PriceTerms, type Tier } from './pricing.ts';
export {
  requireInvoice,
  requireSubscription,
  type WireInvoice,
  type WireInvoiceItem,
  type WireInvoicePayment,
  type WireSubscription,
  type WireSubscriptionItem,
  type WireTestClock,
} from './store.ts';

const ENDED = new Set(['canceled', 'incomplete_expired']);

/** Deleting a customer cancels their subscriptions first, as Stripe does. */
function cancelSubscriptionsOf(scope: Scope, customer: WireCustomer): void {
  withDeferredEntitlements(scope, () => {
    for (const subscription of subscriptions(scope.partition).newestFirst())
      if (customerOf(subscription) === customer.id && !ENDED.has(String(subscription.status)))
        cancelNow(scope, subscription, { invoiceNow: false, prorate: false });
  });
}

function install(emulator: Emulator): void {
  // The hook list is shared by every emulator in the process; the hook itself works per scope.
  if (!customerHooks.beforeDelete.includes(cancelSubscriptionsOf))
    customerHooks.beforeDelete.push(cancelSubscriptionsOf);
  emulator.tickers.push({
    tick: (nowSeconds) => {
      for (const partition of emulator.store.partitions())
        runDueWork(emulator.scope(partition), nowSeconds, onSystemClock);
    },
  });
  emulator.includable('invoice', 'payments', (invoice, partition) => {
    const data = invoicePayments(partition)
      .newestFirst()
      .filter((payment) => payment.invoice === invoice.id);
    return { object: 'list', data, has_more: false, url: '/v1/invoices/payments' };
  });
  emulator.includable('invoice', 'confirmation_secret', (invoice, partition) => {
    const payment = invoicePayments(partition)
      .newestFirst()
      .find((candidate) => candidate.invoice === invoice.id && candidate.is_default);
    const intentId = payment?.payment.payment_intent;
    const intent = intentId ? emulator.find(partition, 'payment_intent', String(intentId)) : undefined;
    const secret = (intent as { client_secret?: string | null } | undefined)?.client_secret;
    return secret ? { client_secret: secret, type: 'payment_intent' } : null;
  });
}

export const billingModule: EmulatorModule = {
  name: 'billing',
  routes: [
    ...subscriptionRoutes,
    ...subscriptionItemRoutes,
    ...subscriptionScheduleRoutes,
    ...invoiceRoutes,
    ...invoiceItemRoutes,
    ...testClockRoutes,
  ],
  install,
};
