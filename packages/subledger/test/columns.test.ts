import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  activeEntitlementColumns,
  billingMeterColumns,
  checkoutAccountId,
  checkoutSessionColumns,
  customerAccountId,
  customerColumns,
  invoiceColumns,
  invoicePaymentColumns,
  listsAllItems,
  paymentIntentColumns,
  priceColumns,
  productColumns,
  subscriptionColumns,
  subscriptionItemColumns,
} from '../src/sync/columns.ts';
import type { StripeObject } from '../src/sync/envelope.ts';

const reference = (path: string) =>
  JSON.parse(
    readFileSync(new URL(`../../../../shared/stripe-reference/${path}`, import.meta.url), 'utf8'),
  ) as Record<string, unknown>;
const eventObject = (file: string) =>
  (reference(`events/${file}`) as { data: { object: StripeObject } }).data.object;
const fixture = (name: string) =>
  (reference('openapi/fixtures3.json') as { resources: Record<string, StripeObject> }).resources[
    name
  ] as StripeObject;

const at = (seconds: number) => new Date(seconds * 1000);
const pick = (row: Record<string, unknown>, keys: string[]) =>
  Object.fromEntries(keys.map((key) => [key, row[key]]));

type Case = [name: string, object: StripeObject, expected: Record<string, unknown>];

function table(reader: string, read: (object: StripeObject) => Record<string, unknown>, cases: Case[]) {
  for (const [name, object, expected] of cases)
    test(`${reader}: ${name}`, () => {
      assert.deepEqual(pick(read(object), Object.keys(expected)), expected);
    });
}

// biome-ignore format: one case per line
table('subscriptionColumns', subscriptionColumns, [
  ['period end on the items (2025-03-31 and later): the earliest', { customer: 'cus_1', status: 'active', items: { data: [{ current_period_end: 300 }, { current_period_end: 200 }] } }, { customerId: 'cus_1', status: 'active', currentPeriodEndAt: at(200) }],
  ['period end on the subscription (before 2025-03-31)', { customer: 'cus_1', current_period_end: 400, items: { data: [{ id: 'si_1' }] } }, { currentPeriodEndAt: at(400) }],
  ['items win over a stale top-level period end', { current_period_end: 100, items: { data: [{ current_period_end: 500 }] } }, { currentPeriodEndAt: at(500) }],
  ['no period end anywhere', { items: { data: [] } }, { currentPeriodEndAt: null }],
  ['an expanded customer', { customer: { id: 'cus_2', object: 'customer' } }, { customerId: 'cus_2' }],
  ['no customer', {}, { customerId: null }],
  ['trial end and cancel at period end', { trial_end: 700, cancel_at_period_end: true }, { trialEndAt: at(700), cancelAtPeriodEnd: true }],
  ['no trial', { trial_end: null, cancel_at_period_end: false }, { trialEndAt: null, cancelAtPeriodEnd: false }],
  ['real 2020-03-02 event payload', eventObject('sync-engine/subscription_created.json'), { customerId: 'cus_IhGfebO16cMIGN', status: 'active', currentPeriodEndAt: at(1625740918), trialEndAt: null }],
  ['real current fixture', fixture('subscription'), { customerId: 'cus_QXg1o8vcGmoR32', currentPeriodEndAt: at(976287773), cancelAtPeriodEnd: true }],
]);

// biome-ignore format: one case per line
table('subscriptionItemColumns', (item) => subscriptionItemColumns(item, 'sub_1'), [
  ['price as an id', { price: 'price_1', quantity: 2, current_period_end: 900 }, { subscriptionId: 'sub_1', priceId: 'price_1', quantity: 2, currentPeriodEndAt: at(900) }],
  ['expanded price', { price: { id: 'price_2', object: 'price' } }, { priceId: 'price_2', quantity: null }],
  ['old item with only a plan', { plan: { id: 'plan_1', object: 'plan' } }, { priceId: 'plan_1', currentPeriodEndAt: null }],
  ['real current fixture', fixture('subscription_item'), { priceId: 'price_1PgafmB7WZ01zgkW6dKueIc5' }],
]);

// biome-ignore format: one case per line
table('invoiceColumns', invoiceColumns, [
  ['subscription at the top (before 2025-03-31)', { customer: 'cus_1', subscription: 'sub_old' }, { customerId: 'cus_1', subscriptionId: 'sub_old' }],
  ['subscription under parent.subscription_details', { parent: { type: 'subscription_details', subscription_details: { subscription: 'sub_new' } } }, { subscriptionId: 'sub_new' }],
  ['expanded subscription under parent', { parent: { subscription_details: { subscription: { id: 'sub_x', object: 'subscription' } } } }, { subscriptionId: 'sub_x' }],
  ['expanded top-level subscription and customer', { subscription: { id: 'sub_y' }, customer: { id: 'cus_y' } }, { subscriptionId: 'sub_y', customerId: 'cus_y' }],
  ['parent without a subscription (a quote)', { parent: { type: 'quote_details', quote_details: { quote: 'qt_1' } } }, { subscriptionId: null }],
  ['no subscription at all', { subscription: null, parent: null }, { subscriptionId: null }],
  ['amounts, status and period', { status: 'paid', billing_reason: 'subscription_cycle', currency: 'usd', amount_due: 2000, amount_paid: 2000, period_end: 1000 }, { status: 'paid', billingReason: 'subscription_cycle', currency: 'usd', amountDue: 2000, amountPaid: 2000, periodEndAt: at(1000) }],
  ['real 2020-03-02 event payload', eventObject('sync-engine/invoice_paid.json'), { customerId: 'cus_JsuO3bmrj0QlAw', subscriptionId: 'sub_JsuPyCPhXWfZar', status: 'paid', periodEndAt: at(1642645280) }],
  ['real open invoice after a declined charge: nothing paid of 2000 due; its own period end, not its line’s', eventObject('stripe-ruby-mock/invoice.payment_failed.json'), { status: 'open', amountDue: 2000, amountPaid: 0, periodEndAt: at(1648320007) }],
]);

// biome-ignore format: one case per line
table('priceColumns', priceColumns, [
  ['recurring price, product as an id', { product: 'prod_1', active: true, lookup_key: 'pro', type: 'recurring', currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' } }, { productId: 'prod_1', active: true, lookupKey: 'pro', type: 'recurring', currency: 'usd', unitAmount: 2000, recurringInterval: 'month' }],
  ['one-time price, expanded product', { product: { id: 'prod_2', object: 'product' }, type: 'one_time', recurring: null, lookup_key: null }, { productId: 'prod_2', recurringInterval: null, lookupKey: null }],
  ['custom amount (no unit_amount)', { unit_amount: null }, { unitAmount: null }],
]);

// biome-ignore format: one case per line
table('customerColumns', customerColumns, [
  ['email, name and creation', { email: 'a@example.com', name: 'A', created: 1700000000 }, { email: 'a@example.com', name: 'A', createdAt: at(1700000000), accountId: null }],
  ['the account its metadata names', { metadata: { subledger_account_id: 'team_1', orgId: 'org_1' } }, { accountId: 'team_1' }],
  ['a deleted customer as Stripe reads it', { id: 'cus_1', deleted: true }, { email: null, name: null, createdAt: null, accountId: null }],
]);

// biome-ignore format: one case per line
table('other readers', (object) => ({ ...productColumns(object), ...invoicePaymentColumns(object), ...paymentIntentColumns(object), ...billingMeterColumns(object) }), [
  ['product', { active: false, name: 'Pro' }, { active: false, name: 'Pro' }],
  ['invoice payment, invoice as an id', { invoice: 'in_1', status: 'paid', amount_paid: 500 }, { invoiceId: 'in_1', status: 'paid', amountPaid: 500 }],
  ['invoice payment, expanded invoice', { invoice: { id: 'in_2', object: 'invoice' } }, { invoiceId: 'in_2' }],
  ['invoice payment, real: paid what was requested', eventObject('sync-engine/invoice_payment_paid.json'), { invoiceId: 'in_103Q0w2eZvKYlo2C5PYwf6Wf', status: 'paid', amountPaid: 2000 }],
  ['invoice payment, current fixture: requested, nothing paid yet', fixture('invoice_payment'), { amountPaid: null }],
  ['payment intent', { customer: 'cus_1', status: 'succeeded', amount: 1500, currency: 'eur' }, { customerId: 'cus_1', status: 'succeeded', amount: 1500, currency: 'eur' }],
  ['payment intent, real failed payment: the amount asked, not the 0 received', eventObject('stripe-ruby-mock/payment_intent.payment_failed.json'), { status: 'requires_payment_method', amount: 2000, currency: 'usd' }],
  ['billing meter', { event_name: 'api_calls', status: 'inactive' }, { eventName: 'api_calls', status: 'inactive' }],
]);

// biome-ignore format: one case per line
table('activeEntitlementColumns', activeEntitlementColumns, [
  ['lookup keys of the active entitlements', { entitlements: { data: [{ lookup_key: 'sso' }, { lookup_key: 'api' }] } }, { featureLookupKeys: ['sso', 'api'] }],
  ['none active', { entitlements: { data: [] } }, { featureLookupKeys: [] }],
  ['no list', {}, { featureLookupKeys: [] }],
  ['real event payload', eventObject('sync-engine/active_entitlement_summary_updated.json'), { featureLookupKeys: ['journeys'] }],
]);

const KEYS = ['buildingId', 'orgId'];

// biome-ignore format: one case per line
const ACCOUNT_CASES: [string, StripeObject, readonly string[], string | null][] = [
  ['subledger_account_id (Subledger’s own checkout) before any other', { metadata: { orgId: 'org_1', subledger_account_id: 'acc_1' }, client_reference_id: 'ref_1' }, KEYS, 'acc_1'],
  ['the first configured metadata key that is set', { metadata: { orgId: 'org_1', buildingId: 'bld_1' }, client_reference_id: 'ref_1' }, KEYS, 'bld_1'],
  ['a later key when the first is missing', { metadata: { orgId: 'org_1' }, client_reference_id: 'ref_1' }, KEYS, 'org_1'],
  ['an empty value does not count', { metadata: { buildingId: '', orgId: 'org_2' } }, KEYS, 'org_2'],
  ['client_reference_id when no key is set', { metadata: {}, client_reference_id: 'ref_1' }, KEYS, 'ref_1'],
  ['unconfigured metadata keys are ignored', { metadata: { teamId: 'team_1' }, client_reference_id: null }, KEYS, null],
  ['no metadata at all', { metadata: null, client_reference_id: 'ref_2' }, KEYS, 'ref_2'],
  ['the default key', { metadata: { subledger_account_id: 'acc_1' } }, ['subledger_account_id'], 'acc_1'],
  ['nothing names an account', {}, KEYS, null],
];

for (const [name, session, keys, expected] of ACCOUNT_CASES)
  test(`checkoutAccountId: ${name}`, () => assert.equal(checkoutAccountId(session, keys), expected));

test('checkoutSessionColumns reads ids (plain or expanded) and the account', () => {
  const columns = checkoutSessionColumns(
    {
      customer: { id: 'cus_1', object: 'customer' },
      subscription: 'sub_1',
      status: 'complete',
      mode: 'subscription',
      payment_status: 'paid',
      client_reference_id: 'ref_1',
      metadata: { orgId: 'org_1' },
    },
    KEYS,
  );
  assert.deepEqual(columns, {
    customerId: 'cus_1',
    subscriptionId: 'sub_1',
    status: 'complete',
    mode: 'subscription',
    paymentStatus: 'paid',
    clientReferenceId: 'ref_1',
    accountId: 'org_1',
  });
  const real = checkoutSessionColumns(eventObject('sync-engine/checkout_session_completed.json'), KEYS);
  assert.deepEqual(pick(real, ['customerId', 'mode', 'accountId']), {
    customerId: 'cus_IhGfebO16cMIGN',
    mode: 'payment',
    accountId: null,
  });
});

test('customerAccountId reads subledger_account_id from customer metadata only', () => {
  assert.equal(customerAccountId({ metadata: { subledger_account_id: 'acc_1' } }), 'acc_1');
  assert.equal(customerAccountId({ metadata: { orgId: 'org_1' } }), null);
  assert.equal(customerAccountId({ metadata: null }), null);
  assert.equal(customerAccountId({ metadata: { subledger_account_id: '' } }), null);
});

test('listsAllItems is false only for an embedded list that says it has more', () => {
  assert.equal(listsAllItems({ items: { object: 'list', data: [], has_more: false } }), true);
  assert.equal(listsAllItems({ items: { object: 'list', data: [{ id: 'si_1' }], has_more: true } }), false);
  assert.equal(listsAllItems({ id: 'sub_1' }), true);
});
