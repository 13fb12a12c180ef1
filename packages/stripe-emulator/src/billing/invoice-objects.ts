import type { WireCustomer } from '../customers/index.ts';
import { days, type Period } from './periods.ts';
import { idOf, type WireInvoice, type WireInvoiceLine, type WireInvoicePayment } from './store.ts';
import { fullList } from './subscription-objects.ts';

/**
 * What one invoice line bills, before it has ids: a subscription item's period, or an invoice item
 * (a one-off charge or a proration). Lines that come from invoice items name them.
 */
export type LineSpec = {
  amount: number;
  currency: string;
  description: string;
  period: Period;
  quantity: number;
  price: { id: string; product: string } | null;
  unitAmountDecimal: string | null;
  proration: boolean;
  subscription: string | null;
  subscriptionItem: string | null;
  invoiceItem: string | null;
  creditedItems: { invoice: string; invoice_line_items: string[] } | null;
  discountable: boolean;
  metadata: Record<string, string>;
};

export function newLine(
  id: string,
  invoice: string | null,
  livemode: boolean,
  spec: LineSpec,
): WireInvoiceLine {
  const details = { proration: spec.proration, proration_details: { credited_items: spec.creditedItems } };
  const parent: WireInvoiceLine['parent'] = spec.subscriptionItem
    ? {
        invoice_item_details: null,
        subscription_item_details: {
          ...details,
          invoice_item: spec.invoiceItem,
          subscription: spec.subscription,
          subscription_item: spec.subscriptionItem,
        },
        type: 'subscription_item_details',
      }
    : {
        invoice_item_details: {
          ...details,
          invoice_item: spec.invoiceItem ?? '',
          subscription: spec.subscription,
        },
        subscription_item_details: null,
        type: 'invoice_item_details',
      };
  return {
    id,
    object: 'line_item',
    amount: spec.amount,
    currency: spec.currency,
    description: spec.description,
    discount_amounts: [],
    discountable: spec.discountable,
    discounts: [],
    invoice,
    livemode,
    metadata: spec.metadata,
    parent,
    period: spec.period,
    pretax_credit_amounts: [],
    pricing: {
      ...(spec.price ? { price_details: { price: spec.price.id, product: spec.price.product } } : {}),
      type: 'price_details',
      unit_amount_decimal: spec.unitAmountDecimal,
    },
    quantity: spec.quantity,
    quantity_decimal: String(spec.quantity),
    subscription: spec.subscription,
    subtotal: spec.amount,
    taxes: [],
  };
}

export type InvoiceFields = {
  id: string;
  customer: WireCustomer;
  livemode: boolean;
  created: number;
  currency: string;
  billingReason: NonNullable<WireInvoice['billing_reason']>;
  collectionMethod: 'charge_automatically' | 'send_invoice';
  subscription: { id: string; metadata: Record<string, string> } | null;
  period: Period;
  autoAdvance: boolean;
  automaticallyFinalizesAt: number | null;
  daysUntilDue: number | null;
  defaultPaymentMethod: string | null;
  description: string | null;
  metadata: Record<string, string>;
  lines: WireInvoiceLine[];
};

export function newInvoice(fields: InvoiceFields): WireInvoice {
  const customer = fields.customer;
  const invoice: WireInvoice = {
    id: fields.id,
    object: 'invoice',
    account_country: 'US',
    account_name: null,
    account_tax_ids: null,
    amount_due: 0,
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: 0,
    amount_shipping: 0,
    application: null,
    attempt_count: 0,
    attempted: false,
    auto_advance: fields.autoAdvance,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: fields.automaticallyFinalizesAt,
    billing_reason: fields.billingReason,
    collection_method: fields.collectionMethod,
    created: fields.created,
    currency: fields.currency,
    custom_fields: customer.invoice_settings.custom_fields,
    customer: customer.id,
    customer_account: null,
    customer_address: customer.address ?? null,
    customer_email: customer.email ?? null,
    customer_name: customer.name ?? null,
    customer_phone: customer.phone ?? null,
    customer_shipping: customer.shipping,
    customer_tax_exempt: customer.tax_exempt ?? 'none',
    customer_tax_ids: [],
    default_payment_method: fields.defaultPaymentMethod,
    default_source: null,
    default_tax_rates: [],
    description: fields.description,
    discounts: [],
    due_date:
      fields.collectionMethod === 'send_invoice' ? fields.created + days(fields.daysUntilDue ?? 30) : null,
    effective_at: null,
    ending_balance: null,
    footer: customer.invoice_settings.footer,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: fullList(fields.lines, `/v1/invoices/${fields.id}/lines`),
    livemode: fields.livemode,
    metadata: fields.metadata,
    next_payment_attempt: null,
    number: null,
    on_behalf_of: null,
    parent: fields.subscription
      ? {
          quote_details: null,
          subscription_details: {
            metadata: fields.subscription.metadata,
            subscription: fields.subscription.id,
          },
          type: 'subscription_details',
        }
      : null,
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: fields.period.end,
    period_start: fields.period.start,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: fields.subscription
      ? null
      : { amount_tax_display: null, pdf: { page_size: 'auto' }, template: null, template_version: null },
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: 'draft',
    status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    subtotal: 0,
    subtotal_excluding_tax: 0,
    test_clock: idOf(customer.test_clock),
    total: 0,
    total_discount_amounts: [],
    total_excluding_tax: 0,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: fields.created,
  };
  return withTotals(invoice);
}

/** Recomputes the amounts that follow from the lines (no taxes or discounts in the emulator). */
export function withTotals(invoice: WireInvoice): WireInvoice {
  const subtotal = invoice.lines.data.reduce((sum, line) => sum + line.amount, 0);
  const balance = invoice.status === 'draft' ? 0 : invoice.starting_balance;
  const amountDue = Math.max(0, subtotal + balance);
  return {
    ...invoice,
    subtotal,
    subtotal_excluding_tax: subtotal,
    total: subtotal,
    total_excluding_tax: subtotal,
    amount_due: amountDue,
    amount_remaining: Math.max(0, amountDue - invoice.amount_paid),
  };
}

export type InvoicePaymentFields = {
  id: string;
  invoice: string;
  livemode: boolean;
  created: number;
  amount: number;
  currency: string;
  paymentIntent: string;
};

export function newInvoicePayment(fields: InvoicePaymentFields): WireInvoicePayment {
  return {
    id: fields.id,
    object: 'invoice_payment',
    amount_paid: null,
    amount_requested: fields.amount,
    created: fields.created,
    currency: fields.currency,
    invoice: fields.invoice,
    is_default: true,
    livemode: fields.livemode,
    payment: { payment_intent: fields.paymentIntent, type: 'payment_intent' },
    status: 'open',
    status_transitions: { canceled_at: null, paid_at: null },
  };
}
