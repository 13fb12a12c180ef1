import { readFileSync } from 'node:fs';
import Stripe from 'stripe';
import { signatureHeader } from 'stripe-emulator';
import { seededRandom } from '../test/support/seeded-random.ts';
import type { Customer, Population } from './emulator.ts';

/**
 * The bench's event stream: each populated customer's sign-up as Stripe reports it (ten events over
 * about three seconds), built from the real events in ../shared/stripe-reference/events/ with the
 * emulator's object ids, fresh event ids and the SDK's API version. Customers start 50 a second, so the
 * stream is 500 events per second of Stripe time, and several events of one customer, some about the
 * same object, share a second. About 1% of events are delivered a second time a little later, as
 * Stripe's retries do.
 */

type Json = Record<string, unknown>;

/** An event without its `created`, which is set when it is sent: `base + offsetSeconds`. */
export type StreamEvent = { id: string; type: string; offsetSeconds: number; payload: Json };

export type Stream = {
  events: StreamEvent[];
  /** Indexes into `events`, in delivery order; a redelivered event appears twice. */
  deliveries: number[];
};

type Step = {
  /** Seconds after the customer's sign-up started. */
  at: number;
  type: string;
  template: string;
  patch: (object: Json, customer: Customer, index: number) => { object: Json; previous?: Json };
};

const STARTS_PER_SECOND = 50;
const REDELIVERED_SHARE = 0.01;

/** One customer's sign-up, in the order Stripe emits it. */
const LIFECYCLE: Step[] = [
  { at: 0, type: 'customer.created', template: 'stripe-ruby-mock/customer.created.json', patch: newCustomer },
  {
    at: 1,
    type: 'customer.subscription.created',
    template: 'sync-engine/subscription_created.json',
    patch: (object) => ({ object: subscription(object, 'incomplete') }),
  },
  {
    at: 1,
    type: 'invoice.created',
    template: 'stripe-ruby-mock/invoice.created.json',
    patch: (object, customer) => ({ object: invoice(object, customer, 'draft') }),
  },
  {
    at: 1,
    type: 'invoice.finalized',
    template: 'sync-engine/invoice_finalized.json',
    patch: (object, customer) => ({ object: invoice(object, customer, 'open') }),
  },
  {
    at: 2,
    type: 'payment_intent.succeeded',
    template: 'sync-engine/payment_intent_succeeded.json',
    // The template's intent names no customer; an invoice's intent, like the emulator's, names its own.
    patch: (object, customer) => ({
      object: {
        ...object,
        customer: customer.customer,
        status: 'succeeded',
        amount: 2000,
        amount_received: 2000,
      },
    }),
  },
  {
    at: 2,
    type: 'invoice.paid',
    template: 'sync-engine/invoice_paid.json',
    patch: (object, customer) => ({ object: invoice(object, customer, 'paid') }),
  },
  {
    at: 2,
    type: 'invoice_payment.paid',
    template: 'sync-engine/invoice_payment_paid.json',
    patch: (object) => ({ object: { ...object, status: 'paid', amount_paid: 2000, amount_requested: 2000 } }),
  },
  {
    at: 2,
    type: 'customer.subscription.updated',
    template: 'sync-engine/subscription_updated.json',
    patch: (object) => ({ object: subscription(object, 'active'), previous: { status: 'incomplete' } }),
  },
  {
    at: 2,
    type: 'entitlements.active_entitlement_summary.updated',
    template: 'sync-engine/active_entitlement_summary_updated.json',
    patch: (object) => ({ object, previous: { entitlements: { data: [] } } }),
  },
  { at: 3, type: 'customer.updated', template: 'sync-engine/customer_updated.json', patch: changedEmail },
];

export const EVENTS_PER_CUSTOMER = LIFECYCLE.length;

const REFERENCE = new URL('../../../../shared/stripe-reference/events/', import.meta.url);

export function buildStream(population: Population, seed = 1): Stream {
  // The same seed gives the same stream, so runs compare.
  const random = seededRandom(seed);
  const templates = new Map(LIFECYCLE.map((step) => [step.template, readTemplate(step.template)]));
  const timed: { ms: number; event: StreamEvent }[] = [];
  population.customers.forEach((customer, index) => {
    const ids = idMap(population, customer, random);
    const startMs = Math.floor((index * 1000) / STARTS_PER_SECOND);
    LIFECYCLE.forEach((step, order) => {
      const ms = startMs + step.at * 1000 + order;
      const payload = eventFrom(templates.get(step.template) as Json, step, customer, index, ids, random);
      timed.push({ ms, event: { id: payload.id as string, type: step.type, offsetSeconds: 0, payload } });
    });
  });
  timed.sort((a, b) => a.ms - b.ms);
  for (const { ms, event } of timed) event.offsetSeconds = Math.floor(ms / 1000);
  const events = timed.map((entry) => entry.event);
  const deliveries = events.map((_, index) => ({ ms: timed[index]?.ms as number, index }));
  for (let index = 0; index < events.length; index++)
    if (random() < REDELIVERED_SHARE)
      deliveries.push({ ms: (timed[index]?.ms as number) + 100 + Math.floor(random() * 3000), index });
  deliveries.sort((a, b) => a.ms - b.ms);
  return { events, deliveries: deliveries.map((delivery) => delivery.index) };
}

/** The body Stripe would send for an event whose second 0 is `baseSeconds`. */
export function bodyOf(event: StreamEvent, baseSeconds: number): string {
  return JSON.stringify({ ...event.payload, created: baseSeconds + event.offsetSeconds });
}

export type SignedDelivery = { body: string; signature: string };

/** Deliveries `from … from + count` as Stripe sends them: the body and its `Stripe-Signature`, signed now. */
export function signDeliveries(
  stream: Stream,
  options: { secret: string; baseSeconds: number; from?: number; count?: number },
): SignedDelivery[] {
  const from = options.from ?? 0;
  const now = Math.floor(Date.now() / 1000);
  return stream.deliveries.slice(from, from + (options.count ?? stream.deliveries.length)).map((index) => {
    const body = bodyOf(stream.events[index] as StreamEvent, options.baseSeconds);
    return { body, signature: signatureHeader(body, options.secret, now) };
  });
}

function eventFrom(
  template: Json,
  step: Step,
  customer: Customer,
  index: number,
  ids: (id: string) => string,
  random: () => number,
): Json {
  const data = template.data as Json;
  const remapped = remapIds(data.object, ids) as Json;
  const { object, previous } = step.patch({ ...remapped, livemode: false }, customer, index);
  const { created: _created, account: _account, ...envelope } = template;
  return {
    ...envelope,
    id: `evt_${token(random, 24)}`,
    api_version: Stripe.API_VERSION,
    livemode: false,
    pending_webhooks: 1,
    request: { id: `req_${token(random, 14)}`, idempotency_key: null },
    type: step.type,
    data: previous ? { object, previous_attributes: previous } : { object },
  };
}

function readTemplate(file: string): Json {
  return JSON.parse(readFileSync(new URL(file, REFERENCE), 'utf8')) as Json;
}

const ID =
  /^(cus|sub|si|in|inpay|pi|price|plan|prod|feat_test|ent_test|il|ii|ch|pm|card|txi)_[A-Za-z0-9]{8,}$/;

/** Every id in a template becomes the customer's own: the emulator's where it has one, else a new one. */
function idMap(population: Population, customer: Customer, random: () => number): (id: string) => string {
  const known: Record<string, string> = {
    cus: customer.customer,
    sub: customer.subscription,
    si: customer.item,
    in: customer.invoice,
    pi: customer.paymentIntent,
    inpay: customer.invoicePayment,
    price: population.price,
    plan: population.price,
    prod: population.product,
    feat_test: population.feature,
  };
  const fresh = new Map<string, string>();
  return (id) => {
    const prefix = ID.exec(id)?.[1];
    if (!prefix) return id;
    const own = known[prefix];
    if (own) return own;
    const made = fresh.get(id) ?? `${prefix}_${token(random, 24)}`;
    fresh.set(id, made);
    return made;
  };
}

function remapIds(value: unknown, ids: (id: string) => string): unknown {
  if (typeof value === 'string') return ids(value);
  if (Array.isArray(value)) return value.map((item) => remapIds(item, ids));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, remapIds(item, ids)]));
  return value;
}

function newCustomer(object: Json, customer: Customer, index: number) {
  return {
    object: {
      ...object,
      created: customer.created,
      email: `customer${index}@example.com`,
      name: `Customer ${index}`,
      metadata: { subledger_account_id: `account_${index}` },
    },
  };
}

function changedEmail(object: Json, customer: Customer, index: number) {
  const { sources: _sources, subscriptions: _subscriptions, tax_ids: _taxIds, ...current } = object;
  const { object: created } = newCustomer(current, customer, index);
  return {
    object: { ...created, email: `billing${index}@example.com` },
    previous: { email: `customer${index}@example.com` },
  };
}

/** Current API shape: the period lives on the items (one item, as the emulator's subscription has). */
function subscription(object: Json, status: string): Json {
  const { current_period_start: start, current_period_end: end, plan: _plan, ...rest } = object;
  const items = rest.items as Json & { data: Json[] };
  const item = { ...(items.data[0] as Json), current_period_start: start, current_period_end: end };
  return { ...rest, status, items: { ...items, data: [item], total_count: 1 } };
}

/** Current API shape: the subscription under `parent`, payments as invoice payments. */
function invoice(object: Json, customer: Customer, status: 'draft' | 'open' | 'paid'): Json {
  const { subscription: _subscription, payment_intent: _pi, charge: _charge, paid: _paid, ...rest } = object;
  return {
    ...rest,
    status,
    amount_due: 2000,
    amount_paid: status === 'paid' ? 2000 : 0,
    amount_remaining: status === 'paid' ? 0 : 2000,
    parent: {
      type: 'subscription_details',
      quote_details: null,
      subscription_details: { metadata: {}, subscription: customer.subscription },
    },
  };
}

function token(random: () => number, length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let text = '';
  for (let index = 0; index < length; index++) text += alphabet[Math.floor(random() * alphabet.length)];
  return text;
}
