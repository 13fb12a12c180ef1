export { SubscriptionShapeError, subscriptionFactsOf } from './facts.ts';
export { type AccountFacts, type PriceRef, readAccountFacts } from './mirror-reads.ts';
export {
  ACCESS_STATES,
  type Access,
  type AccessPolicy,
  type AccessState,
  accessOf,
  DEFAULT_ACCESS_POLICY,
  SUBSCRIPTION_STATUSES,
  type SubscriptionFacts,
  type SubscriptionStatus,
} from './state.ts';
