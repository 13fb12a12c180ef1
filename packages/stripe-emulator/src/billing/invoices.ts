import { invalidState } from '../core/errors.ts';
import type { Scope } from '../core/scope.ts';
import { customerTable, requireCustomer, saveCustomer } from '../customers/index.ts';
import { previousAttributes } from '../events/emit.ts';
import { emitBillingEvent } from './atomic.ts';
import { newInvoiceItem, specOfInvoiceItem } from './invoice-item-objects.ts';
import { type InvoiceFields, type LineSpec, newInvoice, newLine, withTotals } from './invoice-objects.ts';
import {
  idOf,
  invoiceItems,
  invoicePayments,
  invoices,
  type WireInvoice,
  type WireInvoiceItem,
} from './store.ts';

/**
 * The invoice's own life: draft → open (finalize) → paid, or void / uncollectible; each step stores
 * the invoice and emits its event at the invoice's clock time. Who pays and what it does to a
 * subscription is decided in `collection.ts`.
 */
export type NewInvoice = Omit<InvoiceFields, 'id' | 'lines' | 'livemode' | 'customer'> & {
  customerId: string;
  lines: LineSpec[];
  /** Sweep the customer's pending invoice items onto the invoice (those of this subscription, or none). */
  includePendingItems: boolean;
};

/** Pending invoice items an invoice for this customer (and subscription, if any) picks up. */
export function pendingItemsFor(
  scope: Scope,
  customerId: string,
  subscriptionId: string | null,
): WireInvoiceItem[] {
  return invoiceItems(scope.partition)
    .newestFirst()
    .reverse()
    .filter((item) => {
      if (item.invoice !== null || item.customer !== customerId) return false;
      const owner = item.parent?.subscription_details?.subscription ?? null;
      return owner === null || owner === subscriptionId;
    });
}

/** Stores lines as pending invoice items (`invoiceitem.created` for each): prorations, one-off items. */
export function insertInvoiceItems(scope: Scope, customerId: string, specs: LineSpec[], at: number): void {
  const testClock = idOf(customerTable(scope).get(customerId)?.test_clock);
  for (const spec of specs) {
    const item = newInvoiceItem({
      id: scope.emulator.random.id('ii', 24),
      customer: customerId,
      livemode: scope.partition.livemode,
      testClock,
      date: at,
      spec,
    });
    invoiceItems(scope.partition).insert(item);
    emitBillingEvent(scope, 'invoiceitem.created', item, undefined, at);
  }
}

/** Stores a draft invoice with its lines; the caller emits `invoice.created` when its turn comes. */
export function insertInvoice(scope: Scope, input: NewInvoice): WireInvoice {
  const { random } = scope.emulator;
  const customer = requireCustomer(scope, input.customerId, 'customer');
  const id = random.id('in', 24);
  const swept = input.includePendingItems
    ? pendingItemsFor(scope, customer.id, input.subscription?.id ?? null)
    : [];
  const specs = [...swept.map(specOfInvoiceItem), ...input.lines];
  const lines = specs.map((spec) => newLine(random.id('il', 24), id, scope.partition.livemode, spec));
  const invoice = newInvoice({ ...input, id, customer, livemode: scope.partition.livemode, lines });
  for (const item of swept) invoiceItems(scope.partition).replace({ ...item, invoice: id });
  return invoices(scope.partition).insert(invoice);
}

/** Saves an invoice and emits `type` with the fields that changed. */
export function saveInvoice(
  scope: Scope,
  before: WireInvoice,
  after: WireInvoice,
  type: 'invoice.updated' | 'invoice.finalized' | 'invoice.voided' | 'invoice.marked_uncollectible' | null,
  at: number,
): WireInvoice {
  invoices(scope.partition).replace(after);
  if (type) emitBillingEvent(scope, type, after, previousAttributes(before, after), at);
  return after;
}

function nextNumber(scope: Scope, customerId: string): string {
  const customer = requireCustomer(scope, customerId, 'customer');
  const sequence = customer.next_invoice_sequence ?? 1;
  customerTable(scope).replace({ ...customer, next_invoice_sequence: sequence + 1 });
  return `${customer.invoice_prefix}-${String(sequence).padStart(4, '0')}`;
}

/** Applies the customer's balance (credit < 0, debt > 0) to a finalized total, as Stripe does. */
function applyBalance(scope: Scope, customerId: string, total: number) {
  const customer = requireCustomer(scope, customerId, 'customer');
  const starting = customer.balance ?? 0;
  const net = total + starting;
  const ending = Math.min(net, 0);
  if (ending !== starting) saveCustomer(scope, customer, { ...customer, balance: ending });
  return { starting, ending };
}

/** draft → open. A $0 invoice is paid on the spot; a `send_invoice` one gets its due date. */
export function finalizeInvoice(scope: Scope, invoice: WireInvoice, at: number): WireInvoice {
  if (invoice.status !== 'draft')
    throw invalidState("This invoice is already finalized, you can't re-finalize a non-draft invoice.");
  const customerId = String(invoice.customer);
  const balance = applyBalance(scope, customerId, invoice.total);
  const finalized = withTotals({
    ...invoice,
    status: 'open',
    number: nextNumber(scope, customerId),
    automatically_finalizes_at: null,
    effective_at: at,
    starting_balance: balance.starting,
    ending_balance: balance.ending,
    status_transitions: { ...invoice.status_transitions, finalized_at: at },
  });
  return saveInvoice(scope, invoice, finalized, 'invoice.finalized', at);
}

/**
 * open → paid: `invoice.paid` then `invoice.payment_succeeded`. `base` is `before` with whatever the
 * payment attempt changed (attempt count); `previous_attributes` compares against `before`.
 */
export function markPaid(
  scope: Scope,
  before: WireInvoice,
  base: WireInvoice,
  amountPaid: number,
  at: number,
): WireInvoice {
  const paid: WireInvoice = {
    ...base,
    status: 'paid',
    amount_paid: base.amount_paid + amountPaid,
    amount_remaining: 0,
    attempted: true,
    auto_advance: false,
    next_payment_attempt: null,
    status_transitions: { ...base.status_transitions, paid_at: at },
  };
  invoices(scope.partition).replace(paid);
  const previous = previousAttributes(before, paid);
  emitBillingEvent(scope, 'invoice.paid', paid, previous, at);
  emitBillingEvent(scope, 'invoice.payment_succeeded', paid, previous, at);
  return paid;
}

/** Voiding also cancels the invoice's open payments: nothing can pay it any more. */
export function voidInvoice(scope: Scope, invoice: WireInvoice, at: number): WireInvoice {
  if (invoice.status === 'open' || invoice.status === 'uncollectible')
    cancelOpenPayments(scope, invoice.id, at);
  if (invoice.status !== 'open' && invoice.status !== 'uncollectible')
    throw invalidState(
      `You can only pass in open or uncollectible invoices. This invoice is ${invoice.status}.`,
    );
  return saveInvoice(
    scope,
    invoice,
    {
      ...invoice,
      status: 'void',
      auto_advance: false,
      next_payment_attempt: null,
      amount_remaining: 0,
      status_transitions: { ...invoice.status_transitions, voided_at: at },
    },
    'invoice.voided',
    at,
  );
}

function cancelOpenPayments(scope: Scope, invoiceId: string, at: number): void {
  const table = invoicePayments(scope.partition);
  for (const payment of [...table.values()])
    if (payment.invoice === invoiceId && payment.status === 'open')
      table.replace({
        ...payment,
        status: 'canceled',
        status_transitions: { ...payment.status_transitions, canceled_at: at },
      });
}

export function markUncollectible(scope: Scope, invoice: WireInvoice, at: number): WireInvoice {
  if (invoice.status !== 'open')
    throw invalidState(
      `You can only mark open invoices as uncollectible. This invoice is ${invoice.status}.`,
    );
  return saveInvoice(
    scope,
    invoice,
    {
      ...invoice,
      status: 'uncollectible',
      auto_advance: false,
      next_payment_attempt: null,
      status_transitions: { ...invoice.status_transitions, marked_uncollectible_at: at },
    },
    'invoice.marked_uncollectible',
    at,
  );
}

/** Invoices of a subscription, oldest first. */
export function invoicesOfSubscription(scope: Scope, subscriptionId: string): WireInvoice[] {
  return invoices(scope.partition)
    .newestFirst()
    .reverse()
    .filter((invoice) => invoice.parent?.subscription_details?.subscription === subscriptionId);
}
