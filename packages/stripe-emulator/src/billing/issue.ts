import type { Scope } from '../core/scope.ts';
import { emitBillingEvent } from './atomic.ts';
import { type Collection, collectInvoice } from './collection.ts';
import { openPaymentIntent } from './invoice-payments.ts';
import { finalizeInvoice, markUncollectible, voidInvoice } from './invoices.ts';
import type { WireInvoice, WireSubscription } from './store.ts';

/**
 * What happens to a subscription invoice once created: charged on the spot (a first invoice, an
 * immediate proration invoice; `send_invoice` ones are only finalized), finalized with an unconfirmed
 * payment intent for the client to confirm (`default_incomplete`), or left as a draft to be
 * finalized later (renewals wait an hour). `pause_collection` voids, marks
 * uncollectible or keeps renewal invoices as drafts.
 */
export type Disposition = 'charge' | 'await_confirmation' | 'draft' | 'void' | 'mark_uncollectible';

/** Emits `invoice.created` and carries the invoice as far as `disposition` says. */
export function issueInvoice(
  scope: Scope,
  invoice: WireInvoice,
  at: number,
  disposition: Disposition,
): Collection {
  emitBillingEvent(scope, 'invoice.created', invoice, undefined, at);
  if (disposition === 'draft') return { invoice, outcome: null };
  const finalized = finalizeInvoice(scope, invoice, at);
  if (disposition === 'void') return { invoice: voidInvoice(scope, finalized, at), outcome: null };
  if (disposition === 'mark_uncollectible')
    return { invoice: markUncollectible(scope, finalized, at), outcome: null };
  if (disposition === 'await_confirmation' && finalized.amount_remaining > 0) {
    openPaymentIntent(scope, finalized, at);
    return { invoice: finalized, outcome: null };
  }
  return chargeIfAutomatic(scope, finalized, at);
}

/** Finalizes a draft whose time has come and charges it when its collection is automatic. */
export function finalizeAndCharge(scope: Scope, invoice: WireInvoice, at: number): Collection {
  return chargeIfAutomatic(scope, finalizeInvoice(scope, invoice, at), at);
}

/** `send_invoice` invoices wait for the customer; a $0 invoice is paid whatever its collection. */
function chargeIfAutomatic(scope: Scope, invoice: WireInvoice, at: number): Collection {
  const automatic = invoice.collection_method === 'charge_automatically' || invoice.amount_remaining === 0;
  if (!automatic || invoice.status !== 'open') return { invoice, outcome: null };
  return collectInvoice(scope, invoice, at);
}

/** How a renewal invoice of this subscription proceeds, given its state and paused collection. */
export function renewalDisposition(subscription: WireSubscription, draftSeconds: number): Disposition {
  const pause = subscription.pause_collection?.behavior;
  if (pause === 'void') return 'void';
  if (pause === 'mark_uncollectible') return 'mark_uncollectible';
  if (pause === 'keep_as_draft' || subscription.status === 'unpaid') return 'draft';
  return draftSeconds > 0 ? 'draft' : 'charge';
}

/** A renewal draft finalizes by itself after the delay, unless collection is held. */
export function renewalDraftTiming(
  subscription: WireSubscription,
  at: number,
  draftSeconds: number,
): { autoAdvance: boolean; automaticallyFinalizesAt: number | null } {
  const held =
    subscription.pause_collection?.behavior === 'keep_as_draft' || subscription.status === 'unpaid';
  if (held) return { autoAdvance: false, automaticallyFinalizesAt: null };
  return { autoAdvance: true, automaticallyFinalizesAt: draftSeconds > 0 ? at + draftSeconds : null };
}
