import {
  type Catalog,
  type PlanFeature,
  planById,
  planFeature,
  planFeatures,
  planOfPrice,
} from '../catalog/index.ts';
import type { AccountFacts, PriceRef } from './mirror-reads.ts';
import { periodWindow } from './periods.ts';
import {
  type Access,
  type AccessPolicy,
  type AccessState,
  accessOf,
  DEFAULT_ACCESS_POLICY,
} from './state.ts';

/** Why a check answered as it did; every refusal has its own code. */
export type CheckCode =
  | 'allowed'
  | 'feature_unknown'
  | 'subscription_required'
  | 'subscription_incomplete'
  | 'payment_required'
  | 'subscription_paused'
  | 'feature_not_in_plan'
  | 'limit_reached'
  | 'insufficient_credits';

export type CheckResult = {
  allowed: boolean;
  code: CheckCode;
  state: AccessState;
  plan: string | null;
  /** The plan's limit (metered) or grant (credits) per period; null when there is none to count. */
  limit: number | null;
  used: number | null;
  remaining: number | null;
  /** When the usage window ends and `used` starts again from 0. */
  resetsAt: number | null;
};

export type CheckRequest = {
  featureId: string;
  /** How many uses this request would add (metered features); default 1. */
  quantity?: number;
  /** Uses already counted in the current window, for a metered feature. */
  used?: number;
};

/** Refusals that come from the account's state, before any feature is looked at. */
const STATE_REFUSALS: Partial<Record<AccessState, CheckCode>> = {
  none: 'subscription_required',
  expired: 'subscription_required',
  incomplete: 'subscription_incomplete',
  restricted: 'payment_required',
  paused: 'subscription_paused',
};

/**
 * The catalog plan a subscription's prices name: by a price's lookup key, else by its product's plan
 * metadata (a price the catalog has since replaced).
 */
export function planOf(catalog: Catalog, prices: readonly PriceRef[]): string | null {
  for (const price of prices) {
    const plan = price.lookupKey ? planOfPrice(catalog, price.lookupKey) : null;
    if (plan) return plan;
  }
  const product = prices.find((price) => price.productPlan && planById(catalog, price.productPlan));
  return product?.productPlan ?? null;
}

/** Where an account stands now: its access, the plan of the subscription that decides it, and when that
 * subscription's usage windows are anchored. */
export type Standing = { access: Access; plan: string | null; anchor: number };

export function standingOf(
  catalog: Catalog,
  facts: AccountFacts | null,
  now: number,
  policy: AccessPolicy = DEFAULT_ACCESS_POLICY,
): Standing {
  const access = accessOf(facts?.subscriptions.map((entry) => entry.facts) ?? [], now, policy);
  // The subscription that decides the state also names the plan and anchors the usage windows.
  const deciding = facts?.subscriptions.find((entry) => entry.facts.id === access.subscriptionId);
  const anchor = deciding?.facts.currentPeriodStart ?? deciding?.facts.created ?? 0;
  return { access, plan: planOf(catalog, deciding?.prices ?? []), anchor };
}

/**
 * Whether an account may use a feature now (pure). A feature is the catalog's, or an entitlement feature
 * Stripe lists as active for the customer (a boolean grant, honoured even when the catalog's plan does
 * not name it). `facts` null: the account has no customer.
 */
export function checkFeature(
  catalog: Catalog,
  facts: AccountFacts | null,
  request: CheckRequest,
  now: number,
  policy: AccessPolicy = DEFAULT_ACCESS_POLICY,
): CheckResult {
  return checkStanding(catalog, facts, standingOf(catalog, facts, now, policy), request, now);
}

/** `checkFeature` for an account whose standing is already known. */
export function checkStanding(
  catalog: Catalog,
  facts: AccountFacts | null,
  standing: Standing,
  request: CheckRequest,
  now: number,
): CheckResult {
  const { access, plan } = standing;
  const answer = (code: CheckCode, counts: Partial<CheckResult> = {}): CheckResult => ({
    allowed: code === 'allowed',
    code,
    state: access.state,
    plan,
    limit: null,
    used: null,
    remaining: null,
    resetsAt: null,
    ...counts,
  });
  const inStripe = facts?.stripeEntitlements.includes(request.featureId) ?? false;
  if (!Object.hasOwn(catalog.features, request.featureId) && !inStripe) return answer('feature_unknown');
  const refusal = STATE_REFUSALS[access.state];
  if (refusal) return answer(refusal);
  const granted = plan ? planFeature(catalog, plan, request.featureId) : null;
  if (!granted) return answer(inStripe ? 'allowed' : 'feature_not_in_plan');
  return answerFor(granted, request, standing.anchor, now, answer);
}

/**
 * A check of a credits feature, given the pool's balance: allowed when the account may use credits (by
 * its plan, or prepaid without a subscription when the policy allows it) and the pool holds `quantity`.
 */
export function creditsAnswer(
  planned: CheckResult,
  canUseCredits: boolean,
  balance: number,
  quantity: number,
): CheckResult {
  const mayUse = planned.allowed || (canUseCredits && planned.code === 'subscription_required');
  if (!mayUse) return planned;
  const allowed = balance >= quantity;
  return { ...planned, allowed, code: allowed ? 'allowed' : 'insufficient_credits', remaining: balance };
}

/** The features whose uses are counted against a limit now, each with the start of its current window. */
export function usageWindows(
  catalog: Catalog,
  standing: Standing,
  now: number,
): { featureId: string; since: number }[] {
  if (!standing.access.canUse || !standing.plan) return [];
  return planFeatures(catalog, standing.plan).flatMap((feature) =>
    feature.type === 'metered' && feature.limit !== 'unlimited'
      ? [{ featureId: feature.id, since: periodWindow(standing.anchor, feature.period, now).start }]
      : [],
  );
}

function answerFor(
  feature: PlanFeature,
  request: CheckRequest,
  anchor: number,
  now: number,
  answer: (code: CheckCode, counts?: Partial<CheckResult>) => CheckResult,
): CheckResult {
  if (feature.type === 'boolean') return answer('allowed');
  const resetsAt = periodWindow(anchor, feature.period, now).end;
  if (feature.type === 'credits') return answer('allowed', { limit: feature.grant, resetsAt });
  if (feature.limit === 'unlimited') return answer('allowed', { resetsAt });
  const used = request.used ?? 0;
  const quantity = request.quantity ?? 1;
  const counts = { limit: feature.limit, used, remaining: Math.max(0, feature.limit - used), resetsAt };
  return answer(used + quantity <= feature.limit ? 'allowed' : 'limit_reached', counts);
}
