/**
 * Stripe objects for the bench's accounts (pure but for reading the templates once): each is a real
 * object from ../shared/stripe-reference/ with the profile's ids, status and times, so the mirror holds
 * what Stripe would have sent, at its real size.
 */
import { readFileSync } from 'node:fs';
import { benchCatalog, type PlanId, type Profile } from './access-data.ts';

type Json = Record<string, unknown>;

const REFERENCE = new URL('../../../../shared/stripe-reference/', import.meta.url);
const read = (file: string) => JSON.parse(readFileSync(new URL(file, REFERENCE), 'utf8')) as Json;

/**
 * A subscription as the API (2025-10-29.clover: periods on items) returns it, with its latest invoice
 * expanded; a webhook carries that invoice as an id, and the invoice is the template of the open ones.
 */
const recordedSubscription = read(
  'recorded/pay-rails/test_stripe_change_subscription_quantity/09-GET-v1_subscriptions_sub_1SRznPKXBGcbgpbZrRvj2FVw.json',
).body as Json;
const TEMPLATES = {
  subscription: { ...recordedSubscription, latest_invoice: null } as Json,
  item: (recordedSubscription.items as { data: Json[] }).data[0] as Json,
  invoice: recordedSubscription.latest_invoice as Json,
  customer: (read('events/stripe-ruby-mock/customer.created.json').data as { object: Json }).object,
  product: (read('events/sync-engine/product_created.json').data as { object: Json }).object,
};

const STATUS: Record<Profile['kind'], string> = {
  active: 'active',
  canceling: 'active',
  trialing: 'trialing',
  past_due: 'past_due',
  grace_over: 'past_due',
  canceled: 'canceled',
  incomplete: 'incomplete',
};

const suffix = (profile: Profile) => profile.subscriptionId.slice('sub_'.length);
export const priceIdOf = (lookupKey: string) => `price_bench_${lookupKey}`;
const productIdOf = (plan: string) => `prod_bench_${plan}`;
const invoiceIdOf = (profile: Profile) => `in_${suffix(profile)}`;

export function customerObject(profile: Profile): Json {
  return {
    ...TEMPLATES.customer,
    id: profile.customerId,
    created: profile.created,
    email: `${profile.accountId}@example.com`,
    name: `Team ${profile.index}`,
    invoice_prefix: suffix(profile).slice(-8).toUpperCase(),
    default_source: null,
    description: null,
    metadata: { subledger_account_id: profile.accountId },
  };
}

export function subscriptionObject(profile: Profile): Json {
  const { price, plan } = priceObjects(profile.lookupKey);
  const item = {
    ...TEMPLATES.item,
    id: `si_${suffix(profile)}`,
    created: profile.created,
    current_period_start: profile.periodStart,
    current_period_end: profile.periodEnd,
    price,
    plan,
    quantity: 1,
    subscription: profile.subscriptionId,
  };
  const canceled = profile.kind === 'canceled';
  const trialing = profile.kind === 'trialing';
  return {
    ...TEMPLATES.subscription,
    id: profile.subscriptionId,
    customer: profile.customerId,
    status: STATUS[profile.kind],
    created: profile.created,
    start_date: profile.created,
    billing_cycle_anchor: trialing ? profile.trialEnd : profile.periodStart,
    billing_mode: { ...(TEMPLATES.subscription.billing_mode as Json), updated_at: profile.created },
    cancel_at_period_end: profile.kind === 'canceling',
    canceled_at: canceled
      ? profile.periodEnd
      : profile.kind === 'canceling'
        ? profile.periodStart + 600
        : null,
    ended_at: canceled ? profile.periodEnd : null,
    trial_start: trialing ? profile.periodStart : null,
    trial_end: profile.trialEnd,
    latest_invoice: invoiceIdOf(profile),
    items: {
      object: 'list',
      data: [item],
      has_more: false,
      total_count: 1,
      url: `/v1/subscription_items?subscription=${profile.subscriptionId}`,
    },
    plan,
    quantity: 1,
  };
}

/** The open invoice a past-due subscription is waiting on, finalized when it fell past due. */
export function openInvoiceObject(profile: Profile): Json | null {
  if (profile.pastDueSince === null) return null;
  const template = TEMPLATES.invoice;
  const amount = unitAmountOf(profile.lookupKey);
  return {
    ...template,
    id: invoiceIdOf(profile),
    customer: profile.customerId,
    customer_email: `${profile.accountId}@example.com`,
    status: 'open',
    billing_reason: 'subscription_cycle',
    created: profile.periodStart,
    effective_at: profile.pastDueSince,
    period_start: profile.periodStart,
    period_end: profile.periodStart,
    amount_due: amount,
    amount_paid: 0,
    amount_remaining: amount,
    subtotal: amount,
    total: amount,
    attempt_count: 1,
    next_payment_attempt: profile.pastDueSince + 3 * 86_400,
    parent: {
      ...(template.parent as Json),
      subscription_details: { metadata: {}, subscription: profile.subscriptionId },
    },
    lines: { ...(template.lines as Json), data: [lineOf(profile, amount)] },
    payments: { ...(template.payments as Json), data: [] },
    status_transitions: {
      finalized_at: profile.pastDueSince,
      marked_uncollectible_at: null,
      paid_at: null,
      voided_at: null,
    },
  };
}

function lineOf(profile: Profile, amount: number): Json {
  const line = ((TEMPLATES.invoice.lines as { data: Json[] }).data[0] ?? {}) as Json & { parent: Json };
  const details = line.parent.subscription_item_details as Json;
  return {
    ...line,
    id: `il_${suffix(profile)}`,
    invoice: invoiceIdOf(profile),
    amount,
    period: { start: profile.periodStart, end: profile.periodEnd },
    parent: {
      ...line.parent,
      subscription_item_details: {
        ...details,
        subscription: profile.subscriptionId,
        subscription_item: `si_${suffix(profile)}`,
      },
    },
  };
}

/** The catalog's products and prices as the mirror holds them once `subledger catalog push` ran. */
export function catalogObjects(): { products: Json[]; prices: Json[] } {
  const products = Object.entries(benchCatalog.plans).map(([planId, plan]) => ({
    ...TEMPLATES.product,
    id: productIdOf(planId),
    name: plan.name,
    metadata: { subledger_plan: planId },
  }));
  const prices = Object.values(benchCatalog.plans).flatMap((plan) =>
    plan.prices.map((price) => priceObjects(price.lookupKey).price),
  );
  return { products, prices };
}

function priceObjects(lookupKey: string): { price: Json; plan: Json } {
  const [planId] = Object.entries(benchCatalog.plans).find(([, plan]) =>
    plan.prices.some((price) => price.lookupKey === lookupKey),
  ) as [PlanId, unknown];
  const interval = lookupKey.endsWith('_yearly') ? 'year' : 'month';
  const amount = unitAmountOf(lookupKey);
  const template = { price: TEMPLATES.item.price as Json, plan: TEMPLATES.item.plan as Json };
  const common = { id: priceIdOf(lookupKey), product: productIdOf(planId), nickname: lookupKey };
  return {
    price: {
      ...template.price,
      ...common,
      lookup_key: lookupKey,
      unit_amount: amount,
      unit_amount_decimal: String(amount),
      recurring: { ...(template.price.recurring as Json), interval },
    },
    plan: { ...template.plan, ...common, amount, amount_decimal: String(amount), interval },
  };
}

function unitAmountOf(lookupKey: string): number {
  for (const plan of Object.values(benchCatalog.plans))
    for (const price of plan.prices) if (price.lookupKey === lookupKey) return price.unitAmount;
  throw new Error(`no catalog price has the lookup key ${lookupKey}`);
}
