import { z } from 'zod';
import { parameterMissing, resourceMissing } from '../core/errors.ts';
import { paginate, paginationParams } from '../core/list.ts';
import { bool, int, metadata, str } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import { type Route, route } from '../server/route.ts';
import { withDeferredEntitlements } from './entitlements.ts';
import type { ItemChange } from './item-changes.ts';
import { requireSubscription, subscriptionItems, type WireSubscriptionItem } from './store.ts';
import { paymentBehaviorParam, prorationBehaviorParam } from './subscription-params.ts';
import { updateSubscription } from './update.ts';

/**
 * Subscription items on their own: each change goes through the subscription update, so it prorates
 * and invoices exactly as `items[]` on `POST /v1/subscriptions/:id` would.
 */
const changeFields = {
  proration_behavior: prorationBehaviorParam.optional(),
  proration_date: int().optional(),
  payment_behavior: paymentBehaviorParam.optional(),
  off_session: bool().optional(),
};

const createParams = z.strictObject({
  ...changeFields,
  subscription: str(),
  price: str().optional(),
  plan: str().optional(),
  quantity: int({ min: 0 }).optional(),
  metadata: metadata().optional(),
});

const updateParams = z.strictObject({
  ...changeFields,
  price: str().optional(),
  plan: str().optional(),
  quantity: int({ min: 0 }).optional(),
  metadata: metadata().optional(),
});

const deleteParams = z.strictObject({
  proration_behavior: prorationBehaviorParam.optional(),
  proration_date: int().optional(),
  clear_usage: bool().optional(),
});

const listParams = z.strictObject({ ...paginationParams, subscription: str() });

function requireItem(scope: Scope, id: string): WireSubscriptionItem {
  const item = subscriptionItems(scope.partition).get(id);
  if (!item) throw resourceMissing('subscription_item', id);
  return item;
}

type Change = {
  proration_behavior?: 'always_invoice' | 'create_prorations' | 'none' | undefined;
  proration_date?: number | undefined;
  payment_behavior?: 'allow_incomplete' | 'default_incomplete' | 'error_if_incomplete' | undefined;
};

function changeItems(scope: Scope, subscriptionId: string, items: ItemChange[], params: Change) {
  return withDeferredEntitlements(scope, () =>
    updateSubscription(scope, requireSubscription(scope, subscriptionId, 'subscription'), {
      items,
      prorationBehavior: params.proration_behavior,
      prorationDate: params.proration_date,
      paymentBehavior: params.payment_behavior,
    }),
  );
}

export const subscriptionItemRoutes: Route[] = [
  route('post', '/v1/subscription_items', createParams, ({ scope, params }) => {
    const price = params.price ?? params.plan;
    if (!price) throw parameterMissing('price');
    const before = new Set(
      requireSubscription(scope, params.subscription, 'subscription').items.data.map((i) => i.id),
    );
    const after = changeItems(
      scope,
      params.subscription,
      [{ price, quantity: params.quantity, metadata: params.metadata }],
      params,
    );
    const added = after.items.data.find((item) => !before.has(item.id));
    if (!added) throw resourceMissing('subscription_item', price, 'price');
    return added;
  }),
  route('get', '/v1/subscription_items', listParams, ({ scope, params }) => {
    const subscription = requireSubscription(scope, params.subscription, 'subscription');
    const rows = subscription.items.data;
    return paginate(rows, params, '/v1/subscription_items', 'subscription_item');
  }),
  route('get', '/v1/subscription_items/:id', z.strictObject({}), ({ scope, path }) =>
    requireItem(scope, path.id ?? ''),
  ),
  route('post', '/v1/subscription_items/:id', updateParams, ({ scope, path, params }) => {
    const item = requireItem(scope, path.id ?? '');
    const after = changeItems(
      scope,
      item.subscription,
      [
        {
          id: item.id,
          price: params.price ?? params.plan,
          quantity: params.quantity,
          metadata: params.metadata,
        },
      ],
      params,
    );
    return after.items.data.find((candidate) => candidate.id === item.id) ?? requireItem(scope, item.id);
  }),
  route('delete', '/v1/subscription_items/:id', deleteParams, ({ scope, path, params }) => {
    const item = requireItem(scope, path.id ?? '');
    changeItems(scope, item.subscription, [{ id: item.id, deleted: true }], params);
    return { id: item.id, object: 'subscription_item', deleted: true };
  }),
];
