import type { PgTable } from 'drizzle-orm/pg-core';
import * as schema from '../store/schema/mirror.ts';
import * as columns from './columns.ts';
import type { StripeObject } from './envelope.ts';

/** The Stripe object types the mirror keeps, by their `object` value. */
export const KIND_NAMES = [
  'customer',
  'product',
  'price',
  'subscription',
  'invoice',
  'invoice_payment',
  'checkout.session',
  'payment_intent',
  'entitlements.active_entitlement_summary',
  'billing.meter',
] as const;
export type KindName = (typeof KIND_NAMES)[number];

export type ColumnContext = { accountKeys: readonly string[] };

export type MirrorKind = {
  name: KindName;
  table: PgTable;
  /** The table's typed columns for an object (pure). */
  columns: (object: StripeObject, context: ColumnContext) => Record<string, unknown>;
};

/** One line per mirrored type: where it is stored and how its typed columns are read. */
export const KINDS: Record<KindName, MirrorKind> = {
  customer: { name: 'customer', table: schema.customers, columns: columns.customerColumns },
  product: { name: 'product', table: schema.products, columns: columns.productColumns },
  price: { name: 'price', table: schema.prices, columns: columns.priceColumns },
  subscription: { name: 'subscription', table: schema.subscriptions, columns: columns.subscriptionColumns },
  invoice: { name: 'invoice', table: schema.invoices, columns: columns.invoiceColumns },
  invoice_payment: {
    name: 'invoice_payment',
    table: schema.invoicePayments,
    columns: columns.invoicePaymentColumns,
  },
  'checkout.session': {
    name: 'checkout.session',
    table: schema.checkoutSessions,
    columns: (session, context) => columns.checkoutSessionColumns(session, context.accountKeys),
  },
  payment_intent: {
    name: 'payment_intent',
    table: schema.paymentIntents,
    columns: columns.paymentIntentColumns,
  },
  'entitlements.active_entitlement_summary': {
    name: 'entitlements.active_entitlement_summary',
    table: schema.activeEntitlements,
    columns: columns.activeEntitlementColumns,
  },
  'billing.meter': {
    name: 'billing.meter',
    table: schema.billingMeters,
    columns: columns.billingMeterColumns,
  },
};

export const isKindName = (value: unknown): value is KindName => KIND_NAMES.includes(value as KindName);

/** Each kind once, in the order first named: a kind named twice would be read, and counted, twice. */
export const eachKindOnce = <Kinds extends readonly KindName[]>(kinds: Kinds): KindName[] => [
  ...new Set(kinds),
];
