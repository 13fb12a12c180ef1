/**
 * The access bench's world (pure): a catalog, a population of accounts in every access state, the
 * answer each check should get, and the random checks the bench asks. Every process of the run builds
 * the same population from `(count, now)`, so children need no data from the parent but those two.
 *
 * Terminology here: a profile is one bench account as the bench meant it (its customer, its one
 * subscription, its uses of `api_calls`); the seed writes it to the mirror, the model predicts its answers.
 */
import { addMonths } from '../src/access/periods.ts';
import { defineCatalog, type PlanFeature } from '../src/catalog/index.ts';
import { seededRandom } from '../test/support/seeded-random.ts';

export const benchCatalog = defineCatalog({
  features: {
    sso: { type: 'boolean', name: 'Single sign-on' },
    audit_log: { type: 'boolean', name: 'Audit log' },
    api_calls: { type: 'metered', name: 'API calls', period: 'month' },
  },
  plans: {
    starter: {
      name: 'Starter',
      prices: [
        { lookupKey: 'starter_monthly', unitAmount: 900, currency: 'usd', interval: 'month' },
        { lookupKey: 'starter_yearly', unitAmount: 9_000, currency: 'usd', interval: 'year' },
      ],
      features: { audit_log: true, api_calls: { limit: 1_000 } },
    },
    pro: {
      name: 'Pro',
      prices: [
        { lookupKey: 'pro_monthly', unitAmount: 2_900, currency: 'usd', interval: 'month' },
        { lookupKey: 'pro_yearly', unitAmount: 29_000, currency: 'usd', interval: 'year' },
      ],
      features: { sso: true, audit_log: true, api_calls: { limit: 10_000 } },
    },
    enterprise: {
      name: 'Enterprise',
      prices: [{ lookupKey: 'enterprise_monthly', unitAmount: 99_000, currency: 'usd', interval: 'month' }],
      features: { sso: true, audit_log: true, api_calls: { limit: 'unlimited' } },
    },
  },
});

export type PlanId = keyof typeof benchCatalog.plans;

/**
 * What the bench made of an account's one subscription. `grace_over` is past due for longer than the
 * 7 days of grace; `canceling` is active with `cancel_at_period_end`.
 */
export type Kind =
  | 'active'
  | 'trialing'
  | 'canceling'
  | 'past_due'
  | 'grace_over'
  | 'canceled'
  | 'incomplete';

/** Shares of the population, in the order drawn: mostly paying accounts, every state represented. */
const KIND_SHARES: readonly (readonly [Kind, number])[] = [
  ['active', 0.68],
  ['trialing', 0.1],
  ['canceling', 0.04],
  ['past_due', 0.05],
  ['grace_over', 0.04],
  ['canceled', 0.05],
  ['incomplete', 0.04],
];

const PLAN_SHARES: readonly (readonly [PlanId, number])[] = [
  ['starter', 0.5],
  ['pro', 0.35],
  ['enterprise', 0.15],
];

export type Profile = {
  index: number;
  accountId: string;
  customerId: string;
  subscriptionId: string;
  kind: Kind;
  plan: PlanId;
  lookupKey: string;
  /** Unix seconds. */
  created: number;
  periodStart: number;
  periodEnd: number;
  trialEnd: number | null;
  /** When its open invoice was finalized (past-due kinds): where its grace starts. */
  pastDueSince: number | null;
  /** Uses of `api_calls` recorded in the current window, as quantities; one more, older, must not count. */
  uses: number[];
};

const DAY = 86_400;

export const accountIdOf = (index: number) => `acct_${String(index).padStart(6, '0')}`;

/** `count` accounts as of `now` (Unix seconds); account `i` is the same whatever the count. */
export function buildPopulation(count: number, now: number): Profile[] {
  return Array.from({ length: count }, (_, index) => profileOf(index, now));
}

function profileOf(index: number, now: number): Profile {
  const random = seededRandom(index * 7_919 + 17);
  const kind = pick(KIND_SHARES, random());
  const plan = pick(PLAN_SHARES, random());
  const yearly = plan !== 'enterprise' && random() < 0.15;
  const times = timesOf(kind, yearly, now, random);
  const limit = meteredLimit(plan) ?? 10_000;
  return {
    index,
    accountId: accountIdOf(index),
    customerId: `cus_bench${String(index).padStart(8, '0')}`,
    subscriptionId: `sub_bench${String(index).padStart(8, '0')}`,
    kind,
    plan,
    lookupKey: `${plan}_${yearly ? 'yearly' : 'monthly'}`,
    ...times,
    uses: usesOf(limit, random),
  };
}

/**
 * Periods chosen well away from every boundary the state machine watches (a period's end, a trial's
 * end, the end of grace): at least a day either side of `now`, so an answer cannot change during a run.
 */
function timesOf(kind: Kind, yearly: boolean, now: number, random: () => number) {
  const ago = (fromDays: number, toDays: number) =>
    now - Math.floor((fromDays + random() * (toDays - fromDays)) * DAY);
  const months = yearly ? 12 : 1;
  const period = (start: number) => ({ periodStart: start, periodEnd: addMonths(start, months) });
  switch (kind) {
    case 'trialing': {
      const start = ago(1, 12);
      return {
        created: start,
        periodStart: start,
        periodEnd: start + 14 * DAY,
        trialEnd: start + 14 * DAY,
        pastDueSince: null,
      };
    }
    case 'past_due':
    case 'grace_over': {
      const start = kind === 'past_due' ? ago(1, 5) : ago(9, 27);
      return { created: addMonths(start, -3), ...period(start), trialEnd: null, pastDueSince: start + 3_600 };
    }
    case 'canceled': {
      const start = ago(40, 300);
      return { created: addMonths(start, -2), ...period(start), trialEnd: null, pastDueSince: null };
    }
    case 'incomplete': {
      // Stripe expires an incomplete subscription after 23 hours.
      const start = now - Math.floor(random() * 20 * 3_600);
      return { created: start, ...period(start), trialEnd: null, pastDueSince: null };
    }
    case 'active':
    case 'canceling': {
      const start = ago(1, 27);
      return {
        created: addMonths(start, -Math.floor(random() * 12)),
        ...period(start),
        trialEnd: null,
        pastDueSince: null,
      };
    }
  }
}

/** A tenth of the accounts at their limit, some just under it, the rest well within it; 1 to 3 records. */
function usesOf(limit: number, random: () => number): number[] {
  const draw = random();
  const used = draw < 0.1 ? limit : draw < 0.15 ? limit - 5 : Math.floor(random() * (limit / 2));
  const records = 1 + Math.floor(random() * 3);
  const uses: number[] = [];
  let left = used;
  for (let record = 1; record < records && left > 1; record++) {
    const quantity = 1 + Math.floor(random() * (left - 1));
    uses.push(quantity);
    left -= quantity;
  }
  if (left > 0) uses.push(left);
  return uses;
}

function pick<T>(shares: readonly (readonly [T, number])[], draw: number): T {
  let total = 0;
  for (const [value, share] of shares) {
    total += share;
    if (draw < total) return value;
  }
  return (shares.at(-1) as readonly [T, number])[0];
}

const planFeatureOf = (plan: PlanId, featureId: string): PlanFeature | undefined =>
  (benchCatalog.plans[plan].features as Record<string, PlanFeature | undefined>)[featureId];

function meteredLimit(plan: PlanId): number | null {
  const feature = planFeatureOf(plan, 'api_calls');
  return feature?.type === 'metered' && feature.limit !== 'unlimited' ? feature.limit : null;
}

/** What a check should answer, from the profile alone: the bench's own model, not Subledger's code. */
export function expectedAnswer(
  profile: Profile,
  featureId: string,
  quantity: number,
): { code: string; used: number | null } {
  // Only a metered feature with a limit counts uses; every other answer has none.
  const uncounted = (code: string) => ({ code, used: null });
  if (!Object.hasOwn(benchCatalog.features, featureId)) return uncounted('feature_unknown');
  if (profile.kind === 'grace_over') return uncounted('payment_required');
  if (profile.kind === 'canceled') return uncounted('subscription_required');
  if (profile.kind === 'incomplete') return uncounted('subscription_incomplete');
  const feature = planFeatureOf(profile.plan, featureId);
  if (!feature) return uncounted('feature_not_in_plan');
  const limit = meteredLimit(profile.plan);
  if (feature.type !== 'metered' || limit === null) return uncounted('allowed');
  const used = profile.uses.reduce((sum, quantity) => sum + quantity, 0);
  return { code: used + quantity <= limit ? 'allowed' : 'limit_reached', used };
}

/** One check as an app asks it. */
export type Pick = { profile: Profile; featureId: string; options: { quantity: number } };

/**
 * The feature mix of the bench's checks: about half boolean, half metered (a tenth asking for 10 uses at
 * once), and a few unknown features (a typo in an app is answered too).
 */
const FEATURE_SHARES: readonly (readonly [{ featureId: string; quantity: number }, number])[] = [
  [{ featureId: 'sso', quantity: 1 }, 0.25],
  [{ featureId: 'audit_log', quantity: 1 }, 0.2],
  [{ featureId: 'api_calls', quantity: 1 }, 0.35],
  [{ featureId: 'api_calls', quantity: 10 }, 0.15],
  [{ featureId: 'teleport', quantity: 1 }, 0.05],
];

/** `count` random checks over `profiles`; option objects are shared, as an app's constants would be. */
export function randomPicks(profiles: readonly Profile[], count: number, seed: number): Pick[] {
  const random = seededRandom(seed);
  const options = new Map([1, 10].map((quantity) => [quantity, { quantity }]));
  return Array.from({ length: count }, () => {
    const profile = profiles[Math.floor(random() * profiles.length)] as Profile;
    const { featureId, quantity } = pick(FEATURE_SHARES, random());
    return { profile, featureId, options: options.get(quantity) as { quantity: number } };
  });
}

/** Every feature of the catalog and one unknown, with one use: the sanity pass asks each of every account. */
export const SANITY_FEATURES = ['sso', 'audit_log', 'api_calls', 'teleport'] as const;
