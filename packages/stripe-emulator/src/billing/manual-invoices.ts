import { invalidState } from '../core/errors.ts';
import { mergeMetadata } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import { requireCustomer } from '../customers/index.ts';
import { defaultPaymentMethodFor } from '../payments/index.ts';
import { emitBillingEvent } from './atomic.ts';
import { type Collection, collectInvoice, paymentFailedError } from './collection.ts';
import { finalizeInvoice, insertInvoice, markPaid, pendingItemsFor, saveInvoice } from './invoices.ts';
import { currentPeriod } from './item-changes.ts';
import {
  idOf,
  invoiceItems,
  invoiceSubscriptionId,
  invoices,
  requireSubscription,
  subscriptions,
  type WireInvoice,
} from './store.ts';

/**
 * Invoices made and driven by requests: create a draft, edit it, finalize it, pay it (now, with a
 * given payment method, or out of band), delete a draft. Finalizing with `auto_advance` schedules
 * the automatic payment attempt an hour later, as Stripe does.
 */
const AUTO_COLLECT_DELAY_SECONDS = 3600;

const NO_PAYMENT_METHOD =
  'There is no `default_payment_method` set on this Customer or Invoice. You can set `default_payment_method` on the Customer or Invoice, or pass `payment_method` when paying.';

export const invoiceNow = (scope: Scope, invoice: WireInvoice) =>
  scope.emulator.nowFor(scope.partition, idOf(invoice.test_clock));

export type ManualInvoice = {
  customer: string;
  subscription?: string | undefined;
  autoAdvance?: boolean | undefined;
  collectionMethod?: 'charge_automatically' | 'send_invoice' | undefined;
  daysUntilDue?: number | undefined;
  currency?: string | undefined;
  defaultPaymentMethod?: string | undefined;
  description?: string | undefined;
  metadata?: Record<string, string> | null | undefined;
  includePendingItems: boolean;
};

export function createManualInvoice(scope: Scope, input: ManualInvoice): WireInvoice {
  const customer = requireCustomer(scope, input.customer, 'customer');
  const at = scope.emulator.nowFor(scope.partition, idOf(customer.test_clock));
  const subscription = input.subscription
    ? requireSubscription(scope, input.subscription, 'subscription')
    : null;
  const pending = input.includePendingItems
    ? pendingItemsFor(scope, customer.id, subscription?.id ?? null)
    : [];
  const currency =
    input.currency ?? pending[0]?.currency ?? subscription?.currency ?? customer.currency ?? 'usd';
  const autoAdvance = input.autoAdvance ?? false;
  const invoice = insertInvoice(scope, {
    customerId: customer.id,
    created: at,
    currency,
    billingReason: 'manual',
    collectionMethod: input.collectionMethod ?? 'charge_automatically',
    subscription: subscription && { id: subscription.id, metadata: subscription.metadata },
    period: { start: subscription ? currentPeriod(subscription).start : at, end: at },
    autoAdvance,
    automaticallyFinalizesAt: autoAdvance ? at + AUTO_COLLECT_DELAY_SECONDS : null,
    daysUntilDue: input.daysUntilDue ?? null,
    defaultPaymentMethod: input.defaultPaymentMethod ?? null,
    description: input.description ?? null,
    metadata: input.metadata ?? {},
    lines: [],
    includePendingItems: input.includePendingItems,
  });
  emitBillingEvent(scope, 'invoice.created', invoice, undefined, at);
  return invoice;
}

export type InvoiceEdit = {
  autoAdvance?: boolean | undefined;
  collectionMethod?: 'charge_automatically' | 'send_invoice' | undefined;
  defaultPaymentMethod?: string | null | undefined;
  description?: string | null | undefined;
  metadata?: Record<string, string> | null | undefined;
};

export function editInvoice(scope: Scope, invoice: WireInvoice, edit: InvoiceEdit): WireInvoice {
  const draftOnly = edit.collectionMethod !== undefined || edit.defaultPaymentMethod !== undefined;
  if (draftOnly && invoice.status !== 'draft')
    throw invalidState('Finalized invoices can only update their description, metadata and auto_advance.');
  const next: WireInvoice = { ...invoice };
  if (edit.autoAdvance !== undefined) next.auto_advance = edit.autoAdvance;
  if (edit.collectionMethod !== undefined) next.collection_method = edit.collectionMethod;
  if (edit.defaultPaymentMethod !== undefined) next.default_payment_method = edit.defaultPaymentMethod;
  if (edit.description !== undefined) next.description = edit.description;
  if (edit.metadata !== undefined) next.metadata = mergeMetadata(invoice.metadata ?? {}, edit.metadata);
  return saveInvoice(scope, invoice, next, 'invoice.updated', invoiceNow(scope, invoice));
}

/** `POST /v1/invoices/:id/finalize`. */
export function finalizeByRequest(
  scope: Scope,
  invoice: WireInvoice,
  autoAdvance: boolean | undefined,
): WireInvoice {
  const at = invoiceNow(scope, invoice);
  const advancing = autoAdvance ?? invoice.auto_advance ?? false;
  const finalized = finalizeInvoice(scope, { ...invoice, auto_advance: advancing }, at);
  if (finalized.amount_remaining === 0) return collectInvoice(scope, finalized, at).invoice;
  if (!advancing || finalized.collection_method !== 'charge_automatically') return finalized;
  return saveInvoice(
    scope,
    finalized,
    { ...finalized, next_payment_attempt: at + AUTO_COLLECT_DELAY_SECONDS },
    null,
    at,
  );
}

export type PayRequest = { paymentMethod?: string | undefined; paidOutOfBand?: boolean | undefined };

/** `POST /v1/invoices/:id/pay`: finalizes a draft, then charges now; a declined charge answers 402. */
export function payByRequest(scope: Scope, invoice: WireInvoice, request: PayRequest): WireInvoice {
  if (invoice.status === 'paid')
    throw invalidState('Invoice is already paid.', undefined, 'invoice_already_paid');
  if (invoice.status === 'void') throw invalidState('This invoice is void and cannot be paid.');
  const at = invoiceNow(scope, invoice);
  const open = invoice.status === 'draft' ? finalizeInvoice(scope, invoice, at) : invoice;
  if (open.status === 'paid') return open;
  if (request.paidOutOfBand) return markPaid(scope, open, open, open.amount_remaining, at);
  if (open.amount_remaining > 0 && !paymentMethodFor(scope, open, request.paymentMethod))
    throw invalidState(NO_PAYMENT_METHOD, undefined, 'invoice_no_payment_method_types');
  const collection: Collection = collectInvoice(scope, open, at, request.paymentMethod ?? null);
  if (collection.outcome && !collection.outcome.succeeded) throw paymentFailedError(collection.outcome);
  return collection.invoice;
}

function paymentMethodFor(scope: Scope, invoice: WireInvoice, explicit: string | undefined): string | null {
  if (explicit) return explicit;
  if (invoice.default_payment_method) return idOf(invoice.default_payment_method);
  const subscriptionId = invoiceSubscriptionId(invoice);
  const subscription = subscriptionId ? subscriptions(scope.partition).get(subscriptionId) : undefined;
  return defaultPaymentMethodFor(
    scope,
    idOf(invoice.customer) ?? '',
    idOf(subscription?.default_payment_method),
  );
}

/** `DELETE /v1/invoices/:id`: drafts only; their invoice items become pending again. */
export function deleteDraft(scope: Scope, invoice: WireInvoice) {
  if (invoice.status !== 'draft')
    throw invalidState('You can only delete draft invoices.', undefined, 'invoice_not_editable');
  for (const item of invoiceItems(scope.partition).values())
    if (item.invoice === invoice.id) invoiceItems(scope.partition).replace({ ...item, invoice: null });
  invoices(scope.partition).delete(invoice.id);
  emitBillingEvent(scope, 'invoice.deleted', invoice, undefined, invoiceNow(scope, invoice));
  return { id: invoice.id, object: 'invoice' as const, deleted: true as const };
}
