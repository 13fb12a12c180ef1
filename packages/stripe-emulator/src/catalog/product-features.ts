import { z } from 'zod';
import { invalidState, resourceMissing } from '../core/errors.ts';
import { paginate, paginationParams } from '../core/list.ts';
import { str } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import { type Route, route } from '../server/route.ts';
import { refreshAllActiveEntitlements } from './active-entitlements.ts';
import { requireProduct } from './catalog-store.ts';
import { requireFeature } from './features.ts';
import {
  productFeatureTable,
  renderProductFeature,
  type StoredProductFeature,
  type WireProductFeature,
} from './product-feature-store.ts';

function requireAttachment(scope: Scope, productId: string, id: string): StoredProductFeature {
  const attached = productFeatureTable(scope).get(id);
  if (!attached || attached.product !== productId) throw resourceMissing('product_feature', id);
  return attached;
}

/** Attaching a feature grants it at once to every customer subscribed to the product. */
function attachFeature(scope: Scope, productId: string, featureId: string): WireProductFeature {
  requireProduct(scope, productId, 'product');
  const feature = requireFeature(scope, featureId, 'entitlement_feature');
  if (!feature.active)
    throw invalidState(
      `The feature \`${feature.id}\` is archived and cannot be attached to a product.`,
      'entitlement_feature',
    );
  const already = [...productFeatureTable(scope).values()].some(
    (attached) => attached.product === productId && attached.feature === featureId,
  );
  if (already)
    throw invalidState(
      `The feature \`${feature.id}\` is already attached to the product \`${productId}\`.`,
      'entitlement_feature',
    );
  const stored = productFeatureTable(scope).insert({
    id: scope.emulator.random.id('prodft', 24),
    product: productId,
    feature: featureId,
  });
  refreshAllActiveEntitlements(scope);
  return renderProductFeature(scope, stored);
}

function detachFeature(scope: Scope, productId: string, id: string) {
  requireProduct(scope, productId, 'product');
  const attached = requireAttachment(scope, productId, id);
  productFeatureTable(scope).delete(attached.id);
  refreshAllActiveEntitlements(scope);
  return { id: attached.id, object: 'product_feature' as const, deleted: true as const };
}

export const productFeatureRoutes: Route[] = [
  route(
    'post',
    '/v1/products/:product/features',
    z.strictObject({ entitlement_feature: str() }),
    ({ scope, path, params }) => attachFeature(scope, path.product ?? '', params.entitlement_feature),
  ),
  route(
    'get',
    '/v1/products/:product/features',
    z.strictObject(paginationParams),
    ({ scope, path, params }) => {
      const productId = path.product ?? '';
      requireProduct(scope, productId, 'product');
      const rows = productFeatureTable(scope)
        .newestFirst()
        .filter((attached) => attached.product === productId)
        .map((attached) => renderProductFeature(scope, attached));
      return paginate(rows, params, `/v1/products/${productId}/features`, 'product_feature');
    },
  ),
  route('get', '/v1/products/:product/features/:id', z.strictObject({}), ({ scope, path }) => {
    const productId = path.product ?? '';
    requireProduct(scope, productId, 'product');
    return renderProductFeature(scope, requireAttachment(scope, productId, path.id ?? ''));
  }),
  route('delete', '/v1/products/:product/features/:id', z.strictObject({}), ({ scope, path }) =>
    detachFeature(scope, path.product ?? '', path.id ?? ''),
  ),
];
