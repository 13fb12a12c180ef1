import type Stripe from 'stripe';

/**
 * Drives the emulator through the official SDK to produce one of each object it returns, as an app
 * would meet them. Each sample is produced on its own, so a resource that is not implemented yet
 * costs only the samples that depend on it.
 */

export type Samples = {
  /** Object name (as keyed in fixtures3.json) → the JSON the emulator returned. */
  produced: Map<string, unknown>;
  /** Object name → why no sample exists (the emulator's error, or the sample it depends on). */
  unavailable: Map<string, string>;
};

type Producer = { object: string; make: (stripe: Stripe, need: Need) => unknown };
type Need = <T>(object: string) => T;

class MissingDependency extends Error {}

const TIME = 1_767_225_600; // 2026-01-01T00:00:00Z: a fixed instant for test clocks.

/** Meter events must fall within Stripe's window around the emulator's (system) time: the last hour. */
const METER_HOUR = Math.floor(Date.now() / 3_600_000) * 3600 - 3600;

/** Producers in dependency order; `need` hands over an earlier sample. */
const producers: Producer[] = [
  { object: 'customer', make: (s) => s.customers.create({ email: 'shape@example.com', name: 'Shape' }) },
  {
    object: 'deleted_customer',
    make: async (s) => s.customers.del((await s.customers.create({})).id),
  },
  { object: 'list', make: (s) => s.customers.list({ limit: 1 }) },
  { object: 'search_result', make: (s) => s.customers.search({ query: "email:'shape@example.com'" }) },
  { object: 'product', make: (s) => s.products.create({ name: 'Shape plan' }) },
  {
    object: 'deleted_product',
    make: async (s) => s.products.del((await s.products.create({ name: 'Short-lived' })).id),
  },
  {
    object: 'price',
    make: (s, need) =>
      s.prices.create({
        product: need<Stripe.Product>('product').id,
        unit_amount: 1500,
        currency: 'usd',
        recurring: { interval: 'month' },
      }),
  },
  {
    object: 'entitlements.feature',
    make: (s) => s.entitlements.features.create({ name: 'Exports', lookup_key: 'exports' }),
  },
  {
    object: 'product_feature',
    make: (s, need) =>
      s.products.createFeature(need<Stripe.Product>('product').id, {
        entitlement_feature: need<Stripe.Entitlements.Feature>('entitlements.feature').id,
      }),
  },
  {
    object: 'deleted_product_feature',
    make: async (s, need) => {
      const product = need<Stripe.Product>('product').id;
      const feature = await s.entitlements.features.create({ name: 'Temporary', lookup_key: 'temporary' });
      const attached = await s.products.createFeature(product, { entitlement_feature: feature.id });
      return s.products.deleteFeature(product, attached.id);
    },
  },
  {
    object: 'payment_method',
    make: (s, need) =>
      s.paymentMethods.attach('pm_card_visa', { customer: need<Stripe.Customer>('customer').id }),
  },
  {
    object: 'subscription',
    make: (s, need) =>
      s.subscriptions.create({
        customer: need<Stripe.Customer>('customer').id,
        items: [{ price: need<Stripe.Price>('price').id }],
        default_payment_method: need<Stripe.PaymentMethod>('payment_method').id,
      }),
  },
  {
    object: 'subscription_item',
    make: async (_, need) => need<Stripe.Subscription>('subscription').items.data[0],
  },
  {
    object: 'invoice',
    make: (s, need) => s.invoices.retrieve(idOf(need<Stripe.Subscription>('subscription').latest_invoice)),
  },
  { object: 'line_item', make: async (_, need) => need<Stripe.Invoice>('invoice').lines.data[0] },
  {
    object: 'invoice_payment',
    make: async (s, need) =>
      (await s.invoicePayments.list({ invoice: need<Stripe.Invoice>('invoice').id })).data[0],
  },
  {
    object: 'payment_intent',
    make: (s, need) =>
      s.paymentIntents.create({
        amount: 2500,
        currency: 'usd',
        customer: need<Stripe.Customer>('customer').id,
        payment_method: need<Stripe.PaymentMethod>('payment_method').id,
        confirm: true,
        off_session: true,
      }),
  },
  {
    object: 'charge',
    make: (s, need) => s.charges.retrieve(idOf(need<Stripe.PaymentIntent>('payment_intent').latest_charge)),
  },
  {
    object: 'checkout.session',
    make: (s, need) =>
      s.checkout.sessions.create({
        mode: 'subscription',
        customer: need<Stripe.Customer>('customer').id,
        line_items: [{ price: need<Stripe.Price>('price').id, quantity: 1 }],
        success_url: 'https://example.com/done?session={CHECKOUT_SESSION_ID}',
      }),
  },
  {
    object: 'item',
    make: async (s, need) =>
      (await s.checkout.sessions.listLineItems(need<Stripe.Checkout.Session>('checkout.session').id)).data[0],
  },
  {
    object: 'billing_portal.session',
    make: (s, need) =>
      s.billingPortal.sessions.create({
        customer: need<Stripe.Customer>('customer').id,
        return_url: 'https://example.com/account',
      }),
  },
  {
    object: 'test_helpers.test_clock',
    make: (s) => s.testHelpers.testClocks.create({ frozen_time: TIME, name: 'Shape clock' }),
  },
  {
    object: 'deleted_test_helpers.test_clock',
    make: async (s) =>
      s.testHelpers.testClocks.del((await s.testHelpers.testClocks.create({ frozen_time: TIME })).id),
  },
  {
    object: 'billing.meter',
    make: (s) =>
      s.billing.meters.create({
        display_name: 'API calls',
        event_name: 'api_call',
        default_aggregation: { formula: 'sum' },
      }),
  },
  {
    object: 'billing.meter_event',
    make: (s, need) => {
      need('billing.meter');
      return s.billing.meterEvents.create({
        event_name: 'api_call',
        timestamp: METER_HOUR + 60,
        payload: { stripe_customer_id: need<Stripe.Customer>('customer').id, value: '3' },
      });
    },
  },
  {
    object: 'billing.meter_event_summary',
    make: async (s, need) => {
      need('billing.meter_event');
      const summaries = await s.billing.meters.listEventSummaries(
        need<Stripe.Billing.Meter>('billing.meter').id,
        {
          customer: need<Stripe.Customer>('customer').id,
          start_time: METER_HOUR,
          end_time: METER_HOUR + 3600,
        },
      );
      return summaries.data[0];
    },
  },
  {
    object: 'entitlements.active_entitlement',
    make: async (s, need) => {
      need('subscription');
      need('product_feature');
      const list = await s.entitlements.activeEntitlements.list({
        customer: need<Stripe.Customer>('customer').id,
      });
      return list.data[0];
    },
  },
  {
    object: 'subscription_schedule',
    make: (s, need) =>
      s.subscriptionSchedules.create({ from_subscription: need<Stripe.Subscription>('subscription').id }),
  },
  {
    object: 'webhook_endpoint',
    make: (s) => s.webhookEndpoints.create({ url: 'https://example.com/hooks', enabled_events: ['*'] }),
  },
  {
    object: 'deleted_webhook_endpoint',
    make: async (s) =>
      s.webhookEndpoints.del(
        (await s.webhookEndpoints.create({ url: 'https://example.com/gone', enabled_events: ['*'] })).id,
      ),
  },
  {
    object: 'event',
    make: async (s, need) => {
      const customer = need<Stripe.Customer>('customer').id;
      const events = await s.events.list({ type: 'customer.created', limit: 100 });
      const created = events.data.find((e) => (e.data.object as { id?: string }).id === customer);
      return created && s.events.retrieve(created.id);
    },
  },
];

const idOf = (value: string | { id: string } | null | undefined) =>
  typeof value === 'string' ? value : (value?.id ?? '');

/** The object names the producers cover, in order. */
export const SAMPLED_OBJECTS = producers.map((p) => p.object);

export async function produceSamples(stripe: Stripe): Promise<Samples> {
  const samples: Samples = { produced: new Map(), unavailable: new Map() };
  const need: Need = <T>(object: string) => {
    const sample = samples.produced.get(object);
    if (sample === undefined) throw new MissingDependency(`needs ${object}`);
    return sample as T;
  };
  for (const producer of producers) {
    try {
      const value = await producer.make(stripe, need);
      if (value === undefined) samples.unavailable.set(producer.object, 'the emulator returned none');
      // The SDK turns decimal strings into `Decimal`s; their `toJSON` gives back the wire form.
      else samples.produced.set(producer.object, JSON.parse(JSON.stringify(value)));
    } catch (error) {
      samples.unavailable.set(producer.object, reason(error));
    }
  }
  return samples;
}

function reason(error: unknown): string {
  if (error instanceof MissingDependency) return error.message;
  const stripeError = error as { statusCode?: number; message?: string };
  const unrecognized = /^Unrecognized request URL \((\w+): ([^)]*)\)/.exec(stripeError.message ?? '');
  if (stripeError.statusCode === 404 && unrecognized)
    return `not implemented: ${unrecognized[1]} ${unrecognized[2]}`;
  return `${stripeError.statusCode ?? 'error'}: ${stripeError.message ?? String(error)}`;
}
