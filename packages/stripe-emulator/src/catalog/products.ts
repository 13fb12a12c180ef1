import { z } from 'zod';
import { invalidState, resourceMissing } from '../core/errors.ts';
import { createdFilterParam, matchesCreated, paginate, paginationParams } from '../core/list.ts';
import { bool, emptyable, int, list, mergeMetadata, metadata, oneOf, str } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import { type SearchFields, search, searchParams } from '../core/search.ts';
import { emitEvent } from '../events/emit.ts';
import { type Route, route } from '../server/route.ts';
import {
  insertPrice,
  insertProduct,
  priceTable,
  productTable,
  requirePrice,
  requireProduct,
  saveProduct,
  type WireProduct,
} from './catalog-store.ts';
import { checkPriceTerms, priceTermsFields } from './price-data.ts';
import { productFeatureTable } from './product-feature-store.ts';

const dimension = z
  .string()
  .regex(/^\d+(\.\d+)?$/)
  .transform(Number);

const packageDimensionsParam = z.strictObject({
  height: dimension,
  length: dimension,
  weight: dimension,
  width: dimension,
});

const taxDetailsParam = z.strictObject({
  performance_location: z.string().optional(),
  tax_code: emptyable(z.string()).optional(),
});

const marketingFeaturesParam = list(z.strictObject({ name: str() }));

const defaultPriceDataParam = z.strictObject({
  ...priceTermsFields,
  recurring: z
    .strictObject({
      interval: oneOf(['day', 'week', 'month', 'year']),
      interval_count: int({ min: 1 }).optional(),
    })
    .optional(),
});

const createParams = z.strictObject({
  name: str(),
  id: str().optional(),
  active: bool().optional(),
  default_price_data: defaultPriceDataParam.optional(),
  description: str().optional(),
  images: list(z.string()).optional(),
  marketing_features: marketingFeaturesParam.optional(),
  metadata: metadata().optional(),
  package_dimensions: packageDimensionsParam.optional(),
  shippable: bool().optional(),
  statement_descriptor: str().optional(),
  tax_code: str().optional(),
  tax_details: taxDetailsParam.optional(),
  type: oneOf(['good', 'service']).optional(),
  unit_label: str().optional(),
  url: str().optional(),
});

const updateParams = z.strictObject({
  active: bool().optional(),
  default_price: str().optional(),
  description: emptyable(z.string()).optional(),
  images: emptyable(list(z.string())).optional(),
  marketing_features: emptyable(marketingFeaturesParam).optional(),
  metadata: metadata().optional(),
  name: str().optional(),
  package_dimensions: emptyable(packageDimensionsParam).optional(),
  shippable: bool().optional(),
  statement_descriptor: str().optional(),
  tax_code: emptyable(z.string()).optional(),
  tax_details: emptyable(taxDetailsParam).optional(),
  unit_label: emptyable(z.string()).optional(),
  url: emptyable(z.string()).optional(),
});

const listParams = z.strictObject({
  ...paginationParams,
  active: bool().optional(),
  created: createdFilterParam,
  ids: list(z.string()).optional(),
  shippable: bool().optional(),
  type: oneOf(['good', 'service']).optional(),
  url: z.string().optional(),
});

const searchFields: SearchFields<WireProduct> = {
  active: (p) => String(p.active),
  created: (p) => p.created,
  description: (p) => p.description,
  name: (p) => p.name,
  shippable: (p) => (p.shippable === null ? null : String(p.shippable)),
  url: (p) => p.url,
};

/**
 * Creates a product and, with `default_price_data`, its default price, announced
 * as `product.created` (already naming the default price) followed by `price.created`.
 */
export function createProduct(scope: Scope, params: z.output<typeof createParams>): WireProduct {
  const { default_price_data: priceData, ...fields } = params;
  if (priceData) checkPriceTerms(priceData, 'default_price_data');
  const product = insertProduct(scope, fields);
  if (!priceData) {
    emitEvent(scope, 'product.created', product);
    return product;
  }
  let withPrice = product;
  insertPrice(scope, priceData, product.id, {
    paramPrefix: 'default_price_data',
    beforeEvent: (price) => {
      withPrice = productTable(scope).replace({ ...product, default_price: price.id });
      emitEvent(scope, 'product.created', withPrice);
    },
  });
  return withPrice;
}

function applyUpdate(scope: Scope, before: WireProduct, input: z.output<typeof updateParams>): WireProduct {
  const next = structuredClone(before);
  if (input.active !== undefined) next.active = input.active;
  if (input.default_price !== undefined) {
    const price = requirePrice(scope, input.default_price, 'default_price');
    if (price.product !== before.id)
      throw invalidState(
        `The price \`${price.id}\` does not belong to the product \`${before.id}\`.`,
        'default_price',
      );
    if (!price.active)
      throw invalidState(
        `The price \`${price.id}\` is archived and cannot be set as default.`,
        'default_price',
      );
    next.default_price = price.id;
  }
  if (input.description !== undefined) next.description = input.description;
  if (input.images !== undefined) next.images = input.images ?? [];
  if (input.marketing_features !== undefined) next.marketing_features = input.marketing_features ?? [];
  if (input.metadata !== undefined) next.metadata = mergeMetadata(next.metadata, input.metadata);
  if (input.name !== undefined) next.name = input.name;
  if (input.package_dimensions !== undefined) next.package_dimensions = input.package_dimensions;
  if (input.shippable !== undefined) next.shippable = input.shippable;
  if (input.statement_descriptor !== undefined) next.statement_descriptor = input.statement_descriptor;
  if (input.tax_code !== undefined) next.tax_code = input.tax_code;
  if (input.tax_details !== undefined)
    next.tax_details = input.tax_details && {
      performance_location: input.tax_details.performance_location ?? null,
      tax_code: input.tax_details.tax_code ?? null,
    };
  if (input.unit_label !== undefined) next.unit_label = input.unit_label;
  if (input.url !== undefined) next.url = input.url;
  return next;
}

/**
 * Stripe refuses to delete a product that still has prices (archiving is the way out); its feature
 * attachments go with it.
 */
function deleteProduct(scope: Scope, id: string) {
  const product = requireProduct(scope, id);
  const hasPrices = priceTable(scope)
    .newestFirst()
    .some((price) => price.product === id);
  if (hasPrices)
    throw invalidState('This product cannot be deleted because it has one or more user-created prices.');
  productTable(scope).delete(id);
  for (const attached of [...productFeatureTable(scope).values()])
    if (attached.product === id) productFeatureTable(scope).delete(attached.id);
  const deleted = { id, object: 'product' as const, deleted: true as const };
  scope.partition.table<typeof deleted>('deleted_product').insert(deleted);
  emitEvent(scope, 'product.deleted', product);
  return deleted;
}

export const productRoutes: Route[] = [
  route('post', '/v1/products', createParams, ({ scope, params }) => createProduct(scope, params)),
  route('get', '/v1/products/search', z.strictObject(searchParams), ({ scope, params }) =>
    search(productTable(scope).newestFirst(), params, searchFields, '/v1/products/search'),
  ),
  route('get', '/v1/products/:id', z.strictObject({}), ({ scope, path }) => {
    const id = path.id ?? '';
    const product = productTable(scope).get(id);
    if (product) return product;
    const deleted = scope.partition.table<{ id: string }>('deleted_product').get(id);
    if (deleted) return deleted;
    throw resourceMissing('product', id);
  }),
  route('post', '/v1/products/:id', updateParams, ({ scope, path, params }) => {
    const before = requireProduct(scope, path.id ?? '');
    return saveProduct(scope, before, applyUpdate(scope, before, params));
  }),
  route('delete', '/v1/products/:id', z.strictObject({}), ({ scope, path }) =>
    deleteProduct(scope, path.id ?? ''),
  ),
  route('get', '/v1/products', listParams, ({ scope, params }) => {
    const ids = params.ids && new Set(params.ids);
    const rows = productTable(scope)
      .newestFirst()
      .filter(
        (p) =>
          (params.active === undefined || p.active === params.active) &&
          (ids === undefined || ids.has(p.id)) &&
          (params.shippable === undefined || p.shippable === params.shippable) &&
          (params.type === undefined || p.type === params.type) &&
          (params.url === undefined || p.url === params.url) &&
          matchesCreated(p.created, params.created),
      );
    return paginate(rows, params, '/v1/products', 'product');
  }),
];
