import type Stripe from 'stripe';
import { invalidState } from '../core/errors.ts';
import { mergeMetadata } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import type { Partition } from '../core/store.ts';
import { previousAttributes } from '../events/emit.ts';
import { emitBillingEvent } from './atomic.ts';
import { endSubscription } from './cancellation.ts';
import { insertInvoiceItems } from './invoices.ts';
import { currentPeriod, type ItemChange, planItems, withPeriod } from './item-changes.ts';
import { recurrenceOf, sameRecurrence } from './lines.ts';
import { idOf, requireSubscription, subscriptions, type WireSubscription } from './store.ts';
import {
  type EndBehavior,
  isGoverning,
  newSchedule,
  type PhaseProration,
  phaseAfterCurrent,
  phaseObject,
  priceIdOf,
  subscriptionSchedules,
  type WirePhase,
  type WireSubscriptionSchedule,
} from './subscription-schedule-objects.ts';
import { type PhaseInput, planPhases } from './subscription-schedule-params.ts';
import { customerOf, saveSubscription, withItems } from './subscription-store.ts';
import { planUpdate } from './update-plan.ts';

/**
 * What subscription schedules do to their subscription: take it over, change its items when a phase
 * begins, and let it go (release) or end it (cancel) when the last phase ends. Events, as Stripe sends
 * them: `subscription_schedule.created|updated|released|canceled|completed|aborted`, and
 * `customer.subscription.updated` whenever the schedule changes the subscription.
 */
type ScheduleEvent = Extract<Stripe.Event.Type, `subscription_schedule.${string}`>;

const ENDED = new Set(['canceled', 'incomplete_expired']);

const nowOf = (scope: Scope, testClock: string | null) => scope.emulator.nowFor(scope.partition, testClock);

function saveSchedule(
  scope: Scope,
  before: WireSubscriptionSchedule,
  after: WireSubscriptionSchedule,
  at: number,
  type: ScheduleEvent = 'subscription_schedule.updated',
): WireSubscriptionSchedule {
  const previous = previousAttributes(before, after);
  subscriptionSchedules(scope.partition).replace(after);
  if (type !== 'subscription_schedule.updated') emitBillingEvent(scope, type, after, undefined, at);
  else if (previous) emitBillingEvent(scope, type, after, previous, at);
  return after;
}

/** `from_subscription`: one phase, the subscription's items for its current period. */
export function createFromSubscription(
  scope: Scope,
  subscriptionId: string,
  options: { endBehavior: EndBehavior | undefined; metadata: Record<string, string> | null | undefined },
): WireSubscriptionSchedule {
  const subscription = requireSubscription(scope, subscriptionId, 'from_subscription');
  const attached = idOf(subscription.schedule);
  if (attached)
    throw invalidState(
      `You cannot migrate a subscription that is already attached to a schedule: \`${attached}\`.`,
      'from_subscription',
    );
  if (ENDED.has(String(subscription.status)))
    throw invalidState(
      `You cannot migrate a subscription that is in the \`${subscription.status}\` status.`,
      'from_subscription',
    );
  const at = nowOf(scope, idOf(subscription.test_clock));
  const period = currentPeriod(subscription);
  const phase = phaseObject({
    items: subscription.items.data.map((item) => ({
      price: item.price,
      quantity: item.quantity,
      metadata: {},
    })),
    start: period.start,
    end: period.end,
    prorationBehavior: 'create_prorations',
    metadata: {},
  });
  const schedule = newSchedule({
    id: scope.emulator.random.id('sub_sched', 24),
    created: at,
    subscription,
    phases: [phase],
    endBehavior: options.endBehavior ?? 'release',
    metadata: options.metadata ?? {},
  });
  subscriptionSchedules(scope.partition).insert(schedule);
  emitBillingEvent(scope, 'subscription_schedule.created', schedule, undefined, at);
  saveSubscription(scope, subscription, { ...subscription, schedule: schedule.id }, at);
  return schedule;
}

export type ScheduleUpdate = {
  phases?: PhaseInput[] | undefined;
  endBehavior?: EndBehavior | undefined;
  prorationBehavior?: PhaseProration | undefined;
  metadata?: Record<string, string> | null | undefined;
};

function requireGoverning(schedule: WireSubscriptionSchedule, action: string): void {
  if (!isGoverning(schedule))
    throw invalidState(
      `You cannot ${action} a subscription schedule that is currently in the \`${schedule.status}\` status. It must be in the \`not_started\` or \`active\` status to be ${action === 'cancel' ? 'canceled' : `${action}d`}.`,
    );
}

const governed = (scope: Scope, schedule: WireSubscriptionSchedule) => {
  const id = idOf(schedule.subscription);
  return id ? subscriptions(scope.partition).get(id) : undefined;
};

/**
 * `POST /v1/subscription_schedules/:id`. New `phases` replace the current and future ones (past
 * phases stay); when the current phase's items change, the subscription changes now, prorated as
 * asked.
 */
export function updateSchedule(
  scope: Scope,
  schedule: WireSubscriptionSchedule,
  update: ScheduleUpdate,
): WireSubscriptionSchedule {
  requireGoverning(schedule, 'update');
  const at = nowOf(scope, idOf(schedule.test_clock));
  let next: WireSubscriptionSchedule = {
    ...schedule,
    end_behavior: update.endBehavior ?? schedule.end_behavior,
    metadata: mergeMetadata(schedule.metadata ?? {}, update.metadata),
  };
  const current = schedule.current_phase;
  if (update.phases) {
    const specs = planPhases(scope, update.phases, { now: at, currentStart: current?.start_date ?? null });
    const past = schedule.phases.filter((phase) => current && phase.end_date <= current.start_date);
    const phases = [...past, ...specs.map(phaseObject)];
    const first = specs[0];
    next = {
      ...next,
      phases,
      current_phase: current && first ? { start_date: first.start, end_date: first.end } : current,
    };
  }
  const saved = saveSchedule(scope, schedule, next, at);
  const subscription = governed(scope, saved);
  const phase = saved.phases.find((candidate) => candidate.start_date === saved.current_phase?.start_date);
  if (subscription && phase && update.phases)
    applyPhase(scope, subscription, phase, at, update.prorationBehavior ?? phaseProration(phase));
  return subscriptionSchedules(scope.partition).get(saved.id) ?? saved;
}

const phaseProration = (phase: WirePhase): PhaseProration =>
  phase.proration_behavior === 'always_invoice'
    ? 'always_invoice'
    : phase.proration_behavior === 'none'
      ? 'none'
      : 'create_prorations';

/** The item changes that turn the subscription's items into the phase's. */
function itemChangesFor(subscription: WireSubscription, phase: WirePhase): ItemChange[] {
  const wanted = new Map(phase.items.map((item) => [priceIdOf(item.price), item]));
  const changes: ItemChange[] = [];
  const kept = new Set<string>();
  for (const item of subscription.items.data) {
    const target = wanted.get(item.price.id);
    if (!target) changes.push({ id: item.id, deleted: true });
    else {
      kept.add(item.price.id);
      if ((target.quantity ?? 1) !== (item.quantity ?? 1))
        changes.push({ id: item.id, quantity: target.quantity });
    }
  }
  for (const [price, item] of wanted)
    if (!kept.has(price)) changes.push({ price, quantity: item.quantity, metadata: item.metadata ?? {} });
  return changes;
}

/**
 * Puts the phase's items on the subscription. At a period boundary the new items simply take the
 * period that is ending (so the renewal that follows bills them in full, with no prorations); a
 * switch to another interval re-anchors the cycle there. Mid-period, the change is prorated as
 * `proration` says; the prorations wait for the next invoice.
 */
function applyPhase(
  scope: Scope,
  subscription: WireSubscription,
  phase: WirePhase,
  at: number,
  proration: PhaseProration,
): WireSubscription {
  const changes = itemChangesFor(subscription, phase);
  if (changes.length === 0) return subscription;
  const period = currentPeriod(subscription);
  if (period.end === at) {
    const plan = planItems(scope, subscription, changes, at, 'phases');
    const items = plan.items.map((item) => withPeriod(item, period));
    const first = items[0];
    const before = subscription.items.data[0];
    const moved =
      first && before && !sameRecurrence(recurrenceOf(first.price), recurrenceOf(before.price))
        ? { billing_cycle_anchor: at }
        : {};
    return saveSubscription(scope, subscription, { ...withItems(subscription, items), ...moved }, at);
  }
  const plan = planUpdate(scope, subscription, { items: changes, prorationBehavior: proration }, at);
  insertInvoiceItems(scope, customerOf(subscription), plan.prorations, at);
  return saveSubscription(scope, subscription, plan.next, at);
}

/**
 * Due work at the end of the current phase (before the renewal due at the same moment): the next
 * phase begins, or — after the last — the end behavior applies.
 */
export function enterNextPhase(scope: Scope, subscription: WireSubscription, at: number): void {
  const schedule = activeScheduleOf(scope.partition, subscription);
  if (!schedule) return;
  const next = phaseAfterCurrent(schedule);
  if (!next) {
    finishSchedule(scope, schedule, subscription, at);
    return;
  }
  saveSchedule(
    scope,
    schedule,
    { ...schedule, current_phase: { start_date: next.start_date, end_date: next.end_date } },
    at,
  );
  applyPhase(scope, subscription, next, at, 'none');
}

function finishSchedule(
  scope: Scope,
  schedule: WireSubscriptionSchedule,
  subscription: WireSubscription,
  at: number,
): void {
  if (schedule.end_behavior === 'cancel') {
    saveSchedule(
      scope,
      schedule,
      { ...schedule, status: 'completed', completed_at: at, current_phase: null },
      at,
      'subscription_schedule.completed',
    );
    endSubscription(scope, subscription, at, {
      status: 'canceled',
      reason: 'cancellation_requested',
      clearSchedule: true,
    });
    return;
  }
  letGo(scope, schedule, subscription, at);
}

/** Releasing: the subscription keeps what it has, without a schedule. */
function letGo(
  scope: Scope,
  schedule: WireSubscriptionSchedule,
  subscription: WireSubscription | undefined,
  at: number,
): WireSubscriptionSchedule {
  const released = saveSchedule(
    scope,
    schedule,
    {
      ...schedule,
      status: 'released',
      released_at: at,
      released_subscription: idOf(schedule.subscription),
      subscription: null,
      current_phase: null,
    },
    at,
    'subscription_schedule.released',
  );
  if (subscription && idOf(subscription.schedule) === schedule.id)
    saveSubscription(scope, subscription, { ...subscription, schedule: null }, at);
  return released;
}

/** `POST /v1/subscription_schedules/:id/release`. */
export function releaseSchedule(scope: Scope, schedule: WireSubscriptionSchedule): WireSubscriptionSchedule {
  requireGoverning(schedule, 'release');
  return letGo(scope, schedule, governed(scope, schedule), nowOf(scope, idOf(schedule.test_clock)));
}

/** The schedule governing a subscription, while it is active. */
export function activeScheduleOf(partition: Partition, subscription: WireSubscription) {
  const id = idOf(subscription.schedule);
  const schedule = id ? subscriptionSchedules(partition).get(id) : undefined;
  return schedule?.status === 'active' ? schedule : undefined;
}

/** When the current phase of the subscription's schedule ends, or `null` without an active schedule. */
export const phaseEndOf = (partition: Partition, subscription: WireSubscription): number | null =>
  activeScheduleOf(partition, subscription)?.current_phase?.end_date ?? null;

/**
 * A subscription that ends otherwise (canceled by request, for non-payment, expired) ends its
 * schedule: `canceled`, or `aborted` as the event says when delinquency ended it.
 */
export function endScheduleOf(
  scope: Scope,
  subscription: WireSubscription,
  at: number,
  reason: string | null,
): void {
  const id = idOf(subscription.schedule);
  const schedule = id ? subscriptionSchedules(scope.partition).get(id) : undefined;
  if (!schedule || !isGoverning(schedule)) return;
  const type =
    reason === 'payment_failed' ? 'subscription_schedule.aborted' : 'subscription_schedule.canceled';
  saveSchedule(
    scope,
    schedule,
    { ...schedule, status: 'canceled', canceled_at: at, current_phase: null },
    at,
    type,
  );
}
