import type { Catalog } from '../catalog/index.ts';
import { type CheckResult, checkStanding, type Standing } from './check.ts';
import type { Entitlements, FeatureAccess } from './contract.ts';
import type { AccountFacts } from './mirror-reads.ts';

/**
 * An account's answers worked out in advance: every feature it could ask about, as a frozen result for
 * one use. A check is then a map lookup; only a quantity above 1 against a limit does arithmetic.
 */
export type CompiledAccess = {
  accountId: string;
  facts: AccountFacts | null;
  standing: Standing;
  features: ReadonlyMap<string, CheckResult>;
  /** The unknown-feature answer, shared by every feature id the account cannot have heard of. */
  unknown: CheckResult;
  /**
   * Until when (Unix seconds) these answers hold by the clock: the state's scheduled end or a usage
   * window's reset, whichever is first. Infinity when nothing is scheduled.
   */
  validUntil: number;
};

/** What compiling needs besides the facts: uses counted in each window, from `usageWindows`. */
export type Usage = ReadonlyMap<string, number>;

/**
 * Compiles an account from its standing (`standingOf`, worked out once per load: it also names the
 * usage windows to count, through `usageWindows`).
 */
export function compileAccess(
  catalog: Catalog,
  accountId: string,
  facts: AccountFacts | null,
  usage: Usage,
  now: number,
  standing: Standing,
): CompiledAccess {
  const features = new Map<string, CheckResult>();
  const ids = new Set([...Object.keys(catalog.features), ...(facts?.stripeEntitlements ?? [])]);
  let validUntil = standing.access.endsAt ?? Number.POSITIVE_INFINITY;
  for (const featureId of ids) {
    const request = { featureId, quantity: 1, used: usage.get(featureId) ?? 0 };
    const result = Object.freeze(checkStanding(catalog, facts, standing, request, now));
    features.set(featureId, result);
    if (result.resetsAt !== null) validUntil = Math.min(validUntil, result.resetsAt);
  }
  const unknownRequest = { featureId: '', quantity: 1 };
  const unknown = Object.freeze(checkStanding(catalog, null, standing, unknownRequest, now));
  return { accountId, facts, standing, features, unknown, validUntil };
}

/** The answer for `quantity` uses of a feature (a positive integer), from the compiled one-use answer. */
export function answerOf(compiled: CompiledAccess, featureId: string, quantity: number): CheckResult {
  const single = compiled.features.get(featureId) ?? compiled.unknown;
  if (quantity === 1 || single.limit === null || single.used === null) return single;
  if (single.code !== 'allowed' && single.code !== 'limit_reached') return single;
  const allowed = single.used + quantity <= single.limit;
  return Object.freeze({ ...single, allowed, code: allowed ? 'allowed' : 'limit_reached' });
}

/** The whole summary of an account, from its compiled answers. */
export function entitlementsOf(compiled: CompiledAccess): Entitlements {
  const { access, plan } = compiled.standing;
  const features: Record<string, FeatureAccess> = {};
  for (const [feature, { state: _state, plan: _plan, ...result }] of compiled.features)
    features[feature] = { feature, ...result };
  return {
    accountId: compiled.accountId,
    state: access.state,
    reason: access.reason,
    plan,
    subscriptionId: access.subscriptionId,
    endsAt: access.endsAt,
    canPurchase: access.canPurchase,
    canUseCredits: access.canUseCredits,
    features,
  };
}
