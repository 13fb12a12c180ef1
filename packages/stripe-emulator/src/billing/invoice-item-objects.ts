import type { LineSpec } from './invoice-objects.ts';
import type { WireInvoiceItem } from './store.ts';

/**
 * Invoice items as objects: a pending charge or credit (a one-off, a proration) that becomes a line
 * of the next invoice, and back from an item to the line it bills as.
 */
export type InvoiceItemFields = {
  id: string;
  customer: string;
  livemode: boolean;
  testClock: string | null;
  date: number;
  spec: LineSpec;
};

export function newInvoiceItem(fields: InvoiceItemFields): WireInvoiceItem {
  const { spec } = fields;
  return {
    id: fields.id,
    object: 'invoiceitem',
    amount: spec.amount,
    currency: spec.currency,
    customer: fields.customer,
    customer_account: null,
    date: fields.date,
    description: spec.description,
    discountable: spec.discountable,
    discounts: [],
    invoice: null,
    livemode: fields.livemode,
    metadata: spec.metadata,
    parent: spec.subscription
      ? {
          subscription_details: {
            subscription: spec.subscription,
            ...(spec.subscriptionItem ? { subscription_item: spec.subscriptionItem } : {}),
          },
          type: 'subscription_details',
        }
      : null,
    period: spec.period,
    pricing: {
      ...(spec.price ? { price_details: { price: spec.price.id, product: spec.price.product } } : {}),
      type: 'price_details',
      unit_amount_decimal: spec.unitAmountDecimal,
    },
    proration: spec.proration,
    ...(spec.proration
      ? {
          proration_details: {
            credited_items: spec.creditedItems
              ? {
                  invoice_line_item_details: spec.creditedItems,
                  type: 'invoice_line_items',
                }
              : null,
            discount_amounts: [],
          },
        }
      : {}),
    quantity: spec.quantity,
    quantity_decimal: String(spec.quantity),
    tax_rates: [],
    test_clock: fields.testClock,
  };
}

/** The line spec an invoice item bills as, once swept onto an invoice. */
export function specOfInvoiceItem(item: WireInvoiceItem): LineSpec {
  const parent = item.parent?.subscription_details;
  const price = item.pricing?.price_details;
  const credited = item.proration_details?.credited_items?.invoice_line_item_details ?? null;
  return {
    amount: item.amount,
    currency: item.currency,
    description: item.description ?? '',
    period: item.period,
    quantity: item.quantity,
    price: price
      ? { id: typeof price.price === 'string' ? price.price : price.price.id, product: price.product }
      : null,
    unitAmountDecimal: item.pricing?.unit_amount_decimal ?? null,
    proration: item.proration,
    subscription: parent?.subscription ?? null,
    subscriptionItem: parent?.subscription_item ?? null,
    invoiceItem: item.id,
    creditedItems: credited,
    discountable: item.discountable,
    metadata: item.metadata ?? {},
  };
}
