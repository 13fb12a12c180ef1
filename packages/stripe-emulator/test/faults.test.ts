import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import Stripe from 'stripe';
import type { FaultOptions } from '../src/faults/index.ts';
import type { ListenOptions } from '../src/index.ts';
import { type Harness, sdkFor, startHarness } from './support.ts';

async function control(h: Harness, method: string, path: string, body?: unknown) {
  const response = await fetch(`${h.emulator.url}/_emulator/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const setFaults = (h: Harness, faults: FaultOptions) => control(h, 'POST', 'faults', faults);

describe('API faults', () => {
  const open: Harness[] = [];
  afterEach(async () => {
    for (const h of open.splice(0)) await h.close();
  });
  async function harness(options: ListenOptions = {}): Promise<Harness> {
    const h = await startHarness(options);
    open.push(h);
    return h;
  }

  it('retries a lock_timeout 429 with maxNetworkRetries: 2 and succeeds once the queued faults run out', async () => {
    const h = await harness();
    await setFaults(h, {
      next: { api: { fault: 'lock_timeout', count: 2, method: 'POST', path: '/v1/customers' } },
    });
    const stripe = sdkFor(h.emulator, 'sk_test_emulator', { maxNetworkRetries: 2 });
    const attempts: (string | undefined)[] = [];
    stripe.on('request', (event: Stripe.RequestEvent) => attempts.push(event.idempotency_key));
    const customer = await stripe.customers.create({ email: 'retry@example.com' });
    assert.match(customer.id, /^cus_/);
    assert.equal(attempts.length, 3, 'two 429s, then the request that succeeded');
    assert.equal(new Set(attempts).size, 1, 'every attempt carries the same idempotency key');
    assert.equal((await stripe.customers.list({ email: 'retry@example.com' })).data.length, 1);
    assert.deepEqual((await control(h, 'GET', 'faults')).body.next, { api: [], webhooks: [] });
  });

  it('answers a rate limit the way Stripe does, which the SDK does not retry', async () => {
    const h = await harness();
    await setFaults(h, { next: { api: { fault: 429, count: 1 } } });
    const stripe = sdkFor(h.emulator, 'sk_test_emulator', { maxNetworkRetries: 2 });
    await assert.rejects(stripe.customers.create({ email: 'limited@example.com' }), (error: unknown) => {
      assert.ok(error instanceof Stripe.errors.StripeRateLimitError);
      assert.equal(error.statusCode, 429);
      assert.equal(error.code, 'rate_limit');
      assert.equal(error.type, 'StripeRateLimitError');
      assert.equal(error.raw && (error.raw as { type?: string }).type, 'rate_limit_error');
      assert.equal(error.headers?.['stripe-rate-limited-reason'], 'global-rate');
      assert.equal(error.headers?.['stripe-should-retry'], undefined);
      assert.match(error.requestId ?? '', /^req_/);
      return true;
    });
    const customer = await stripe.customers.create({ email: 'limited@example.com' });
    assert.match(customer.id, /^cus_/);
  });

  it('fails one call through the Emulator-Fault header: 500, 503, 429, latency', async () => {
    const h = await harness();
    const fault = (value: string) => ({ headers: { 'Emulator-Fault': value } });
    await assert.rejects(h.stripe.customers.list({}, fault('500')), (error: Stripe.errors.StripeError) => {
      assert.ok(error instanceof Stripe.errors.StripeAPIError);
      return error.statusCode === 500 && error.message.includes('emulated');
    });
    await assert.rejects(
      h.stripe.customers.list({}, fault('503')),
      (error: Stripe.errors.StripeError) =>
        error instanceof Stripe.errors.StripeAPIError && error.statusCode === 503,
    );
    await assert.rejects(
      h.stripe.customers.create({}, fault('429')),
      (error: unknown) => error instanceof Stripe.errors.StripeRateLimitError,
    );
    const started = performance.now();
    await h.stripe.customers.list({}, fault('latency=150'));
    assert.ok(performance.now() - started >= 145, 'latency holds the response');
    await assert.rejects(
      h.stripe.customers.list({}, fault('teapot')),
      (error: Stripe.errors.StripeError) => error.statusCode === 400 && /teapot/.test(error.message),
    );
    assert.equal((await h.stripe.customers.list()).data.length, 0, 'faulted creates did not run');
  });

  it('holds a response past the SDK timeout; the request still runs, and a retry is replayed', async () => {
    const h = await harness({ faults: { api: { timeoutMs: 5_000 } } });
    const impatient = sdkFor(h.emulator, 'sk_test_emulator', { timeout: 150 });
    await assert.rejects(
      impatient.customers.create({ email: 'late@example.com' }, { headers: { 'Emulator-Fault': 'timeout' } }),
      (error: unknown) =>
        error instanceof Stripe.errors.StripeConnectionError && /timeout/.test((error as Error).message),
    );
    await waitFor(
      async () => (await h.stripe.customers.list({ email: 'late@example.com' })).data.length === 1,
    );

    await setFaults(h, { next: { api: { fault: 'timeout', path: '/v1/customers' } } });
    const retrying = sdkFor(h.emulator, 'sk_test_emulator', { timeout: 150, maxNetworkRetries: 1 });
    const customer = await retrying.customers.create({ email: 'once@example.com' });
    const created = await h.stripe.customers.list({ email: 'once@example.com' });
    assert.deepEqual(
      created.data.map((c) => c.id),
      [customer.id],
    );
  });

  it('applies per-run rates and latency, and never faults control paths', async () => {
    const h = await harness();
    await setFaults(h, { api: { serverError: 1, latencyMs: 60 } });
    const started = performance.now();
    await assert.rejects(
      h.stripe.customers.list(),
      (error: Stripe.errors.StripeError) => error.statusCode === 500,
    );
    assert.ok(performance.now() - started >= 55);
    assert.equal((await control(h, 'GET', 'health')).status, 200);
    assert.deepEqual((await control(h, 'GET', 'faults')).body.api, { serverError: 1, latencyMs: 60 });
    await control(h, 'DELETE', 'faults');
    assert.deepEqual((await h.stripe.customers.list()).data, []);
  });

  it('counts the faults that acted; a call marked Emulator-Fault: none meets none of them', async () => {
    const h = await harness();
    await setFaults(h, { api: { serverError: 1, latencyMs: 200 } });
    const started = performance.now();
    const exempt = await fetch(`${h.emulator.url}/v1/customers`, {
      headers: { authorization: 'Bearer sk_test_emulator', 'emulator-fault': 'none' },
    });
    assert.equal(exempt.status, 200);
    assert.ok(performance.now() - started < 200, 'an exempt call waits for no latency');
    await assert.rejects(
      h.stripe.customers.list(),
      (error: Stripe.errors.StripeError) => error.statusCode === 500,
    );
    await control(h, 'POST', 'faults', { api: {}, next: { api: [{ fault: '429', count: 2 }] } });
    for (let call = 0; call < 2; call++) await assert.rejects(h.stripe.customers.list());
    await control(h, 'DELETE', 'faults');
    // Turning faults off keeps the count; a reset of the emulator clears it.
    const applied = { server_error: 1, latency: 1, rate_limit: 2 };
    assert.deepEqual((await control(h, 'GET', 'faults')).body.applied, { api: applied });
    await control(h, 'POST', 'reset');
    assert.deepEqual((await control(h, 'GET', 'faults')).body.applied, { api: {} });
  });

  it('replays the same failures for the same seed', async () => {
    const outcomes = async (seed: number) => {
      const h = await harness({ seed, faults: { api: { serverError: 0.3, unavailable: 0.2 } } });
      const seen: string[] = [];
      for (let i = 0; i < 24; i++)
        seen.push(
          await h.stripe.customers.list().then(
            () => 'ok',
            (error: Stripe.errors.StripeError) => String(error.statusCode),
          ),
        );
      return seen;
    };
    const first = await outcomes(42);
    assert.deepEqual(await outcomes(42), first);
    assert.notDeepEqual(await outcomes(43), first);
    assert.ok(first.includes('500') && first.includes('503') && first.includes('ok'), first.join(','));
  });

  it('fails only the requests a queued fault names', async () => {
    const h = await harness({
      faults: { next: { api: { fault: 503, method: 'GET', path: '/v1/customers/:id' } } },
    });
    const customer = await h.stripe.customers.create({ email: 'queued@example.com' });
    await h.stripe.customers.list();
    await assert.rejects(h.stripe.customers.retrieve(customer.id), (error: Stripe.errors.StripeError) => {
      return error.statusCode === 503;
    });
    assert.equal((await h.stripe.customers.retrieve(customer.id)).id, customer.id);
  });

  it('rejects a bad fault configuration with a readable error', async () => {
    const h = await harness();
    const answer = await setFaults(h, { api: { serverError: 3 } });
    assert.equal(answer.status, 400);
    assert.match(String((answer.body.error as { message: string }).message), /api\.serverError/);
    const notJson = await fetch(`${h.emulator.url}/_emulator/faults`, { method: 'POST', body: 'nope' });
    assert.equal(notJson.status, 400);
    await assert.rejects(startHarness({ faults: { api: { rateLimit: -1 } } }), /api\.rateLimit/);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
