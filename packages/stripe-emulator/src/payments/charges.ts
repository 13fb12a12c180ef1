import type Stripe from 'stripe';
import { z } from 'zod';
import { resourceMissing } from '../core/errors.ts';
import {
  createdFilterParam,
  embeddedList,
  matchesCreated,
  paginate,
  paginationParams,
} from '../core/list.ts';
import { emptyable, mergeMetadata, metadata } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import type { Wire } from '../core/wire.ts';
import { emitEvent, previousAttributes } from '../events/emit.ts';
import { type Route, route } from '../server/route.ts';
import { recordChargeFunds } from './balance-transactions.ts';
import { emptyBillingDetails, type WirePaymentMethod } from './payment-methods.ts';
import { publicUrl } from './public-url.ts';
import type { Decline } from './test-cards.ts';

export type WireCharge = Wire<Stripe.Charge>;

export const chargeTable = (scope: Scope) => scope.partition.table<WireCharge>('charge');

/** Stripe holds an uncaptured authorization for seven days. */
const AUTHORIZATION_VALIDITY_SECONDS = 7 * 24 * 60 * 60;

export type ChargeAttempt = {
  paymentIntent: { id: string; amount: number; currency: string; customer: string | null };
  description: string | null;
  metadata: Record<string, string>;
  paymentMethod: WirePaymentMethod;
  capture: boolean;
  decline: Decline | null;
  at: number;
};

/** Records one attempt to charge a card: succeeded (captured or only authorized) or failed. */
export function recordCharge(scope: Scope, attempt: ChargeAttempt): WireCharge {
  const { paymentIntent, paymentMethod, decline, at } = attempt;
  const id = scope.emulator.random.id('ch', 24);
  const approved = decline === null;
  const captured = approved && attempt.capture;
  const card = paymentMethod.card;
  const currency = paymentIntent.currency;
  const funds = captured ? recordChargeFunds(scope, { id, currency }, paymentIntent.amount, at) : null;
  const charge: WireCharge = {
    id,
    object: 'charge',
    amount: paymentIntent.amount,
    amount_captured: captured ? paymentIntent.amount : 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: funds?.id ?? null,
    billing_details: paymentMethod.billing_details ?? emptyBillingDetails(),
    calculated_statement_descriptor: 'STRIPE EMULATOR',
    captured,
    created: at,
    currency: paymentIntent.currency,
    customer: paymentIntent.customer,
    description: attempt.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: decline?.code ?? null,
    failure_message: decline?.message ?? null,
    fraud_details: {},
    livemode: scope.partition.livemode,
    metadata: attempt.metadata,
    on_behalf_of: null,
    outcome: outcomeFor(decline),
    paid: approved,
    payment_intent: paymentIntent.id,
    payment_method: paymentMethod.id,
    payment_method_details: {
      card: {
        amount_authorized: approved ? paymentIntent.amount : null,
        authorization_code: approved ? String(scope.emulator.random.int(100000, 999999)) : null,
        brand: card?.brand ?? null,
        ...(approved && !captured ? { capture_before: at + AUTHORIZATION_VALIDITY_SECONDS } : {}),
        checks: card?.checks ?? null,
        country: card?.country ?? null,
        electronic_commerce_indicator: null,
        exp_month: card?.exp_month ?? 0,
        exp_year: card?.exp_year ?? 0,
        extended_authorization: { status: 'disabled' },
        fingerprint: card?.fingerprint ?? null,
        funding: card?.funding ?? null,
        incremental_authorization: { status: 'unavailable' },
        installments: null,
        last4: card?.last4 ?? null,
        mandate: null,
        multicapture: { status: 'unavailable' },
        network: card?.brand ?? null,
        network_token: { used: false },
        network_transaction_id: approved ? String(scope.emulator.random.int(1e14, 1e15 - 1)) : null,
        overcapture: { maximum_amount_capturable: paymentIntent.amount, status: 'unavailable' },
        regulated_status: 'unregulated',
        three_d_secure: null,
        transaction_link_id: null,
        wallet: null,
      },
      type: 'card',
    },
    radar_options: {},
    receipt_email: null,
    receipt_number: null,
    receipt_url: approved ? publicUrl(`/_emulator/receipts/${id}`) : null,
    refunded: false,
    refunds: refundsOf(id),
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: approved ? 'succeeded' : 'failed',
    transfer_data: null,
    transfer_group: null,
  };
  chargeTable(scope).insert(charge);
  emitEvent(scope, approved ? 'charge.succeeded' : 'charge.failed', charge, undefined, at);
  return charge;
}

/** Charges carry their refunds with a `total_count`, as the recorded responses show. */
function refundsOf(chargeId: string): WireCharge['refunds'] {
  const refunds = { ...embeddedList([], `/v1/charges/${chargeId}/refunds`), total_count: 0 };
  return refunds;
}

function outcomeFor(decline: Decline | null): WireCharge['outcome'] {
  if (!decline)
    return {
      advice_code: null,
      network_advice_code: null,
      network_decline_code: null,
      network_status: 'approved_by_network',
      reason: null,
      risk_level: 'normal',
      risk_score: 20,
      seller_message: 'Payment complete.',
      type: 'authorized',
    };
  return {
    advice_code: (decline.adviceCode as Stripe.Charge.Outcome.AdviceCode | null) ?? null,
    network_advice_code: null,
    network_decline_code: decline.networkDeclineCode,
    network_status: 'declined_by_network',
    reason: decline.declineCode,
    risk_level: 'normal',
    risk_score: 20,
    seller_message: 'The bank did not return any further details with this decline.',
    type: 'issuer_declined',
  };
}

/** Captures an authorized charge; an amount below the authorization releases the rest. */
export function captureCharge(scope: Scope, chargeId: string, amount: number, at: number): WireCharge {
  const before = requireCharge(scope, chargeId);
  const after: WireCharge = {
    ...before,
    amount_captured: amount,
    amount_refunded: before.amount - amount,
    balance_transaction: recordChargeFunds(scope, before, amount, at).id,
    captured: true,
  };
  chargeTable(scope).replace(after);
  emitEvent(scope, 'charge.captured', after, previousAttributes(before, after), at);
  return after;
}

/** Releases an uncaptured authorization (the payment intent was canceled). */
export function releaseCharge(scope: Scope, chargeId: string, at: number): WireCharge {
  const before = requireCharge(scope, chargeId);
  const after: WireCharge = { ...before, amount_refunded: before.amount, refunded: true };
  chargeTable(scope).replace(after);
  emitEvent(scope, 'charge.refunded', after, previousAttributes(before, after), at);
  return after;
}

export function requireCharge(scope: Scope, id: string, param = 'id'): WireCharge {
  const charge = chargeTable(scope).get(id);
  if (!charge) throw resourceMissing('charge', id, param);
  return charge;
}

const listParams = z.strictObject({
  ...paginationParams,
  created: createdFilterParam,
  customer: z.string().optional(),
  payment_intent: z.string().optional(),
  transfer_group: z.string().optional(),
});

const updateParams = z.strictObject({
  description: emptyable(z.string()).optional(),
  metadata: metadata().optional(),
  receipt_email: emptyable(z.string()).optional(),
});

export const chargeRoutes: Route[] = [
  route('get', '/v1/charges/:id', z.strictObject({}), ({ scope, path }) =>
    requireCharge(scope, path.id ?? ''),
  ),
  route('post', '/v1/charges/:id', updateParams, ({ scope, path, params }) => {
    const before = requireCharge(scope, path.id ?? '');
    const after: WireCharge = {
      ...before,
      ...(params.description !== undefined ? { description: params.description } : {}),
      ...(params.receipt_email !== undefined ? { receipt_email: params.receipt_email } : {}),
      metadata: mergeMetadata(before.metadata, params.metadata),
    };
    chargeTable(scope).replace(after);
    const previous = previousAttributes(before, after);
    if (previous) emitEvent(scope, 'charge.updated', after, previous);
    return after;
  }),
  route('get', '/v1/charges', listParams, ({ scope, params }) => {
    const rows = chargeTable(scope)
      .newestFirst()
      .filter(
        (charge) =>
          (params.customer === undefined || charge.customer === params.customer) &&
          (params.payment_intent === undefined || charge.payment_intent === params.payment_intent) &&
          (params.transfer_group === undefined || charge.transfer_group === params.transfer_group) &&
          matchesCreated(charge.created, params.created),
      );
    return paginate(rows, params, '/v1/charges', 'charge');
  }),
];
