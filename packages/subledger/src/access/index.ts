export { type CheckCode, type CheckRequest, type CheckResult, checkFeature, planOf } from './check.ts';
export type { AccessChecker, CheckOptions, Entitlements, FeatureAccess } from './contract.ts';
export { SubscriptionShapeError, subscriptionFactsOf } from './facts.ts';
export { type AccountFacts, type PriceRef, readAccountFacts } from './mirror-reads.ts';
export { addMonths, periodWindow } from './periods.ts';
export {
  AccessError,
  type AccessErrorCode,
  type AccessService,
  type AccessServiceOptions,
  createAccessService,
} from './service.ts';
export {
  ACCESS_STATES,
  type Access,
  type AccessPolicy,
  type AccessState,
  accessOf,
  DEFAULT_ACCESS_POLICY,
  LIVE_STATUSES,
  SUBSCRIPTION_STATUSES,
  type SubscriptionFacts,
  type SubscriptionStatus,
} from './state.ts';
export { createTimelineRecorder, readTimeline, type TimelineEntry } from './timeline.ts';
export { type Transition, transitionOf } from './transitions.ts';
