export type { SubscriptionState } from './acting.ts';
export { derivedKey } from './acting.ts';
export { type CheckoutRequest, type CheckoutResult, startCheckout } from './checkout.ts';
export { syncCheckout } from './checkout-sync.ts';
export { type CurrentSubscription, currentSubscription } from './current.ts';
export { type Billing, ensureCustomer, requireBilling, withCustomer } from './customers.ts';
export { BillingError, type BillingErrorCode, fromStripe } from './errors.ts';
export {
  changePlan,
  type PlanChangePreview,
  type PlanChangeRequest,
  type PlanChangeResult,
  previewPlanChange,
} from './plan-change.ts';
export { type PlanChangeTiming, timingOf } from './plan-timing.ts';
export { type PriceChoice, type ResolvedPrice, resolvePrice } from './prices.ts';
export {
  cancelAtPeriodEnd,
  cancelNow,
  changeQuantity,
  portalSession,
  resume,
} from './subscription-actions.ts';
