import Stripe from 'stripe';

export type StripeClientOptions = {
  secretKey: string;
  /** e.g. `http://127.0.0.1:12111` for the emulator; absent: api.stripe.com. */
  apiBase?: string | undefined;
  timeoutMs?: number;
  maxNetworkRetries?: number;
  /** Called once per HTTP request the SDK completes (retries included), for counting calls. */
  onResponse?: (response: { method: string; path: string; status: number; elapsedMs: number }) => void;
};

/**
 * The one way Subledger builds a Stripe client. The SDK makes up to 3 attempts on 429s, 5xx and
 * connection errors, with exponential backoff and jitter (honouring `Stripe-Should-Retry`), never retries
 * another 4xx, adds idempotency keys to retried writes, and times out (10 s); the API version is the
 * SDK's own, so payloads match its types.
 */
export function createStripeClient(options: StripeClientOptions): Stripe {
  const base = options.apiBase ? new URL(options.apiBase) : undefined;
  const stripe = new Stripe(options.secretKey, {
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    timeout: options.timeoutMs ?? 10_000,
    appInfo: { name: 'subledger' },
    telemetry: false,
    ...(base
      ? {
          host: base.hostname,
          port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
          protocol: base.protocol === 'https:' ? 'https' : 'http',
        }
      : {}),
  });
  if (options.onResponse) {
    const report = options.onResponse;
    stripe.on('response', (event: Stripe.ResponseEvent) =>
      report({ method: event.method, path: event.path, status: event.status, elapsedMs: event.elapsed }),
    );
  }
  return stripe;
}

/** The API version every payload Subledger reads from Stripe is rendered in. */
export const API_VERSION: string = Stripe.API_VERSION;

/** Whether a Stripe error means the object does not exist (any more). */
export function isMissing(error: unknown): boolean {
  return (
    (error as { code?: string; statusCode?: number })?.code === 'resource_missing' ||
    (error as { statusCode?: number })?.statusCode === 404
  );
}
