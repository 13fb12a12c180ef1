import { z } from 'zod';
import { createdFilterParam, matchesCreated, paginate, paginationParams } from '../core/list.ts';
import { oneOf } from '../core/params.ts';
import { type SearchFields, search, searchParams } from '../core/search.ts';
import { type Route, route } from '../server/route.ts';
import { createSubscription } from './create.ts';
import { withDeferredEntitlements } from './entitlements.ts';
import { idOf, requireSubscription, subscriptions, type WireSubscription } from './store.ts';
import { periodEndOf, periodStartOf } from './subscription-objects.ts';
import {
  cancelParams,
  createParams,
  pauseParams,
  resumeParams,
  toChanges,
  toNewSubscription,
  updateParams,
} from './subscription-params.ts';
import { customerOf } from './subscription-store.ts';
import { cancelNow, pauseNow, resumePaused, updateSubscription } from './update.ts';

const statusParam = oneOf([
  'active',
  'all',
  'canceled',
  'ended',
  'incomplete',
  'incomplete_expired',
  'past_due',
  'paused',
  'trialing',
  'unpaid',
]);

const listParams = z.strictObject({
  ...paginationParams,
  customer: z.string().optional(),
  price: z.string().optional(),
  plan: z.string().optional(),
  status: statusParam.optional(),
  collection_method: oneOf(['charge_automatically', 'send_invoice']).optional(),
  created: createdFilterParam,
  current_period_start: createdFilterParam,
  current_period_end: createdFilterParam,
  test_clock: z.string().optional(),
});

const ENDED = new Set(['canceled', 'incomplete_expired']);

/** Without `status`, lists leave out ended subscriptions; `all` includes them, `ended` is only them. */
function matchesStatus(subscription: WireSubscription, status: string | undefined): boolean {
  const current = String(subscription.status);
  if (status === undefined) return !ENDED.has(current);
  if (status === 'all') return true;
  if (status === 'ended') return ENDED.has(current);
  return current === status;
}

function matchesList(subscription: WireSubscription, params: z.output<typeof listParams>): boolean {
  const price = params.price ?? params.plan;
  return (
    matchesStatus(subscription, params.status) &&
    (params.customer === undefined || customerOf(subscription) === params.customer) &&
    (price === undefined || subscription.items.data.some((item) => item.price.id === price)) &&
    (params.collection_method === undefined || subscription.collection_method === params.collection_method) &&
    matchesTestClock(subscription, params) &&
    matchesCreated(subscription.created, params.created) &&
    matchesCreated(periodStartOf(subscription), params.current_period_start) &&
    matchesCreated(periodEndOf(subscription), params.current_period_end)
  );
}

/**
 * As on Stripe, a subscription on a test clock is listed only when its clock, or its customer, is
 * asked for.
 */
function matchesTestClock(subscription: WireSubscription, params: z.output<typeof listParams>): boolean {
  const clock = idOf(subscription.test_clock);
  if (params.test_clock !== undefined) return clock === params.test_clock;
  return clock === null || params.customer !== undefined;
}

const searchFields: SearchFields<WireSubscription> = {
  status: (s) => String(s.status),
  created: (s) => s.created,
  customer: (s) => customerOf(s),
};

export const subscriptionRoutes: Route[] = [
  route('post', '/v1/subscriptions', createParams, ({ scope, params }) =>
    withDeferredEntitlements(scope, () => createSubscription(scope, toNewSubscription(params))),
  ),
  route('get', '/v1/subscriptions/search', z.strictObject(searchParams), ({ scope, params }) =>
    search(subscriptions(scope.partition).newestFirst(), params, searchFields, '/v1/subscriptions/search'),
  ),
  route('get', '/v1/subscriptions', listParams, ({ scope, params }) =>
    paginate(
      subscriptions(scope.partition)
        .newestFirst()
        .filter((subscription) => matchesList(subscription, params)),
      params,
      '/v1/subscriptions',
      'subscription',
    ),
  ),
  route('get', '/v1/subscriptions/:id', z.strictObject({}), ({ scope, path }) =>
    requireSubscription(scope, path.id ?? ''),
  ),
  route('post', '/v1/subscriptions/:id', updateParams, ({ scope, path, params }) =>
    withDeferredEntitlements(scope, () =>
      updateSubscription(scope, requireSubscription(scope, path.id ?? ''), toChanges(params)),
    ),
  ),
  route('delete', '/v1/subscriptions/:id', cancelParams, ({ scope, path, params }) =>
    withDeferredEntitlements(scope, () =>
      cancelNow(scope, requireSubscription(scope, path.id ?? ''), {
        invoiceNow: params.invoice_now ?? false,
        prorate: params.prorate ?? false,
        comment: params.cancellation_details?.comment,
        feedback: params.cancellation_details?.feedback,
      }),
    ),
  ),
  route('post', '/v1/subscriptions/:id/pause', pauseParams, ({ scope, path }) =>
    withDeferredEntitlements(scope, () => pauseNow(scope, requireSubscription(scope, path.id ?? ''))),
  ),
  route('post', '/v1/subscriptions/:id/resume', resumeParams, ({ scope, path, params }) => {
    const anchor = params.billing_cycle_anchor;
    const type = typeof anchor === 'object' ? anchor.type : (anchor ?? 'now');
    return withDeferredEntitlements(scope, () =>
      resumePaused(scope, requireSubscription(scope, path.id ?? ''), type),
    );
  }),
];
