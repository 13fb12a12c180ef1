import type { Scope } from '../core/scope.ts';
import type { Partition } from '../core/store.ts';
import { createPaymentIntent } from '../payments/index.ts';
import { newInvoicePayment } from './invoice-objects.ts';
import { idOf, invoicePayments, type WireInvoice, type WireInvoicePayment } from './store.ts';

/**
 * `invoice_payment` objects: how current API versions link an invoice to the payment intents that
 * try to pay it. One per payment intent; a new attempt with a new intent supersedes the open one.
 */
export function recordPayment(
  scope: Scope,
  invoice: WireInvoice,
  intentId: string,
  succeeded: boolean,
  at: number,
): WireInvoicePayment {
  const table = invoicePayments(scope.partition);
  const existing = [...table.values()].filter((payment) => payment.invoice === invoice.id);
  for (const payment of existing)
    if (payment.status === 'open' && payment.payment.payment_intent !== intentId)
      table.replace({
        ...payment,
        is_default: false,
        status: 'canceled',
        status_transitions: { ...payment.status_transitions, canceled_at: at },
      });
  const current =
    existing.find((payment) => payment.payment.payment_intent === intentId) ??
    newInvoicePayment({
      id: scope.emulator.random.id('inpay', 24),
      invoice: invoice.id,
      livemode: scope.partition.livemode,
      created: at,
      amount: invoice.amount_remaining,
      currency: invoice.currency,
      paymentIntent: intentId,
    });
  const settled: WireInvoicePayment = succeeded
    ? {
        ...current,
        amount_paid: invoice.amount_remaining,
        status: 'paid',
        status_transitions: { ...current.status_transitions, paid_at: at },
      }
    : current;
  return table.replace(settled);
}

export function paymentForIntent(partition: Partition, intentId: string): WireInvoicePayment | undefined {
  return [...invoicePayments(partition).values()].find(
    (payment) => payment.payment.payment_intent === intentId,
  );
}

/**
 * The unconfirmed payment intent an invoice waits on when it is not charged at once
 * (`payment_behavior=default_incomplete`): the client confirms it with the invoice's
 * `confirmation_secret`.
 */
export function openPaymentIntent(scope: Scope, invoice: WireInvoice, at: number): WireInvoicePayment {
  const intent = createPaymentIntent(scope, {
    amount: invoice.amount_remaining,
    currency: invoice.currency,
    customer: idOf(invoice.customer),
    description: 'Subscription creation',
    metadata: {},
    paymentMethod: null,
    paymentMethodTypes: ['card'],
    captureMethod: 'automatic',
    confirmationMethod: 'automatic',
    setupFutureUsage: 'off_session',
    receiptEmail: null,
    statementDescriptor: null,
    statementDescriptorSuffix: null,
    transferGroup: null,
    at,
  });
  return recordPayment(scope, invoice, intent.id, false, at);
}
