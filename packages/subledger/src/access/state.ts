/**
 * An account's access state, as a pure function of its subscriptions, the clock and a policy. No I/O:
 * the same facts and the same `now` always give the same answer, in any process.
 */

/** Stripe's subscription statuses. */
export const SUBSCRIPTION_STATUSES = [
  'incomplete',
  'incomplete_expired',
  'trialing',
  'active',
  'past_due',
  'unpaid',
  'canceled',
  'paused',
] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export const ACCESS_STATES = [
  'none',
  'incomplete',
  'trialing',
  'active',
  'past_due',
  'restricted',
  'canceled',
  'expired',
  'paused',
] as const;
export type AccessState = (typeof ACCESS_STATES)[number];

/** Statuses of a subscription that still exists for Stripe: buying another would make a second one. */
export const LIVE_STATUSES: ReadonlySet<SubscriptionStatus> = new Set([
  'incomplete',
  'trialing',
  'active',
  'past_due',
  'unpaid',
  'paused',
]);

/** States in which the plan's features may be used. */
const ACCESS_GRANTING: ReadonlySet<AccessState> = new Set(['trialing', 'active', 'past_due', 'canceled']);

/** What the state machine reads of one subscription: Stripe's fields, times in Unix seconds. */
export type SubscriptionFacts = {
  id: string;
  status: SubscriptionStatus;
  created: number;
  currentPeriodStart: number | null;
  currentPeriodEnd: number | null;
  trialEnd: number | null;
  cancelAtPeriodEnd: boolean;
  cancelAt: number | null;
  pauseCollection: {
    behavior: 'keep_as_draft' | 'mark_uncollectible' | 'void';
    resumesAt: number | null;
  } | null;
  /**
   * When it fell past due (the unpaid invoice's first failed attempt or creation), when known; grace
   * counts from it, else from the start of the period whose invoice went unpaid.
   */
  pastDueSince: number | null;
};

export type AccessPolicy = {
  /** Days a past-due subscription keeps access while Stripe retries the payment; 0: none. */
  graceDays: number;
  /** Whether credits may be spent by an account with no subscription at all (prepaid top-ups). */
  creditsWithoutSubscription: boolean;
};

export const DEFAULT_ACCESS_POLICY: AccessPolicy = { graceDays: 7, creditsWithoutSubscription: true };

export type Access = {
  state: AccessState;
  /** Why, in one word: the status or the flag that decided it (`cancel_at_period_end`, `grace_over`…). */
  reason: string;
  /** The subscription the state comes from; null when there is none. */
  subscriptionId: string | null;
  /**
   * When this state ends by itself unless Stripe says otherwise: the trial's end, the scheduled cancel,
   * the end of grace, the period's renewal, the pause's resumption. Null when nothing is scheduled.
   */
  endsAt: number | null;
  /** The plan's features may be used. */
  canUse: boolean;
  /** A new subscription may be bought: no subscription of the account is still live for Stripe. */
  canPurchase: boolean;
  canUseCredits: boolean;
};

const DAY_SECONDS = 86_400;

type Verdict = { state: AccessState; reason: string; endsAt: number | null };

/** The state one subscription alone gives. */
export function verdictOf(subscription: SubscriptionFacts, now: number, policy: AccessPolicy): Verdict {
  const verdict = (state: AccessState, reason: string, endsAt: number | null = null) => ({
    state,
    reason,
    endsAt,
  });
  switch (subscription.status) {
    case 'incomplete':
      return verdict('incomplete', 'incomplete');
    case 'incomplete_expired':
      // Its first payment never came: it never gave access, so the account is as if it had none.
      return verdict('none', 'incomplete_expired');
    case 'unpaid':
      return verdict('restricted', 'unpaid');
    case 'paused':
      return verdict('paused', 'paused');
    case 'canceled':
      return verdict('expired', 'canceled');
    case 'past_due':
      return pastDueVerdict(subscription, now, policy);
    case 'trialing':
    case 'active':
      return liveVerdict(subscription, now);
  }
}

function pastDueVerdict(subscription: SubscriptionFacts, now: number, policy: AccessPolicy): Verdict {
  const since = subscription.pastDueSince ?? subscription.currentPeriodStart ?? subscription.created;
  const graceEnds = since + policy.graceDays * DAY_SECONDS;
  if (now >= graceEnds) return { state: 'restricted', reason: 'grace_over', endsAt: null };
  return { state: 'past_due', reason: 'past_due', endsAt: graceEnds };
}

function liveVerdict(subscription: SubscriptionFacts, now: number): Verdict {
  const pause = subscription.pauseCollection;
  // Stripe's `void` pause means the service stops; the other behaviours keep it running unbilled.
  if (pause?.behavior === 'void' && (pause.resumesAt === null || pause.resumesAt > now))
    return { state: 'paused', reason: 'pause_collection', endsAt: pause.resumesAt };
  const cancelsAt = scheduledCancel(subscription);
  if (cancelsAt !== null) {
    const reason = subscription.cancelAt !== null ? 'cancel_at' : 'cancel_at_period_end';
    // Stripe ends it at that second; until its event arrives, the clock already has.
    if (now >= cancelsAt) return { state: 'expired', reason, endsAt: null };
    return { state: 'canceled', reason, endsAt: cancelsAt };
  }
  if (subscription.status === 'trialing')
    return { state: 'trialing', reason: 'trialing', endsAt: subscription.trialEnd };
  return { state: 'active', reason: 'active', endsAt: subscription.currentPeriodEnd };
}

function scheduledCancel(subscription: SubscriptionFacts): number | null {
  if (subscription.cancelAt !== null) return subscription.cancelAt;
  if (!subscription.cancelAtPeriodEnd) return null;
  return subscription.currentPeriodEnd ?? subscription.trialEnd;
}

/**
 * Which state speaks for an account with several subscriptions: the one giving most access, then the one
 * that needs the account's attention (a debt before a pause before an unfinished payment).
 */
const PRECEDENCE: readonly AccessState[] = [
  'active',
  'trialing',
  'past_due',
  'canceled',
  'restricted',
  'paused',
  'incomplete',
  'expired',
  'none',
];

/** The account's access from all its subscriptions (any order). */
export function accessOf(
  subscriptions: readonly SubscriptionFacts[],
  now: number,
  policy: AccessPolicy = DEFAULT_ACCESS_POLICY,
): Access {
  let best: { verdict: Verdict; subscription: SubscriptionFacts } | null = null;
  for (const subscription of subscriptions) {
    const verdict = verdictOf(subscription, now, policy);
    if (best === null || outranks(verdict, subscription, best.verdict, best.subscription))
      best = { verdict, subscription };
  }
  const verdict = best?.verdict ?? { state: 'none', reason: 'no_subscription', endsAt: null };
  const canUse = ACCESS_GRANTING.has(verdict.state);
  const canPurchase = subscriptions.every((subscription) => !LIVE_STATUSES.has(subscription.status));
  return {
    ...verdict,
    subscriptionId: best?.subscription.id ?? null,
    canUse,
    canPurchase,
    canUseCredits:
      canUse ||
      (policy.creditsWithoutSubscription && (verdict.state === 'none' || verdict.state === 'expired')),
  };
}

function outranks(
  verdict: Verdict,
  subscription: SubscriptionFacts,
  other: Verdict,
  otherSubscription: SubscriptionFacts,
): boolean {
  const rank = PRECEDENCE.indexOf(verdict.state) - PRECEDENCE.indexOf(other.state);
  if (rank !== 0) return rank < 0;
  // Equal states: the newest subscription speaks, and the id settles ties so that order never matters.
  if (subscription.created !== otherSubscription.created)
    return subscription.created > otherSubscription.created;
  return subscription.id > otherSubscription.id;
}
