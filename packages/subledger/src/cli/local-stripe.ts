import { connect } from 'node:net';
import type Stripe from 'stripe';
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
 * How a later start knows the endpoints `start` registered: this description and, since it was added,
 * this metadata. Endpoints without them (made by hand, or by another tool) are never touched.
 */
const ENDPOINT_DESCRIPTION = 'Subledger (registered by subledger start)';
const ENDPOINT_MARK = { subledger: 'start' };

/**
 * Deletes the endpoints that earlier starts registered for `url`, and those registered for a loopback
 * address whose port no longer answers (a start on another port, since stopped); returns their ids. An
 * emulator at `STRIPE_API_BASE` outlives the server: left in place, each would receive every event again,
 * signed with a secret no one holds any more, so refused and retried for ever (and Stripe refuses a 17th
 * endpoint). Stripe shows an endpoint's secret only in the answer that creates it, so an earlier
 * endpoint cannot be reused: it is deleted, and `registerWebhookEndpoint` creates a new one. An endpoint
 * of a start still running elsewhere answers, and is left to it.
 */
export async function removeEarlierEndpoints(config: Config, url: string): Promise<string[]> {
  const stripe = createStripeClient({
    secretKey: config.stripeSecretKey as string,
    apiBase: config.stripeApiBase,
  });
  // Listed to the end before any is deleted: a deleted endpoint would be an unknown cursor for the next page.
  const registered: Stripe.WebhookEndpoint[] = [];
  for await (const endpoint of stripe.webhookEndpoints.list({ limit: 100 }))
    if (registeredByStart(endpoint)) registered.push(endpoint);
  const removed: string[] = [];
  for (const endpoint of registered)
    if (endpoint.url === url || (await abandoned(endpoint.url))) removed.push(endpoint.id);
  for (const id of removed) await stripe.webhookEndpoints.del(id);
  return removed;
}

/** Whether `start` registered `endpoint`: Subledger's mark, or its description (all an older one carries). */
function registeredByStart(endpoint: Stripe.WebhookEndpoint): boolean {
  return (
    endpoint.metadata.subledger === ENDPOINT_MARK.subledger || endpoint.description === ENDPOINT_DESCRIPTION
  );
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** A loopback URL whose port refuses connections: no server of this machine listens there any more. */
async function abandoned(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  if (!LOOPBACK.has(hostname) || !port) return false;
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) });
    socket.setTimeout(1000);
    const settle = (refused: boolean) => {
      socket.destroy();
      resolve(refused);
    };
    socket.once('connect', () => settle(false));
    socket.once('timeout', () => settle(false));
    socket.once('error', (error: NodeJS.ErrnoException) => settle(error.code === 'ECONNREFUSED'));
  });
}

/**
 * Registers `url` as a webhook endpoint for every event type, with Subledger's mark; returns its signing
 * secret, of the mode of the endpoint (the key's). A `connect` endpoint receives the events of the
 * platform's connected accounts instead of its own.
 */
export async function registerWebhookEndpoint(
  config: Config,
  url: string,
  { connect = false }: { connect?: boolean } = {},
): Promise<WebhookSecret> {
  const stripe = createStripeClient({
    secretKey: config.stripeSecretKey as string,
    apiBase: config.stripeApiBase,
  });
  const endpoint = await stripe.webhookEndpoints.create({
    url,
    enabled_events: ['*'],
    description: ENDPOINT_DESCRIPTION,
    metadata: ENDPOINT_MARK,
    ...(connect ? { connect } : {}),
  });
  if (!endpoint.secret) throw new Error('the webhook endpoint was created without a signing secret');
  return { secret: endpoint.secret, livemode: endpoint.livemode };
}
