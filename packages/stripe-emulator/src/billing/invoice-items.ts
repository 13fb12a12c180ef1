import { z } from 'zod';
import { createAdHocPrice, priceTiers, productTable, requirePrice } from '../catalog/index.ts';
import { invalidState, parameterInvalid, parameterMissing, resourceMissing } from '../core/errors.ts';
import { createdFilterParam, matchesCreated, paginate, paginationParams } from '../core/list.ts';
import { bool, decimalString, int, mergeMetadata, metadata, str } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import { requireCustomer } from '../customers/index.ts';
import { type Route, route } from '../server/route.ts';
import { emitBillingEvent } from './atomic.ts';
import { newInvoiceItem, specOfInvoiceItem } from './invoice-item-objects.ts';
import { type LineSpec, newLine, withTotals } from './invoice-objects.ts';
import { productIdOf } from './lines.ts';
import { amountFor } from './pricing.ts';
import {
  idOf,
  invoiceItems,
  invoices,
  requireInvoice,
  requireSubscription,
  type WireInvoice,
  type WireInvoiceItem,
} from './store.ts';

/**
 * Invoice items: one-off charges (and the prorations subscription changes leave pending) that the
 * customer's next invoice picks up, or that go straight onto a draft invoice named by `invoice`.
 */
const periodParam = z.strictObject({ start: int(), end: int() });

const createParams = z.strictObject({
  customer: str(),
  amount: int().optional(),
  currency: str().optional(),
  description: z.string().optional(),
  discountable: bool().optional(),
  invoice: str().optional(),
  metadata: metadata().optional(),
  period: periodParam.optional(),
  price: str().optional(),
  pricing: z.strictObject({ price: str() }).optional(),
  quantity: int({ min: 0 }).optional(),
  subscription: str().optional(),
  unit_amount_decimal: decimalString().optional(),
});

const updateParams = z.strictObject({
  amount: int().optional(),
  description: z.string().optional(),
  discountable: bool().optional(),
  metadata: metadata().optional(),
  period: periodParam.optional(),
  quantity: int({ min: 0 }).optional(),
  unit_amount_decimal: decimalString().optional(),
});

const listParams = z.strictObject({
  ...paginationParams,
  customer: z.string().optional(),
  invoice: z.string().optional(),
  pending: bool().optional(),
  created: createdFilterParam,
});

function requireInvoiceItem(scope: Scope, id: string): WireInvoiceItem {
  const item = invoiceItems(scope.partition).get(id);
  if (!item) throw resourceMissing('invoiceitem', id);
  return item;
}

type Pricing = Pick<LineSpec, 'amount' | 'currency' | 'price' | 'unitAmountDecimal' | 'description'>;

function pricingOf(scope: Scope, params: z.output<typeof createParams>, quantity: number): Pricing {
  const priceId = params.pricing?.price ?? params.price;
  if (priceId) {
    const price = requirePrice(scope, priceId, params.pricing ? 'pricing[price]' : 'price');
    return {
      amount: amountFor(price, priceTiers(scope, price.id), quantity),
      currency: price.currency,
      price: { id: price.id, product: productIdOf(price) },
      unitAmountDecimal: price.unit_amount_decimal,
      description: params.description ?? productTable(scope).get(productIdOf(price))?.name ?? '',
    };
  }
  if (!params.currency) throw parameterMissing('currency');
  if (params.amount === undefined && params.unit_amount_decimal === undefined)
    throw parameterMissing('amount');
  if (params.amount !== undefined && params.unit_amount_decimal !== undefined)
    throw parameterInvalid(
      'unit_amount_decimal',
      'You may only specify one of these parameters: amount, unit_amount_decimal.',
    );
  const amount = params.amount ?? Math.round(Number(params.unit_amount_decimal) * quantity);
  const currency = params.currency.toLowerCase();
  const unitAmountDecimal = params.unit_amount_decimal ?? String(quantity === 0 ? amount : amount / quantity);
  const price = createAdHocPrice(scope, {
    unitAmountDecimal,
    currency,
    description: params.description ?? null,
  });
  return {
    amount,
    currency,
    price: { id: price.id, product: productIdOf(price) },
    unitAmountDecimal,
    description: params.description ?? '',
  };
}

function draftFor(scope: Scope, id: string, customerId: string): WireInvoice {
  const invoice = requireInvoice(scope, id, 'invoice');
  if (invoice.status !== 'draft')
    throw invalidState('Invoice items can only be added to draft invoices.', 'invoice');
  if (idOf(invoice.customer) !== customerId)
    throw parameterInvalid('invoice', 'The invoice belongs to a different customer.');
  return invoice;
}

/** Puts the item's line on a draft invoice and recomputes its totals. */
function addToDraft(scope: Scope, invoice: WireInvoice, item: WireInvoiceItem): void {
  const line = newLine(
    scope.emulator.random.id('il', 24),
    invoice.id,
    invoice.livemode,
    specOfInvoiceItem(item),
  );
  const data = [...invoice.lines.data, line];
  invoices(scope.partition).replace(
    withTotals({
      ...invoice,
      lines: { ...invoice.lines, data, total_count: data.length } as WireInvoice['lines'],
    }),
  );
}

function removeFromDraft(scope: Scope, item: WireInvoiceItem): void {
  const invoice = item.invoice ? invoices(scope.partition).get(idOf(item.invoice) ?? '') : undefined;
  if (!invoice) return;
  if (invoice.status !== 'draft')
    throw invalidState('This invoice item is on a finalized invoice and cannot be changed.');
  const data = invoice.lines.data.filter(
    (line) =>
      line.parent?.invoice_item_details?.invoice_item !== item.id &&
      line.parent?.subscription_item_details?.invoice_item !== item.id,
  );
  invoices(scope.partition).replace(
    withTotals({
      ...invoice,
      lines: { ...invoice.lines, data, total_count: data.length } as WireInvoice['lines'],
    }),
  );
}

function createInvoiceItem(scope: Scope, params: z.output<typeof createParams>): WireInvoiceItem {
  const customer = requireCustomer(scope, params.customer, 'customer');
  const at = scope.emulator.nowFor(scope.partition, idOf(customer.test_clock));
  const subscription = params.subscription
    ? requireSubscription(scope, params.subscription, 'subscription')
    : null;
  const draft = params.invoice ? draftFor(scope, params.invoice, customer.id) : null;
  const quantity = params.quantity ?? 1;
  const pricing = pricingOf(scope, params, quantity);
  const item = newInvoiceItem({
    id: scope.emulator.random.id('ii', 24),
    customer: customer.id,
    livemode: scope.partition.livemode,
    testClock: idOf(customer.test_clock),
    date: at,
    spec: {
      ...pricing,
      period: params.period ?? { start: at, end: at },
      quantity,
      proration: false,
      subscription: subscription?.id ?? null,
      subscriptionItem: null,
      invoiceItem: null,
      creditedItems: null,
      discountable: params.discountable ?? true,
      metadata: params.metadata ?? {},
    },
  });
  const stored = invoiceItems(scope.partition).insert(draft ? { ...item, invoice: draft.id } : item);
  if (draft) addToDraft(scope, draft, stored);
  emitBillingEvent(scope, 'invoiceitem.created', stored, undefined, at);
  return stored;
}

function updateInvoiceItem(scope: Scope, item: WireInvoiceItem, params: z.output<typeof updateParams>) {
  removeFromDraft(scope, item);
  const quantity = params.quantity ?? item.quantity;
  const unit = params.unit_amount_decimal ?? item.pricing?.unit_amount_decimal ?? null;
  const amount =
    params.amount ??
    (params.quantity !== undefined || params.unit_amount_decimal !== undefined
      ? Math.round(Number(unit ?? 0) * quantity)
      : item.amount);
  const next: WireInvoiceItem = {
    ...item,
    amount,
    quantity,
    quantity_decimal: String(quantity),
    description: params.description ?? item.description,
    discountable: params.discountable ?? item.discountable,
    metadata: mergeMetadata(item.metadata ?? {}, params.metadata),
    period: params.period ?? item.period,
    pricing: item.pricing && { ...item.pricing, unit_amount_decimal: unit },
  };
  invoiceItems(scope.partition).replace(next);
  const invoice = next.invoice ? invoices(scope.partition).get(idOf(next.invoice) ?? '') : undefined;
  if (invoice) addToDraft(scope, invoice, next);
  return next;
}

export const invoiceItemRoutes: Route[] = [
  route('post', '/v1/invoiceitems', createParams, ({ scope, params }) => createInvoiceItem(scope, params)),
  route('get', '/v1/invoiceitems', listParams, ({ scope, params }) => {
    const rows = invoiceItems(scope.partition)
      .newestFirst()
      .filter(
        (item) =>
          (params.customer === undefined || item.customer === params.customer) &&
          (params.invoice === undefined || item.invoice === params.invoice) &&
          (params.pending === undefined || (item.invoice === null) === params.pending) &&
          matchesCreated(item.date, params.created),
      );
    return paginate(rows, params, '/v1/invoiceitems', 'invoiceitem');
  }),
  route('get', '/v1/invoiceitems/:id', z.strictObject({}), ({ scope, path }) =>
    requireInvoiceItem(scope, path.id ?? ''),
  ),
  route('post', '/v1/invoiceitems/:id', updateParams, ({ scope, path, params }) =>
    updateInvoiceItem(scope, requireInvoiceItem(scope, path.id ?? ''), params),
  ),
  route('delete', '/v1/invoiceitems/:id', z.strictObject({}), ({ scope, path }) => {
    const item = requireInvoiceItem(scope, path.id ?? '');
    removeFromDraft(scope, item);
    invoiceItems(scope.partition).delete(item.id);
    const at = scope.emulator.nowFor(scope.partition, idOf(item.test_clock));
    const deleted: { id: string; object: string; deleted: true } = { ...item, deleted: true };
    emitBillingEvent(scope, 'invoiceitem.deleted', deleted, undefined, at);
    return { id: item.id, object: 'invoiceitem', deleted: true };
  }),
];
