import { z } from 'zod';
import { invalidState } from '../core/errors.ts';
import { createdFilterParam, matchesCreated, paginate, paginationParams } from '../core/list.ts';
import { bool, emptyable, int, list, mergeMetadata, metadata, oneOf, str } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import { type SearchFields, search, searchParams } from '../core/search.ts';
import { emitEvent } from '../events/emit.ts';
import { type Route, route } from '../server/route.ts';
import {
  checkPriceReferences,
  claimLookupKey,
  insertPrice,
  insertProduct,
  priceTable,
  requirePrice,
  requireProduct,
  savePrice,
  type WirePrice,
} from './catalog-store.ts';
import {
  checkPriceTerms,
  currencyParam,
  priceTermsFields,
  taxBehaviorParam,
  tiersParam,
} from './price-data.ts';

const productDataParam = z.strictObject({
  name: str(),
  active: bool().optional(),
  id: str().optional(),
  metadata: metadata().optional(),
  statement_descriptor: str().optional(),
  tax_code: str().optional(),
  tax_details: z
    .strictObject({ performance_location: z.string().optional(), tax_code: emptyable(z.string()).optional() })
    .optional(),
  unit_label: str().optional(),
});

const createParams = z.strictObject({
  ...priceTermsFields,
  active: bool().optional(),
  billing_scheme: oneOf(['per_unit', 'tiered']).optional(),
  lookup_key: str().optional(),
  nickname: str().optional(),
  product: str().optional(),
  product_data: productDataParam.optional(),
  tiers: tiersParam.optional(),
  tiers_mode: oneOf(['graduated', 'volume']).optional(),
  transfer_lookup_key: bool().optional(),
  transform_quantity: z.strictObject({ divide_by: int({ min: 1 }), round: oneOf(['down', 'up']) }).optional(),
});

const updateParams = z.strictObject({
  active: bool().optional(),
  lookup_key: emptyable(z.string()).optional(),
  metadata: metadata().optional(),
  nickname: emptyable(z.string()).optional(),
  tax_behavior: taxBehaviorParam.optional(),
  transfer_lookup_key: bool().optional(),
});

const listParams = z.strictObject({
  ...paginationParams,
  active: bool().optional(),
  created: createdFilterParam,
  currency: currencyParam.optional(),
  lookup_keys: list(z.string()).optional(),
  product: z.string().optional(),
  recurring: z
    .strictObject({
      interval: oneOf(['day', 'week', 'month', 'year']).optional(),
      meter: z.string().optional(),
      usage_type: oneOf(['licensed', 'metered']).optional(),
    })
    .optional(),
  type: oneOf(['one_time', 'recurring']).optional(),
});

const searchFields: SearchFields<WirePrice> = {
  active: (p) => String(p.active),
  created: (p) => p.created,
  currency: (p) => p.currency,
  lookup_key: (p) => p.lookup_key,
  product: (p) => (typeof p.product === 'string' ? p.product : p.product.id),
  type: (p) => p.type,
};

/** Creates a price for an existing product or, with `product_data`, for a new one. */
export function createPrice(scope: Scope, params: z.output<typeof createParams>): WirePrice {
  const { product, product_data: productData, ...terms } = params;
  if (product !== undefined && productData !== undefined)
    throw invalidState(
      'You may only specify one of these parameters: product, product_data.',
      'product_data',
    );
  if (product === undefined && productData === undefined)
    throw invalidState(
      'You must specify either `product` or `product_data` when creating a price.',
      'product',
    );
  checkPriceTerms(terms);
  if (product !== undefined) {
    requireProduct(scope, product, 'product');
    return insertPrice(scope, terms, product);
  }
  checkPriceReferences(scope, terms);
  const created = insertProduct(scope, productData as z.output<typeof productDataParam>);
  emitEvent(scope, 'product.created', created);
  return insertPrice(scope, terms, created.id);
}

function updatePrice(scope: Scope, id: string, params: z.output<typeof updateParams>): WirePrice {
  const before = requirePrice(scope, id);
  const next = structuredClone(before);
  if (params.active !== undefined) next.active = params.active;
  if (params.metadata !== undefined) next.metadata = mergeMetadata(next.metadata, params.metadata);
  if (params.nickname !== undefined) next.nickname = params.nickname;
  if (params.tax_behavior !== undefined && params.tax_behavior !== before.tax_behavior) {
    if (before.tax_behavior !== 'unspecified')
      throw invalidState(
        'The tax_behavior of a price cannot be changed once it is set to `inclusive` or `exclusive`.',
        'tax_behavior',
      );
    next.tax_behavior = params.tax_behavior;
  }
  if (params.lookup_key !== undefined) {
    if (params.lookup_key) claimLookupKey(scope, params.lookup_key, id, params.transfer_lookup_key ?? false);
    next.lookup_key = params.lookup_key;
  }
  return savePrice(scope, before, next);
}

function listPrices(scope: Scope, params: z.output<typeof listParams>) {
  const lookupKeys = params.lookup_keys && new Set(params.lookup_keys);
  const recurring = params.recurring;
  const rows = priceTable(scope)
    .newestFirst()
    .filter(
      (p) =>
        (params.active === undefined || p.active === params.active) &&
        (params.currency === undefined || p.currency === params.currency) &&
        (params.product === undefined || p.product === params.product) &&
        (params.type === undefined || p.type === params.type) &&
        (lookupKeys === undefined || (p.lookup_key !== null && lookupKeys.has(p.lookup_key))) &&
        (recurring === undefined ||
          (p.recurring !== null &&
            (recurring.interval === undefined || p.recurring.interval === recurring.interval) &&
            (recurring.meter === undefined || p.recurring.meter === recurring.meter) &&
            (recurring.usage_type === undefined || p.recurring.usage_type === recurring.usage_type))) &&
        matchesCreated(p.created, params.created),
    );
  return paginate(rows, params, '/v1/prices', 'price');
}

export const priceRoutes: Route[] = [
  route('post', '/v1/prices', createParams, ({ scope, params }) => createPrice(scope, params)),
  route('get', '/v1/prices/search', z.strictObject(searchParams), ({ scope, params }) =>
    search(priceTable(scope).newestFirst(), params, searchFields, '/v1/prices/search'),
  ),
  route('get', '/v1/prices/:id', z.strictObject({}), ({ scope, path }) => requirePrice(scope, path.id ?? '')),
  route('post', '/v1/prices/:id', updateParams, ({ scope, path, params }) =>
    updatePrice(scope, path.id ?? '', params),
  ),
  route('get', '/v1/prices', listParams, ({ scope, params }) => listPrices(scope, params)),
];
