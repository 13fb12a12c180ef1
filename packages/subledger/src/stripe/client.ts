import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Stripe from 'stripe';

export type StripeClientOptions = {
  secretKey: string;
  /** e.g. `http://127.0.0.1:12111` for the emulator; absent: api.stripe.com. */
  apiBase?: string | undefined;
  timeoutMs?: number;
  /** Retries of a failed request, for each kind of failure (see `createStripeClient`); default 2. */
  maxNetworkRetries?: number;
  /** Called once per HTTP request sent (every retry included), as its answer arrives or it fails. */
  onResponse?: (response: SentRequest) => void;
};

/** One HTTP request sent to Stripe. */
export type SentRequest = {
  method: string;
  /** With the query string, e.g. `/v1/customers?limit=100`. */
  path: string;
  /** The answer's status; 0 when none came (a connection error or a timeout). */
  status: number;
  /** Until the answer's headers arrived, or the request failed. */
  elapsedMs: number;
};

/**
 * The one way Subledger builds a Stripe client. Failed requests are retried up to `maxNetworkRetries`
 * (2) times, with exponential backoff and jitter:
 * - the SDK retries 5xx, 409s, connection errors and the 429s Stripe marks `Stripe-Should-Retry: true`
 *   (lock timeouts), and adds idempotency keys to retried writes;
 * - a rate-limit 429 (no `Stripe-Should-Retry`), which the SDK would throw at once, is retried by the
 *   client's HTTP layer, after at least the `Retry-After` Stripe sends. These retries happen within one
 *   of the SDK's attempts: a call that meets both kinds of failure sends at most (1 + 2)² requests.
 * Nothing marked `Stripe-Should-Retry: false` and no other 4xx is retried. Requests time out (10 s); the
 * API version is the SDK's own, so payloads match its types. Within `withRequestSlots`, every request
 * after a call's first (a retry, an auto-paginated list's next page) waits for a slot of its own.
 */
export function createStripeClient(options: StripeClientOptions): Stripe {
  const base = options.apiBase ? new URL(options.apiBase) : undefined;
  const maxNetworkRetries = options.maxNetworkRetries ?? 2;
  return new Stripe(options.secretKey, {
    maxNetworkRetries,
    timeout: options.timeoutMs ?? 10_000,
    httpClient: subledgerHttpClient(maxNetworkRetries, options.onResponse),
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
}

/**
 * What the HTTP requests of one rate-limited call wait for: nothing for the call's first request (the
 * call was admitted with a slot), then a slot each.
 */
const requestSlots = new AsyncLocalStorage<() => Promise<void>>();

/**
 * Runs `call` so that each HTTP request it sends through a client of `createStripeClient`, after the
 * first, waits for `nextSlot()`: a limiter that admits a call with one slot then holds its rate per
 * request sent, however many the call's retries and pages make. Other clients send as the call asks.
 */
export function withRequestSlots<T>(nextSlot: () => Promise<void>, call: () => Promise<T>): Promise<T> {
  let admitted = true;
  const slot = () => {
    if (!admitted) return nextSlot();
    admitted = false;
    return Promise.resolve();
  };
  return requestSlots.run(slot, call);
}

type HttpRequest = Parameters<Stripe.HttpClient['makeRequest']>;

/**
 * The SDK's Node HTTP client, plus what the SDK leaves out: it waits for the request's slot (see
 * `withRequestSlots`), retries rate-limit 429s, and reports every request it sends.
 */
function subledgerHttpClient(maxRetries: number, report?: (request: SentRequest) => void) {
  const http = Stripe.createNodeHttpClient();
  const send = async (request: HttpRequest) => {
    await requestSlots.getStore()?.();
    const [, , path, method] = request;
    const started = Date.now();
    const sent = (status: number) => report?.({ method, path, status, elapsedMs: Date.now() - started });
    try {
      const response = await http.makeRequest(...request);
      sent(response.getStatusCode());
      return response;
    } catch (error) {
      sent(0);
      throw error;
    }
  };
  return {
    getClientName: () => http.getClientName(),
    async makeRequest(...request: HttpRequest) {
      for (let retries = 0; ; retries++) {
        const response = await send(request);
        if (retries >= maxRetries || !isRateLimit(response)) return response;
        // Read to the end, which frees the connection for the retry.
        await response.toJSON().catch(() => undefined);
        await sleep(rateLimitDelayMs(retries, response.getHeaders()['retry-after']));
      }
    },
  } satisfies Stripe.HttpClient;
}

/** A 429 Stripe says nothing about retrying: its rate limit (a lock timeout says `true`). */
function isRateLimit(response: Stripe.HttpClientResponse): boolean {
  return response.getStatusCode() === 429 && response.getHeaders()['stripe-should-retry'] === undefined;
}

// The SDK's own backoff: 0.5 s, doubling, with jitter down to half of it. No wait is longer than a
// minute, whatever `Retry-After` says: the call fails rather than hold a job that long.
const INITIAL_DELAY_MS = 500;
const MAX_DELAY_MS = 60_000;

/** How long to wait before retry `retries + 1`: backoff with jitter, at least what `Retry-After` asks. */
export function rateLimitDelayMs(retries: number, retryAfter: string | string[] | undefined): number {
  const backoff = INITIAL_DELAY_MS * 2 ** retries * (0.5 + Math.random() / 2);
  return Math.min(MAX_DELAY_MS, Math.max(INITIAL_DELAY_MS, backoff, retryAfterMs(retryAfter)));
}

/** `Retry-After` in seconds or as an HTTP date; 0 when absent or unreadable. */
function retryAfterMs(header: string | string[] | undefined): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return 0;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, ms) : 0;
}

/** The API version every payload Subledger reads from Stripe is rendered in. */
export const API_VERSION: string = Stripe.API_VERSION;

/**
 * A refusal Stripe will give again, whatever the wait: a key lacking a permission, a request it cannot
 * serve (4xx), but not a rate limit (429) or a conflict (409), which pass, nor a missing object (404),
 * which is an answer.
 */
export function isLastingRefusal(error: unknown): boolean {
  const status = (error as { statusCode?: number })?.statusCode;
  return status !== undefined && status >= 400 && status < 500 && ![404, 409, 429].includes(status);
}

/** Whether a Stripe error means the object does not exist (any more). */
export function isMissing(error: unknown): boolean {
  return (
    (error as { code?: string; statusCode?: number })?.code === 'resource_missing' ||
    (error as { statusCode?: number })?.statusCode === 404
  );
}

/**
 * Whether Stripe is down rather than refusing: no connection or a timeout, a 5xx, or still rate limited
 * after the client's retries. The same request may succeed later.
 */
export function isStripeUnavailable(error: unknown): boolean {
  if (!(error instanceof Stripe.errors.StripeError)) return false;
  const status = error.statusCode ?? 0;
  return (
    error instanceof Stripe.errors.StripeConnectionError ||
    error instanceof Stripe.errors.StripeRateLimitError ||
    status >= 500 ||
    status === 0
  );
}
