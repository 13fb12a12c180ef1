import type Stripe from 'stripe';
import { z } from 'zod';
import { amountFor } from '../billing/index.ts';
import { priceTable, priceTiers, productTable, requirePrice, requireProduct } from '../catalog/index.ts';
import { invalidState, parameterInvalid, parameterMissing } from '../core/errors.ts';
import { int, metadata, oneOf, str } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import type { Wire } from '../core/wire.ts';
import { emitEvent } from '../events/emit.ts';

export type WireLineItem = Wire<Stripe.LineItem>;
type WirePrice = Wire<Stripe.Price>;

export const lineItemParam = z.strictObject({
  price: str().optional(),
  price_data: z
    .strictObject({
      currency: str(),
      product: str().optional(),
      product_data: z
        .strictObject({
          name: str(),
          description: z.string().optional(),
          images: z.unknown().optional(),
          metadata: metadata().optional(),
          tax_code: z.string().optional(),
          unit_label: z.string().optional(),
        })
        .optional(),
      unit_amount: int({ min: 0 }).optional(),
      unit_amount_decimal: z.string().optional(),
      recurring: z
        .strictObject({
          interval: oneOf(['day', 'week', 'month', 'year']),
          interval_count: int({ min: 1 }).optional(),
        })
        .optional(),
      tax_behavior: oneOf(['exclusive', 'inclusive', 'unspecified']).optional(),
    })
    .optional(),
  quantity: int({ min: 0 }).optional(),
  adjustable_quantity: z.unknown().optional(),
  dynamic_tax_rates: z.unknown().optional(),
  tax_rates: z.unknown().optional(),
  metadata: metadata().optional(),
});

export type LineItemInput = z.output<typeof lineItemParam>;

type Mode = 'payment' | 'subscription' | 'setup';

/** The line items of a new session, checked against the session's mode, with their amounts. */
export function buildLineItems(scope: Scope, inputs: LineItemInput[], mode: Mode): WireLineItem[] {
  const items = inputs.map((input, index) => buildLineItem(scope, input, index));
  const recurring = items.some((item) => item.price?.recurring);
  if (mode === 'subscription' && !recurring)
    throw parameterInvalid(
      'line_items',
      'You must provide at least one recurring price in `subscription` mode when using prices.',
    );
  if (mode === 'payment' && recurring)
    throw parameterInvalid(
      'line_items',
      'You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.',
    );
  const currencies = new Set(items.map((item) => item.currency));
  if (currencies.size > 1) throw parameterInvalid('line_items', 'All prices must be in the same currency.');
  return items;
}

function buildLineItem(scope: Scope, input: LineItemInput, index: number): WireLineItem {
  const param = `line_items[${index}]`;
  const price = priceOf(scope, input, param);
  const metered = price.recurring?.usage_type === 'metered';
  if (metered && input.quantity !== undefined)
    throw parameterInvalid(
      `${param}[quantity]`,
      'Quantity should not be specified where usage_type is `metered`.',
    );
  if (!metered && input.quantity === undefined) throw parameterMissing(`${param}[quantity]`);
  const quantity = metered ? null : (input.quantity ?? 1);
  const amount = metered ? 0 : amountFor(price, priceTiers(scope, price.id), quantity ?? 0);
  const product = productTable(scope).get(String(price.product));
  return {
    id: scope.emulator.random.id('li', 24),
    object: 'item',
    adjustable_quantity: null,
    amount_discount: 0,
    amount_subtotal: amount,
    amount_tax: 0,
    amount_total: amount,
    currency: price.currency,
    description: product?.name ?? null,
    metadata: input.metadata ?? {},
    price,
    quantity,
  };
}

function priceOf(scope: Scope, input: LineItemInput, param: string): WirePrice {
  if (input.price && input.price_data)
    throw parameterInvalid(param, `You may only specify one of these parameters: price, price_data.`);
  if (input.price) {
    const price = requirePrice(scope, input.price, `${param}[price]`);
    if (!price.active)
      throw invalidState(
        `The price specified is inactive. This field only accepts active prices.`,
        `${param}[price]`,
      );
    return price;
  }
  if (input.price_data) return inlinePrice(scope, input.price_data, `${param}[price_data]`);
  throw parameterMissing(`${param}[price]`);
}

type PriceData = NonNullable<LineItemInput['price_data']>;

/**
 * `price_data` creates a price only this session uses (inactive, so it never shows up for sale), and
 * `product_data` a product for it, as Stripe does.
 */
function inlinePrice(scope: Scope, data: PriceData, param: string): WirePrice {
  const productId = data.product
    ? requireProduct(scope, data.product, `${param}[product]`).id
    : inlineProduct(scope, data, param);
  const unitDecimal =
    data.unit_amount_decimal ?? (data.unit_amount !== undefined ? String(data.unit_amount) : null);
  if (unitDecimal === null) throw parameterMissing(`${param}[unit_amount]`);
  const price: WirePrice = {
    id: scope.emulator.random.id('price', 24),
    object: 'price',
    active: false,
    billing_scheme: 'per_unit',
    created: scope.emulator.clock.nowSeconds(),
    currency: data.currency.toLowerCase(),
    custom_unit_amount: null,
    livemode: scope.partition.livemode,
    lookup_key: null,
    metadata: {},
    nickname: null,
    product: productId,
    recurring: data.recurring
      ? {
          interval: data.recurring.interval,
          interval_count: data.recurring.interval_count ?? 1,
          meter: null,
          trial_period_days: null,
          usage_type: 'licensed',
        }
      : null,
    tax_behavior: data.tax_behavior ?? 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: data.recurring ? 'recurring' : 'one_time',
    unit_amount: Number.isInteger(Number(unitDecimal)) ? Number(unitDecimal) : null,
    unit_amount_decimal: unitDecimal,
  };
  return priceTable(scope).insert(price);
}

function inlineProduct(scope: Scope, data: PriceData, param: string): string {
  const input = data.product_data;
  if (!input) throw parameterMissing(`${param}[product]`);
  const now = scope.emulator.clock.nowSeconds();
  const product: Wire<Stripe.Product> = {
    id: scope.emulator.random.id('prod', 14),
    object: 'product',
    active: true,
    created: now,
    default_price: null,
    description: input.description ?? null,
    images: [],
    livemode: scope.partition.livemode,
    marketing_features: [],
    metadata: input.metadata ?? {},
    name: input.name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: input.tax_code ?? null,
    tax_details: null,
    type: 'service',
    unit_label: input.unit_label ?? null,
    updated: now,
    url: null,
  };
  productTable(scope).insert(product);
  emitEvent(scope, 'product.created', product);
  return product.id;
}
