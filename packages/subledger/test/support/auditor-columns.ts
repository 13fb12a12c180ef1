import type pg from 'pg';
import { differingPaths, idOf, isRecord, type Json, toJson, valueAt } from './auditor-json.ts';
import type { StoredObject } from './auditor-stripe.ts';

/**
 * The typed columns the mirror keeps beside each object's JSON (what the app queries), predicted from
 * Stripe's object. The table below is written from Stripe's documented fields, apart from the code that
 * fills the columns, so that a column read from the wrong field (`amount_due` for `amount_paid`) shows
 * up as a difference even where the JSON beside it is right.
 */

export type ColumnContext = {
  /** The checkout-session metadata keys that name an app account (`SUBLEDGER_ACCOUNT_KEYS`). */
  accountKeys: readonly string[];
};

type Expectation = (object: StoredObject, context: ColumnContext) => Json;

/** The metadata key a customer or a checkout session names its app account with. */
export const ACCOUNT_KEY = 'subledger_account_id';

const field =
  (...path: string[]): Expectation =>
  (object) =>
    valueAt(object, path) ?? null;
const reference =
  (...path: string[]): Expectation =>
  (object) =>
    idOf(valueAt(object, path));
const listAt = (object: Json, field: string): Json[] => {
  const data = valueAt(object, [field, 'data']);
  return Array.isArray(data) ? data : [];
};

/** Since API version 2025-03-31 a subscription's period lives on its items: the next renewal is the earliest end. */
const earliestItemPeriodEnd: Expectation = (subscription) => {
  const ends = listAt(subscription, 'items').map((item) => valueAt(item, ['current_period_end']));
  const numbers = ends.filter((end): end is number => typeof end === 'number');
  return numbers.length > 0 ? Math.min(...numbers) : null;
};

/**
 * The account a checkout session names (README, `SUBLEDGER_ACCOUNT_KEYS`): its `subledger_account_id`
 * metadata, then the configured keys in order, then `client_reference_id`; an empty value names none.
 */
export function sessionAccount(session: StoredObject, context: ColumnContext): string | null {
  const metadata = isRecord(session.metadata) ? session.metadata : {};
  for (const key of [ACCOUNT_KEY, ...context.accountKeys]) {
    const value = metadata[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return typeof session.client_reference_id === 'string' ? session.client_reference_id : null;
}

/** The account a customer's metadata names (README): its `subledger_account_id`; an empty value names none. */
const customerAccount: Expectation = (customer) => {
  const value = valueAt(customer, ['metadata', ACCOUNT_KEY]);
  return typeof value === 'string' && value !== '' ? value : null;
};

/** Every typed column of every mirror table, by table; times in Unix seconds, as Stripe gives them. */
export const TYPED_COLUMNS: Readonly<Record<string, Readonly<Record<string, Expectation>>>> = {
  customers: {
    email: field('email'),
    name: field('name'),
    created_at: field('created'),
    account_id: customerAccount,
  },
  products: { active: field('active'), name: field('name') },
  prices: {
    product_id: reference('product'),
    active: field('active'),
    lookup_key: field('lookup_key'),
    type: field('type'),
    currency: field('currency'),
    unit_amount: field('unit_amount'),
    recurring_interval: field('recurring', 'interval'),
  },
  subscriptions: {
    customer_id: reference('customer'),
    status: field('status'),
    current_period_end_at: earliestItemPeriodEnd,
    cancel_at_period_end: field('cancel_at_period_end'),
    trial_end_at: field('trial_end'),
  },
  subscription_items: {
    subscription_id: field('subscription'),
    price_id: reference('price'),
    quantity: field('quantity'),
    current_period_end_at: field('current_period_end'),
  },
  invoices: {
    customer_id: reference('customer'),
    subscription_id: reference('parent', 'subscription_details', 'subscription'),
    status: field('status'),
    billing_reason: field('billing_reason'),
    currency: field('currency'),
    amount_due: field('amount_due'),
    amount_paid: field('amount_paid'),
    period_end_at: field('period_end'),
  },
  invoice_payments: {
    invoice_id: reference('invoice'),
    status: field('status'),
    amount_paid: field('amount_paid'),
  },
  checkout_sessions: {
    customer_id: reference('customer'),
    status: field('status'),
    mode: field('mode'),
    payment_status: field('payment_status'),
    client_reference_id: field('client_reference_id'),
    subscription_id: reference('subscription'),
    account_id: sessionAccount,
  },
  payment_intents: {
    customer_id: reference('customer'),
    status: field('status'),
    amount: field('amount'),
    currency: field('currency'),
  },
  active_entitlements: {
    feature_lookup_keys: (summary) =>
      listAt(summary, 'entitlements').map((entitlement) => valueAt(entitlement, ['lookup_key'])),
  },
  billing_meters: { event_name: field('event_name'), status: field('status') },
};

/** Columns every mirror row has (where the object lives, the object, its version evidence): not typed. */
const ROW_COLUMNS = new Set([
  'id',
  'stripe_account',
  'livemode',
  'data',
  'deleted',
  'last_event_id',
  'last_event_created',
  'source',
  'synced_at',
]);

/**
 * For each mirror table, a SQL expression that reads its typed columns as one JSON object (times in
 * seconds), from the database's own catalog. Fails when a table
 * has a typed column this file does not predict, or predicts one it lacks: a column added to the
 * schema is audited from the day it exists.
 */
export async function typedColumnSelects(
  pool: pg.Pool,
  tables: readonly string[],
): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ table_name: string; column_name: string; data_type: string }>(
    `select table_name, column_name, data_type from information_schema.columns
     where table_schema = current_schema() and table_name = any($1::text[]) order by ordinal_position`,
    [tables],
  );
  const selects = new Map<string, string>();
  const unpredicted: string[] = [];
  for (const table of tables) {
    const columns = rows.filter((row) => row.table_name === table && !ROW_COLUMNS.has(row.column_name));
    const predicted = Object.keys(TYPED_COLUMNS[table] ?? {});
    const names = columns.map((column) => column.column_name);
    unpredicted.push(
      ...names.filter((name) => !predicted.includes(name)).map((name) => `${table}.${name} (no prediction)`),
      ...predicted.filter((name) => !names.includes(name)).map((name) => `${table}.${name} (no such column)`),
    );
    const pairs = columns.map(({ column_name: name, data_type: type }) =>
      type.startsWith('timestamp')
        ? `'${name}', extract(epoch from "${name}")::float8`
        : `'${name}', "${name}"`,
    );
    selects.set(table, `jsonb_build_object(${pairs.join(', ')})`);
  }
  if (unpredicted.length > 0)
    throw new Error(`the audit's typed columns do not match the schema: ${unpredicted.join(', ')}`);
  return selects;
}

/** The typed columns of `table` that differ from Stripe's `object`, as `column amount_paid: 0 ≠ 2000`. */
export function columnDifferences(
  table: string,
  object: Json,
  columns: Json,
  context: ColumnContext,
): string[] {
  const predictions = Object.entries(TYPED_COLUMNS[table] ?? {});
  const expected = Object.fromEntries(
    predictions.map(([name, expect]) => [name, toJson(expect(object as StoredObject, context) ?? null)]),
  );
  return differingPaths(expected, columns).map((path) => `column ${path}`);
}
