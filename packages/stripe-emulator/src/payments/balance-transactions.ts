import type Stripe from 'stripe';
import { z } from 'zod';
import { resourceMissing } from '../core/errors.ts';
import { createdFilterParam, matchesCreated, paginate, paginationParams } from '../core/list.ts';
import type { Scope } from '../core/scope.ts';
import type { Wire } from '../core/wire.ts';
import { type Route, route } from '../server/route.ts';

export type WireBalanceTransaction = Wire<Stripe.BalanceTransaction>;

export const balanceTransactionTable = (scope: Scope) =>
  scope.partition.table<WireBalanceTransaction>('balance_transaction');

const DAY_SECONDS = 24 * 60 * 60;
/** Card funds become available seven days after capture, at midnight UTC (as the recorded ones do). */
const PAYOUT_DELAY_DAYS = 7;

/**
 * Stripe's standard US card pricing, 2.9% + 30¢: the recorded capture of 2900 shows a fee of 114.
 * Pure, so that the fee rule has its own test.
 */
export function cardFee(amount: number): number {
  return Math.round(amount * 0.029) + 30;
}

export function availableOn(created: number): number {
  return Math.floor(created / DAY_SECONDS) * DAY_SECONDS + PAYOUT_DELAY_DAYS * DAY_SECONDS;
}

/** The balance transaction a captured charge adds to the account's balance. */
export function recordChargeFunds(
  scope: Scope,
  charge: { id: string; currency: string },
  amount: number,
  at: number,
): WireBalanceTransaction {
  const fee = cardFee(amount);
  const transaction: WireBalanceTransaction = {
    id: scope.emulator.random.id('txn', 24),
    object: 'balance_transaction',
    amount,
    available_on: availableOn(at),
    balance_type: 'payments',
    created: at,
    currency: charge.currency,
    description: null,
    exchange_rate: null,
    fee,
    fee_details: [
      {
        amount: fee,
        application: null,
        currency: charge.currency,
        description: 'Stripe processing fees',
        type: 'stripe_fee',
      },
    ],
    net: amount - fee,
    reporting_category: 'charge',
    source: charge.id,
    status: 'pending',
    type: 'charge',
  };
  return balanceTransactionTable(scope).insert(transaction);
}

const listParams = z.strictObject({
  ...paginationParams,
  created: createdFilterParam,
  currency: z.string().optional(),
  source: z.string().optional(),
  type: z.string().optional(),
  payout: z.string().optional(),
});

export const balanceTransactionRoutes: Route[] = [
  route('get', '/v1/balance_transactions', listParams, ({ scope, params }) => {
    const rows = balanceTransactionTable(scope)
      .newestFirst()
      .filter(
        (txn) =>
          (params.currency === undefined || txn.currency === params.currency) &&
          (params.source === undefined || txn.source === params.source) &&
          (params.type === undefined || txn.type === params.type) &&
          // The emulator makes no payouts, so no transaction belongs to one.
          params.payout === undefined &&
          matchesCreated(txn.created, params.created),
      );
    return paginate(rows, params, '/v1/balance_transactions', 'balance_transaction');
  }),
  route('get', '/v1/balance_transactions/:id', z.strictObject({}), ({ scope, path }) => {
    const transaction = balanceTransactionTable(scope).get(path.id ?? '');
    if (!transaction) throw resourceMissing('balance_transaction', path.id ?? '');
    return transaction;
  }),
];
