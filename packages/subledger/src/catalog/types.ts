/**
 * The plan catalog: what an app sells, declared in code and pushed to Stripe.
 *
 * Terminology:
 * - feature: something an account may use, named by a lowercase id (`sso`, `api_calls`). It is
 *   `boolean` (has it or not), `metered` (a limit of uses per period) or `credits` (a grant of credits
 *   per period, spent through the ledger). In Stripe it is an entitlement feature whose `lookup_key` is
 *   the feature id.
 * - plan: a named bundle of features with a limit or grant for each metered or credits feature, sold at
 *   one or more prices. In Stripe it is one product carrying the metadata `subledger_plan=<plan id>`,
 *   with the plan's features attached to it.
 * - price: a recurring Stripe price of a plan, named by its `lookup_key`. Prices are immutable in
 *   Stripe; changing one means a new price that takes over the lookup key.
 * - trial days: kept in the catalog only (Stripe prices no longer carry `trial_period_days`); checkout
 *   reads them from here.
 */

export const PERIODS = ['day', 'week', 'month', 'year'] as const;
/** A feature's reset period, and a price's billing interval. */
export type Period = (typeof PERIODS)[number];

export const FEATURE_TYPES = ['boolean', 'metered', 'credits'] as const;
export type FeatureType = (typeof FEATURE_TYPES)[number];

/** A limit of uses per period, or no limit at all. */
export type Limit = number | 'unlimited';

export type Feature =
  | { readonly id: string; readonly type: 'boolean'; readonly name: string }
  | {
      readonly id: string;
      readonly type: 'metered' | 'credits';
      readonly name: string;
      readonly period: Period;
    };

/** A feature as one plan grants it: the feature itself, with that plan's limit or grant. */
export type PlanFeature =
  | { readonly id: string; readonly type: 'boolean'; readonly name: string }
  | {
      readonly id: string;
      readonly type: 'metered';
      readonly name: string;
      readonly period: Period;
      readonly limit: Limit;
    }
  | {
      readonly id: string;
      readonly type: 'credits';
      readonly name: string;
      readonly period: Period;
      /** Credits granted at the start of each period. */
      readonly grant: number;
      /** Unused credits carried into the next period, at most `cap`; null: unused credits expire. */
      readonly rollover: { readonly cap: number } | null;
    };

export type Price = {
  readonly lookupKey: string;
  /** In the currency's smallest unit (cents); 0 is a free price. */
  readonly unitAmount: number;
  /** Three lowercase letters, as Stripe writes it (`usd`). */
  readonly currency: string;
  readonly interval: Period;
  readonly intervalCount: number;
};

export type Plan<F extends string = string> = {
  readonly id: string;
  readonly name: string;
  readonly description: string | null;
  /** 0: no trial. */
  readonly trialDays: number;
  readonly prices: readonly Price[];
  readonly features: Readonly<Partial<Record<F, PlanFeature>>>;
};

/** A validated, frozen catalog; made only by `defineCatalog`. */
export type Catalog<F extends string = string, P extends string = string> = {
  readonly features: Readonly<Record<F, Feature>>;
  readonly plans: Readonly<Record<P, Plan<F>>>;
};

export type FeatureInput =
  | { type: 'boolean'; name: string }
  | { type: 'metered' | 'credits'; name: string; period: Period };

/** `true` for a boolean feature, `{ limit }` for a metered one, `{ grant, rollover? }` for credits. */
export type PlanFeatureInput = true | { limit: Limit } | { grant: number; rollover?: { cap: number } };

export type PriceInput = {
  lookupKey: string;
  unitAmount: number;
  currency: string;
  interval: Period;
  /** Bills every `intervalCount` intervals (3 with `month`: quarterly); default 1. */
  intervalCount?: number;
};

export type PlanInput<F extends string> = {
  name: string;
  description?: string;
  /** None: a plan no one pays for (its product still carries its features). */
  prices?: readonly PriceInput[];
  trialDays?: number;
  features?: Partial<Record<F, PlanFeatureInput>>;
};

export type CatalogInput<F extends string, P extends string> = {
  features: Record<F, FeatureInput>;
  plans: Record<P, PlanInput<NoInfer<F>>>;
};
