import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { faultsOf, type RunningEmulator, startEmulator } from 'stripe-emulator';
import { EMULATOR_KEY } from '../src/cli/local-stripe.ts';
import {
  createStripeClient,
  rateLimitDelayMs,
  type SentRequest,
  type StripeClientOptions,
  withRequestSlots,
} from '../src/stripe/client.ts';

let emulator: RunningEmulator;
before(async () => {
  emulator = await startEmulator({ port: 0, seed: 5 });
});
after(() => emulator.close());

/** The next `count` GETs of `path` fail with `fault` (a name the emulator knows: `rate_limit`, `503`…). */
const failNext = (fault: string, count: number, path: string) =>
  faultsOf(emulator.emulator).configure({ next: { api: { fault, count, method: 'GET', path } } });

/** The project's client on the emulator, with the status of every request it sent. */
function recordingClient(options: Partial<StripeClientOptions> = {}) {
  const sent: SentRequest[] = [];
  const stripe = createStripeClient({
    secretKey: EMULATOR_KEY,
    apiBase: emulator.url,
    onResponse: (request) => sent.push(request),
    ...options,
  });
  return { stripe, statuses: () => sent.map((request) => request.status), sent };
}

describe('the Stripe client', () => {
  it('retries a rate-limit 429, which the SDK alone throws at once', async () => {
    failNext('rate_limit', 1, '/v1/prices');
    const { stripe, statuses, sent } = recordingClient();
    await stripe.prices.list({ limit: 1 });
    assert.deepEqual(statuses(), [429, 200]);
    assert.match(sent[0]?.path ?? '', /^\/v1\/prices\?limit=1$/);
  });

  it('gives up on rate limits after maxNetworkRetries, with the 429', async () => {
    failNext('rate_limit', 2, '/v1/prices');
    const { stripe, statuses } = recordingClient({ maxNetworkRetries: 1 });
    await assert.rejects(stripe.prices.list({ limit: 1 }), { type: 'StripeRateLimitError', statusCode: 429 });
    assert.deepEqual(statuses(), [429, 429]);
  });

  it('reports every request it sends: the SDK retries a 503 and a lock timeout', async () => {
    failNext('503', 1, '/v1/products');
    failNext('lock_timeout', 1, '/v1/customers');
    const { stripe, statuses } = recordingClient();
    await stripe.products.list({ limit: 1 });
    await stripe.customers.list({ limit: 1 });
    assert.deepEqual(statuses(), [503, 200, 429, 200]);
  });

  it('makes each request of a limited call after the first wait for a slot, retries of either kind', async () => {
    failNext('503', 1, '/v1/customers');
    failNext('rate_limit', 1, '/v1/customers');
    const { stripe, statuses } = recordingClient();
    const sentAtSlot: number[] = [];
    const nextSlot = async () => {
      sentAtSlot.push(statuses().length);
    };
    await withRequestSlots(nextSlot, () => stripe.customers.list({ limit: 1 }));
    assert.deepEqual(statuses(), [503, 429, 200]);
    assert.deepEqual(sentAtSlot, [1, 2], 'a slot before the second and the third request');
    await stripe.customers.list({ limit: 1 });
    assert.deepEqual(sentAtSlot, [1, 2], 'outside a limited call, no slot is asked for');
  });

  it('waits at least what Retry-After asks, and never retries Stripe-Should-Retry: false', async () => {
    const answers = [
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 200, headers: {} },
      { status: 429, headers: { 'stripe-should-retry': 'false' } },
    ];
    const received: number[] = [];
    const server = await fakeStripe((_request, response) => {
      received.push(Date.now());
      const answer = answers.shift() ?? { status: 500, headers: {} };
      const body =
        answer.status === 200
          ? { object: 'list', data: [], has_more: false, url: '/v1/prices' }
          : { error: { type: 'rate_limit_error', code: 'rate_limit', message: 'Too many requests' } };
      response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      response.end(JSON.stringify(body));
    });
    try {
      const { port } = server.address() as AddressInfo;
      const { stripe, statuses } = recordingClient({ apiBase: `http://127.0.0.1:${port}` });
      await stripe.prices.list();
      assert.ok((received[1] ?? 0) - (received[0] ?? 0) >= 1000, 'the retry came after Retry-After');
      await assert.rejects(stripe.prices.list(), { statusCode: 429 });
      assert.deepEqual(statuses(), [429, 200, 429]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('backs off from rate limits as the SDK does, and longer when Retry-After says so', () => {
    const now = new Date();
    const table: [retries: number, retryAfter: string | undefined, least: number, most: number][] = [
      [0, undefined, 500, 500],
      [1, undefined, 500, 1000],
      [2, undefined, 1000, 2000],
      [0, '3', 3000, 3000],
      [0, 'soon', 500, 500],
      [0, '600', 60_000, 60_000],
      [0, new Date(now.getTime() + 10_000).toUTCString(), 8000, 10_000],
    ];
    for (const [retries, retryAfter, least, most] of table) {
      const delay = rateLimitDelayMs(retries, retryAfter);
      assert.ok(
        delay >= least && delay <= most,
        `${retries} retries, Retry-After ${retryAfter}: ${delay} ms`,
      );
    }
  });
});

async function fakeStripe(answer: Parameters<typeof createServer>[1]): Promise<Server> {
  const server = createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
