import { z } from 'zod';
import { invalidState, parameterInvalid, parameterMissing } from '../core/errors.ts';
import { matchesCreated, paginate } from '../core/list.ts';
import type { Scope } from '../core/scope.ts';
import { type Route, route } from '../server/route.ts';
import { withDeferredEntitlements } from './entitlements.ts';
import { idOf, subscriptions } from './store.ts';
import {
  isGoverning,
  requireSchedule,
  subscriptionSchedules,
  type WireSubscriptionSchedule,
} from './subscription-schedule-objects.ts';
import {
  cancelScheduleParams,
  createScheduleParams,
  listScheduleParams,
  releaseScheduleParams,
  updateScheduleParams,
} from './subscription-schedule-params.ts';
import { createFromSubscription, releaseSchedule, updateSchedule } from './subscription-schedules.ts';
import { cancelNow } from './update.ts';

/** The `/v1/subscription_schedules` endpoints. */
function create(scope: Scope, params: z.output<typeof createScheduleParams>): WireSubscriptionSchedule {
  if (params.from_subscription === undefined) {
    if (params.customer === undefined) throw parameterMissing('from_subscription');
    throw invalidState(
      'The Stripe emulator creates subscription schedules only from an existing subscription (`from_subscription`).',
      'customer',
    );
  }
  for (const param of ['customer', 'phases', 'start_date'] as const)
    if (params[param] !== undefined)
      throw parameterInvalid(param, `You cannot set \`${param}\` if \`from_subscription\` is set.`);
  return createFromSubscription(scope, params.from_subscription, {
    endBehavior: params.end_behavior,
    metadata: params.metadata,
  });
}

/**
 * `POST /v1/subscription_schedules/:id/cancel`: the subscription is canceled now (by default with a
 * final invoice and prorated credit, as Stripe defaults `invoice_now` and `prorate` to true), which
 * cancels the schedule.
 */
function cancel(
  scope: Scope,
  schedule: WireSubscriptionSchedule,
  params: z.output<typeof cancelScheduleParams>,
): WireSubscriptionSchedule {
  if (!isGoverning(schedule))
    throw invalidState(
      `You cannot cancel a subscription schedule that is currently in the \`${schedule.status}\` status. It must be in the \`not_started\` or \`active\` status to be canceled.`,
    );
  const subscriptionId = idOf(schedule.subscription);
  const subscription = subscriptionId ? subscriptions(scope.partition).get(subscriptionId) : undefined;
  if (subscription)
    cancelNow(scope, subscription, {
      invoiceNow: params.invoice_now ?? true,
      prorate: params.prorate ?? true,
    });
  return subscriptionSchedules(scope.partition).get(schedule.id) ?? schedule;
}

export const subscriptionScheduleRoutes: Route[] = [
  route('post', '/v1/subscription_schedules', createScheduleParams, ({ scope, params }) =>
    create(scope, params),
  ),
  route('get', '/v1/subscription_schedules', listScheduleParams, ({ scope, params }) =>
    paginate(
      subscriptionSchedules(scope.partition)
        .newestFirst()
        .filter(
          (schedule) =>
            (params.customer === undefined || idOf(schedule.customer) === params.customer) &&
            matchesCreated(schedule.created, params.created),
        ),
      params,
      '/v1/subscription_schedules',
      'subscription_schedule',
    ),
  ),
  route('get', '/v1/subscription_schedules/:id', z.strictObject({}), ({ scope, path }) =>
    requireSchedule(scope, path.id ?? ''),
  ),
  route('post', '/v1/subscription_schedules/:id', updateScheduleParams, ({ scope, path, params }) =>
    withDeferredEntitlements(scope, () =>
      updateSchedule(scope, requireSchedule(scope, path.id ?? ''), {
        phases: params.phases,
        endBehavior: params.end_behavior,
        prorationBehavior: params.proration_behavior,
        metadata: params.metadata,
      }),
    ),
  ),
  route('post', '/v1/subscription_schedules/:id/release', releaseScheduleParams, ({ scope, path }) =>
    releaseSchedule(scope, requireSchedule(scope, path.id ?? '')),
  ),
  route('post', '/v1/subscription_schedules/:id/cancel', cancelScheduleParams, ({ scope, path, params }) =>
    withDeferredEntitlements(scope, () => cancel(scope, requireSchedule(scope, path.id ?? ''), params)),
  ),
];
