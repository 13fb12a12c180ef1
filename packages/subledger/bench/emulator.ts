import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';

/** The objects of one populated customer, whose ids the event stream reuses so refetches find them. */
export type Customer = {
  customer: string;
  subscription: string;
  item: string;
  invoice: string;
  paymentIntent: string;
  invoicePayment: string;
  created: number;
};

export type Population = {
  product: string;
  price: string;
  feature: string;
  customers: Customer[];
  elapsedMs: number;
};

export type EmulatorProcess = { url: string; port: number; key: string; stop: () => void };

export const EMULATOR_KEY = 'sk_test_subledger_bench';

/**
 * The emulator in its own process: it answers Subledger's refetches and backfill reads, and sharing
 * Subledger's event loop would charge its work to Subledger's figures.
 */
export async function startEmulatorProcess(): Promise<EmulatorProcess> {
  const cli = fileURLToPath(new URL('../../stripe-emulator/src/cli.ts', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [cli, '--port', '0', '--seed', '1'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  const url = /(http:\/\/[\d.]+:\d+)/.exec(line.toString())?.[1];
  if (!url) throw new Error(`the emulator did not report its address: ${line.toString()}`);
  return { url, port: Number(new URL(url).port), key: EMULATOR_KEY, stop: () => child.kill('SIGTERM') };
}

export function sdkFor(emulator: EmulatorProcess): Stripe {
  return new Stripe(emulator.key, {
    host: '127.0.0.1',
    port: emulator.port,
    protocol: 'http',
    telemetry: false,
    maxNetworkRetries: 2,
  });
}

/**
 * A catalog (one product with an entitlement feature, one monthly price) and `count` customers, each
 * with a card and a paid subscription: the state a live account has after `count` sign-ups.
 */
export async function populate(stripe: Stripe, count: number, inFlight = 16): Promise<Population> {
  const started = performance.now();
  const feature = await stripe.entitlements.features.create({ name: 'Journeys', lookup_key: 'journeys' });
  const product = await stripe.products.create({ name: 'Pro' });
  await stripe.products.createFeature(product.id, { entitlement_feature: feature.id });
  const price = await stripe.prices.create({
    product: product.id,
    currency: 'usd',
    unit_amount: 2000,
    recurring: { interval: 'month' },
  });
  const customers: Customer[] = new Array(count);
  let next = 0;
  const lane = async () => {
    for (let index = next++; index < count; index = next++)
      customers[index] = await signUp(stripe, price.id, index);
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return {
    product: product.id,
    price: price.id,
    feature: feature.id,
    customers,
    elapsedMs: performance.now() - started,
  };
}

async function signUp(stripe: Stripe, price: string, index: number): Promise<Customer> {
  const customer = await stripe.customers.create({
    email: `customer${index}@example.com`,
    payment_method: 'pm_card_visa',
    metadata: { subledger_account_id: `account_${index}` },
  });
  const [card] = (await stripe.paymentMethods.list({ customer: customer.id })).data;
  const subscription = await stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price }],
    default_payment_method: card?.id as string,
    expand: ['latest_invoice.payments'],
  });
  const invoice = subscription.latest_invoice as Stripe.Invoice;
  const payment = invoice.payments?.data[0];
  if (!payment?.payment.payment_intent) throw new Error(`subscription ${subscription.id} has no payment`);
  return {
    customer: customer.id,
    subscription: subscription.id,
    item: subscription.items.data[0]?.id as string,
    invoice: invoice.id as string,
    paymentIntent: idOf(payment.payment.payment_intent),
    invoicePayment: payment.id,
    created: customer.created,
  };
}

const idOf = (value: string | { id: string }) => (typeof value === 'string' ? value : value.id);
