import type { CheckResult } from './check.ts';
import type { AccessState } from './state.ts';

export type CheckOptions = {
  /** How many uses this request would add (metered features); default 1. */
  quantity?: number;
};

/** One feature as an account has it now: the answer a check of one use would give. */
export type FeatureAccess = Omit<CheckResult, 'state' | 'plan'> & { feature: string };

/** Everything an account may use now, in one answer. */
export type Entitlements = {
  accountId: string;
  state: AccessState;
  /** Why, in one word: the status or flag that decided the state. */
  reason: string;
  plan: string | null;
  subscriptionId: string | null;
  /** When the state ends by itself unless Stripe says otherwise (Unix seconds); null when not scheduled. */
  endsAt: number | null;
  canPurchase: boolean;
  canUseCredits: boolean;
  /** The catalog's features and the customer's active Stripe entitlements, by feature id. */
  features: Record<string, FeatureAccess>;
};

/** What gates and routes ask of access: answered from the per-process cache, never from Stripe. */
export type AccessChecker = {
  check(accountId: string, featureId: string, options?: CheckOptions): Promise<CheckResult>;
  entitlements(accountId: string): Promise<Entitlements>;
};
