import { type RunningEmulator, startEmulator } from 'stripe-emulator';
import type { Config, WebhookSecret } from '../config/index.ts';
import { createStripeClient } from '../stripe/index.ts';

/** The key `start` uses with an emulator; the emulator accepts any test key. */
export const EMULATOR_KEY = 'sk_test_subledger_emulator';

/**
 * With no Stripe key, `start` runs against the offline Stripe emulator: in this process, or the one at
 * `STRIPE_API_BASE` when that is set. Returns the running emulator (null when it is external).
 */
export async function useEmulatorWhenKeyless(config: Config): Promise<RunningEmulator | null> {
  if (config.stripeSecretKey) return null;
  config.stripeSecretKey = EMULATOR_KEY;
  if (config.stripeApiBase) return null;
  const running = await startEmulator({ port: 0, hostname: '127.0.0.1' });
  config.stripeApiBase = running.url;
  return running;
}

/**
 * Registers `url` as a webhook endpoint for every event type; returns its signing secret, of the mode of
 * the endpoint (the key's).
 */
export async function registerWebhookEndpoint(config: Config, url: string): Promise<WebhookSecret> {
  const stripe = createStripeClient({
    secretKey: config.stripeSecretKey as string,
    apiBase: config.stripeApiBase,
  });
  const endpoint = await stripe.webhookEndpoints.create({
    url,
    enabled_events: ['*'],
    description: 'Subledger (registered by subledger start)',
  });
  if (!endpoint.secret) throw new Error('the webhook endpoint was created without a signing secret');
  return { secret: endpoint.secret, livemode: endpoint.livemode };
}
