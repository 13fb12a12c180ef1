import type Stripe from 'stripe';
import { z } from 'zod';
import { resourceMissing } from '../core/errors.ts';
import { embeddedList, paginate, paginationParams } from '../core/list.ts';
import { backgroundCause, type Scope } from '../core/scope.ts';
import type { Wire } from '../core/wire.ts';
import { customerTable, requireCustomer } from '../customers/index.ts';
import { emitEvent } from '../events/emit.ts';
import { type Route, route } from '../server/route.ts';
import { priceTable } from './catalog-store.ts';
import { diffEntitlements, entitledProducts, type SubscriptionLike } from './entitlement-set.ts';
import { featureTable } from './features.ts';
import { modeId } from './mode-id.ts';
import { featuresOfProduct } from './product-feature-store.ts';

export type WireActiveEntitlement = Wire<Stripe.Entitlements.ActiveEntitlement>;
export type WireEntitlementSummary = Wire<Stripe.Entitlements.ActiveEntitlementSummary>;

/** Whose entitlement a row is: kept beside it, since the object itself does not name its customer. */
type Holding = { id: string; customer: string; feature: string };

const entitlementTable = (scope: Scope) =>
  scope.partition.table<WireActiveEntitlement>('entitlements.active_entitlement');
const holdingTable = (scope: Scope) => scope.partition.table<Holding>('active_entitlement_holding');

/** The customer's entitlements, newest first, as the list endpoint and the summary show them. */
function entitlementsOf(scope: Scope, customerId: string): WireActiveEntitlement[] {
  const held = new Set(
    [...holdingTable(scope).values()].filter((h) => h.customer === customerId).map((h) => h.id),
  );
  return entitlementTable(scope)
    .newestFirst()
    .filter((entitlement) => held.has(entitlement.id));
}

function wantedFeatures(scope: Scope, customerId: string): string[] {
  const subscriptions = scope.partition.table<SubscriptionLike & { id: string }>('subscription').values();
  const products = entitledProducts(subscriptions, customerId, (priceId) => {
    const product = priceTable(scope).get(priceId)?.product;
    return typeof product === 'string' ? product : (product?.id ?? null);
  });
  const features = new Set<string>();
  for (const product of products)
    for (const feature of featuresOfProduct(scope, product))
      if (featureTable(scope).get(feature)?.active) features.add(feature);
  return [...features];
}

function summaryOf(scope: Scope, customerId: string, data: WireActiveEntitlement[]): WireEntitlementSummary {
  return {
    object: 'entitlements.active_entitlement_summary',
    customer: customerId,
    entitlements: embeddedList(data, `/v1/customer/${customerId}/entitlements`),
    livemode: scope.partition.livemode,
  };
}

/**
 * Recomputes a customer's active entitlements from their subscriptions (status active, trialing or
 * past_due) and the features attached to the subscribed products. When the set changes it emits
 * `entitlements.active_entitlement_summary.updated`, as Stripe does, with no request attached.
 * Safe to call at any time and as often as wanted: an unchanged set changes nothing.
 */
export function refreshActiveEntitlements(scope: Scope, customerId: string): WireEntitlementSummary {
  const holdings = [...holdingTable(scope).values()].filter((h) => h.customer === customerId);
  const change = diffEntitlements(holdings, wantedFeatures(scope, customerId));
  if (change.added.length === 0 && change.removed.length === 0)
    return summaryOf(scope, customerId, entitlementsOf(scope, customerId));
  const before = entitlementsOf(scope, customerId);
  for (const removed of change.removed) {
    holdingTable(scope).delete(removed.id);
    entitlementTable(scope).delete(removed.id);
  }
  for (const featureId of change.added) {
    const feature = featureTable(scope).get(featureId);
    if (!feature) continue;
    const id = modeId(scope, 'ent');
    holdingTable(scope).insert({ id, customer: customerId, feature: featureId });
    entitlementTable(scope).insert({
      id,
      object: 'entitlements.active_entitlement',
      feature: featureId,
      livemode: scope.partition.livemode,
      lookup_key: feature.lookup_key,
    });
  }
  const summary = summaryOf(scope, customerId, entitlementsOf(scope, customerId));
  const clock = customerTable(scope).get(customerId)?.test_clock;
  const at = scope.emulator.nowFor(scope.partition, typeof clock === 'string' ? clock : clock?.id);
  emitEvent(
    { ...scope, cause: backgroundCause },
    'entitlements.active_entitlement_summary.updated',
    summary,
    { entitlements: { data: before } },
    at,
  );
  return summary;
}

/**
 * Recomputes every customer who holds entitlements or subscriptions, after a change to what
 * products grant (a feature attached, detached, archived or restored).
 */
export function refreshAllActiveEntitlements(scope: Scope): void {
  const customers = new Set<string>();
  for (const holding of holdingTable(scope).values()) customers.add(holding.customer);
  for (const subscription of scope.partition
    .table<{ id: string; customer: unknown }>('subscription')
    .values()) {
    const customer = subscription.customer;
    const id = typeof customer === 'string' ? customer : (customer as { id?: string } | null)?.id;
    if (id) customers.add(id);
  }
  for (const customer of customers) refreshActiveEntitlements(scope, customer);
}

const listParams = z.strictObject({ ...paginationParams, customer: z.string() });

export const activeEntitlementRoutes: Route[] = [
  route('get', '/v1/entitlements/active_entitlements', listParams, ({ scope, params }) => {
    requireCustomer(scope, params.customer, 'customer');
    refreshActiveEntitlements(scope, params.customer);
    return paginate(
      entitlementsOf(scope, params.customer),
      params,
      '/v1/entitlements/active_entitlements',
      'entitlements.active_entitlement',
    );
  }),
  route('get', '/v1/entitlements/active_entitlements/:id', z.strictObject({}), ({ scope, path }) => {
    const id = path.id ?? '';
    const entitlement = entitlementTable(scope).get(id);
    if (!entitlement) throw resourceMissing('entitlements.active_entitlement', id);
    return entitlement;
  }),
];
