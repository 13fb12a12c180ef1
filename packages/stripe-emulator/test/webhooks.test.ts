import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, describe, it } from 'node:test';
import Stripe from 'stripe';
import type { ListenOptions } from '../src/index.ts';
import type { DeliveryAttempt } from '../src/webhooks/index.ts';
import { drainWebhooks, stopWebhooks } from '../src/webhooks/index.ts';
import { type Harness, startHarness } from './support.ts';
import { type Receiver, startReceiver } from './webhooks-receiver.ts';

const fixtures = JSON.parse(
  readFileSync(
    new URL('../../../../shared/stripe-reference/openapi/fixtures3.json', import.meta.url),
    'utf8',
  ),
) as { resources: Record<string, Record<string, unknown>> };

const fast: ListenOptions = {
  webhooks: { timeoutMs: 300, retry: { attempts: 3, initialDelayMs: 20, maxDelayMs: 80 } },
};

const verifier = new Stripe('sk_test_verifier');

describe('webhook endpoints and signed delivery', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function harness(options: ListenOptions = fast): Promise<Harness> {
    const h = await startHarness(options);
    cleanups.push(() => h.close());
    return h;
  }

  async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
    const r = await startReceiver(...args);
    cleanups.push(() => r.close());
    return r;
  }

  async function deliveries(h: Harness, query = ''): Promise<DeliveryAttempt[]> {
    const response = await fetch(`${h.emulator.url}/_emulator/deliveries${query}`);
    return ((await response.json()) as { data: DeliveryAttempt[] }).data;
  }

  it('creates, retrieves, updates, lists and deletes endpoints; the secret is shown once', async () => {
    const h = await harness();
    const created = await h.stripe.webhookEndpoints.create({
      url: 'https://example.com/hooks',
      enabled_events: ['customer.created', 'invoice.paid'],
      description: 'billing',
      metadata: { team: 'payments' },
    });
    assert.match(created.id, /^we_/);
    assert.match(created.secret ?? '', /^whsec_[A-Za-z0-9]{32}$/);
    const { secret: _secret, ...shown } = created;
    assert.deepEqual(
      Object.keys(shown).sort(),
      Object.keys(fixtures.resources.webhook_endpoint ?? {}).sort(),
    );
    assert.equal(created.status, 'enabled');
    assert.equal(created.api_version, null);

    const fetched = await h.stripe.webhookEndpoints.retrieve(created.id);
    assert.equal(fetched.secret, undefined);
    assert.deepEqual(fetched.enabled_events, ['customer.created', 'invoice.paid']);

    const updated = await h.stripe.webhookEndpoints.update(created.id, {
      url: 'https://example.com/v2',
      enabled_events: ['*'],
      disabled: true,
      description: '',
      metadata: { team: '', owner: 'ada' },
    });
    assert.equal(updated.url, 'https://example.com/v2');
    assert.deepEqual(updated.enabled_events, ['*']);
    assert.equal(updated.status, 'disabled');
    assert.equal(updated.description, null);
    assert.deepEqual(updated.metadata, { owner: 'ada' });
    assert.equal((await h.stripe.webhookEndpoints.update(created.id, { disabled: false })).status, 'enabled');

    const second = await h.stripe.webhookEndpoints.create({
      url: 'https://example.com/b',
      enabled_events: ['*'],
    });
    const listed = await h.stripe.webhookEndpoints.list({ limit: 1 });
    assert.deepEqual(
      listed.data.map((e) => e.id),
      [second.id],
    );
    assert.equal(listed.has_more, true);

    const deleted = await h.stripe.webhookEndpoints.del(created.id);
    assert.deepEqual(deleted, { id: created.id, object: 'webhook_endpoint', deleted: true });
    await assert.rejects(
      h.stripe.webhookEndpoints.retrieve(created.id),
      (error: Stripe.errors.StripeError) => error.code === 'resource_missing' && error.statusCode === 404,
    );
  });

  it('rejects a bad url, an unknown event type and a missing enabled_events', async () => {
    const h = await harness();
    await assert.rejects(
      h.stripe.webhookEndpoints.create({ url: 'not a url', enabled_events: ['*'] }),
      (error: Stripe.errors.StripeError) => error.param === 'url',
    );
    await assert.rejects(
      h.stripe.webhookEndpoints.create({
        url: 'https://example.com',
        enabled_events: ['customer.created', 'nonsense' as 'customer.created'],
      }),
      (error: Stripe.errors.StripeError) => error.param === 'enabled_events[1]',
    );
    await assert.rejects(
      h.stripe.webhookEndpoints.create({ url: 'https://example.com' } as Stripe.WebhookEndpointCreateParams),
      (error: Stripe.errors.StripeError) =>
        error.code === 'parameter_missing' && error.param === 'enabled_events',
    );
  });

  it('delivers every event, in order, signed so that constructEvent accepts it', async () => {
    const h = await harness();
    const r = await receiver();
    const endpoint = await h.stripe.webhookEndpoints.create({ url: r.url, enabled_events: ['*'] });
    const customer = await h.stripe.customers.create({ email: 'first@example.com' });
    await h.stripe.customers.update(customer.id, { name: 'Ada' });
    await h.stripe.customers.del(customer.id);
    assert.equal(await drainWebhooks(h.emulator.emulator), true);

    const events = await h.stripe.events.list();
    assert.deepEqual(
      r.received.map((request) => request.json.id),
      events.data.map((event) => event.id).reverse(),
    );
    assert.deepEqual(
      r.received.map((request) => request.json.type),
      ['customer.created', 'customer.updated', 'customer.deleted'],
    );
    for (const request of r.received) {
      assert.equal(request.method, 'POST');
      assert.equal(request.path, '/webhooks');
      assert.equal(request.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(request.headers['user-agent'], 'Stripe/1.0 (+https://stripe.com/docs/webhooks)');
      const header = String(request.headers['stripe-signature']);
      assert.match(header, /^t=\d+,v1=[0-9a-f]{64}$/);
      const event = verifier.webhooks.constructEvent(request.body, header, endpoint.secret ?? '');
      assert.equal(event.id, request.json.id);
      assert.equal((event.data.object as { id: string }).id, customer.id);
    }
    const log = await deliveries(h);
    assert.deepEqual(
      log.map((line) => [line.type, line.attempt, line.status, line.statusCode]),
      [
        ['customer.created', 1, 'succeeded', 200],
        ['customer.updated', 1, 'succeeded', 200],
        ['customer.deleted', 1, 'succeeded', 200],
      ],
    );
  });

  it('refuses a tampered body, a forged signature and the wrong secret', async () => {
    const h = await harness();
    const r = await receiver();
    const endpoint = await h.stripe.webhookEndpoints.create({ url: r.url, enabled_events: ['*'] });
    await h.stripe.customers.create({ email: 'sign@example.com' });
    await drainWebhooks(h.emulator.emulator);
    const [request] = r.received;
    assert.ok(request);
    const header = String(request.headers['stripe-signature']);
    const secret = endpoint.secret ?? '';
    const isSignatureError = (error: unknown) =>
      error instanceof Stripe.errors.StripeSignatureVerificationError;
    assert.throws(
      () => verifier.webhooks.constructEvent(request.body.replace('sign@', 'evil@'), header, secret),
      isSignatureError,
    );
    const forged = header.replace(/v1=([0-9a-f])/, (_, digit) => `v1=${digit === '0' ? '1' : '0'}`);
    assert.throws(() => verifier.webhooks.constructEvent(request.body, forged, secret), isSignatureError);
    assert.throws(
      () => verifier.webhooks.constructEvent(request.body, header, 'whsec_someoneelse'),
      isSignatureError,
    );
  });

  it('retries with backoff after a 500 and counts the event delivered once it succeeds', async () => {
    const h = await harness();
    const r = await receiver((_, index) => (index === 0 ? 500 : 200));
    const endpoint = await h.stripe.webhookEndpoints.create({ url: r.url, enabled_events: ['*'] });
    await h.stripe.customers.create({ email: 'retry@example.com' });
    const [pending] = (await h.stripe.events.list({ delivery_success: false })).data;
    assert.equal(pending?.pending_webhooks, 1);
    await drainWebhooks(h.emulator.emulator);

    assert.equal(r.received.length, 2);
    assert.equal(r.received[0]?.json.id, r.received[1]?.json.id);
    const log = await deliveries(h, `?endpoint=${endpoint.id}`);
    assert.deepEqual(
      log.map((line) => [line.attempt, line.status, line.statusCode, line.nextAttemptInMs]),
      [
        [1, 'retrying', 500, 20],
        [2, 'succeeded', 200, null],
      ],
    );
    const delivered = await h.stripe.events.retrieve(pending?.id ?? '');
    assert.equal(delivered.pending_webhooks, 0);
    assert.equal((await h.stripe.events.list({ delivery_success: false })).data.length, 0);
    assert.deepEqual(
      (await h.stripe.events.list({ delivery_success: true })).data.map((e) => e.id),
      [pending?.id],
    );
  });

  it('marks a delivery failed after the last attempt, for errors, timeouts and refused connections', async () => {
    const h = await harness({ webhooks: { ...fast.webhooks, timeoutMs: 100 } });
    const failing = await receiver(() => 503);
    const hanging = await receiver(
      () => new Promise<number>((resolve) => setTimeout(() => resolve(200), 1_000).unref()),
    );
    const closed = await startReceiver();
    await closed.close();
    for (const url of [failing.url, hanging.url, closed.url])
      await h.stripe.webhookEndpoints.create({ url, enabled_events: ['customer.created'] });
    const customer = await h.stripe.customers.create({ email: 'fail@example.com' });
    await drainWebhooks(h.emulator.emulator);

    const failed = await deliveries(h, '?status=failed');
    assert.equal(failed.length, 3);
    for (const line of failed) assert.equal(line.attempt, 3);
    const byUrl = new Map(failed.map((line) => [line.url, line]));
    assert.equal(byUrl.get(failing.url)?.statusCode, 503);
    assert.match(byUrl.get(hanging.url)?.error ?? '', /timed out after 100 ms/);
    assert.match(byUrl.get(closed.url)?.error ?? '', /ECONNREFUSED/);
    assert.deepEqual(
      (await deliveries(h, '?status=retrying')).map((line) => line.nextAttemptInMs).sort(),
      [20, 20, 20, 40, 40, 40],
    );
    const [event] = (await h.stripe.events.list({ delivery_success: false })).data;
    assert.equal(event?.pending_webhooks, 3);
    assert.equal((event?.data.object as Stripe.Customer | undefined)?.id, customer.id);
  });

  it('sends each endpoint only the event types it enabled, and nothing to a disabled endpoint', async () => {
    const h = await harness();
    const created = await receiver();
    const updated = await receiver();
    const disabled = await receiver();
    await h.stripe.webhookEndpoints.create({ url: created.url, enabled_events: ['customer.created'] });
    await h.stripe.webhookEndpoints.create({
      url: updated.url,
      enabled_events: ['customer.updated', 'invoice.paid'],
    });
    const off = await h.stripe.webhookEndpoints.create({ url: disabled.url, enabled_events: ['*'] });
    await h.stripe.webhookEndpoints.update(off.id, { disabled: true });

    const customer = await h.stripe.customers.create({ email: 'filter@example.com' });
    await h.stripe.customers.update(customer.id, { name: 'Filtered' });
    await drainWebhooks(h.emulator.emulator);

    assert.deepEqual(
      created.received.map((request) => request.json.type),
      ['customer.created'],
    );
    assert.deepEqual(
      updated.received.map((request) => request.json.type),
      ['customer.updated'],
    );
    assert.equal(disabled.received.length, 0);
    const events = await h.stripe.events.list();
    assert.deepEqual(
      events.data.map((event) => [event.type, event.pending_webhooks]),
      [
        ['customer.updated', 0],
        ['customer.created', 0],
      ],
    );
  });

  it('gives Connect endpoints the events of connected accounts and account endpoints their own', async () => {
    const h = await harness();
    const platform = await receiver();
    const connect = await receiver();
    await h.stripe.webhookEndpoints.create({ url: platform.url, enabled_events: ['*'] });
    await h.stripe.webhookEndpoints.create({ url: connect.url, enabled_events: ['*'], connect: true });

    const own = await h.stripe.customers.create({ email: 'platform@example.com' });
    const theirs = await h.stripe.customers.create(
      { email: 'connected@example.com' },
      { stripeAccount: 'acct_1Connected' },
    );
    const live = new Stripe('sk_live_emulator', {
      host: '127.0.0.1',
      port: h.emulator.port,
      protocol: 'http',
      telemetry: false,
    });
    await live.customers.create({ email: 'live@example.com' });
    await drainWebhooks(h.emulator.emulator);

    assert.deepEqual(
      platform.received.map((request) => [
        (request.json.data as { object: { id: string } }).object.id,
        request.json.account,
      ]),
      [[own.id, undefined]],
    );
    assert.deepEqual(
      connect.received.map((request) => [
        (request.json.data as { object: { id: string } }).object.id,
        request.json.account,
      ]),
      [[theirs.id, 'acct_1Connected']],
    );
    const connected = await h.stripe.events.list({}, { stripeAccount: 'acct_1Connected' });
    assert.equal(connected.data[0]?.account, 'acct_1Connected');
    assert.equal(connected.data[0]?.pending_webhooks, 0);
  });

  it('flushes through the control path and filters the delivery log', async () => {
    const h = await harness();
    const r = await receiver();
    const endpoint = await h.stripe.webhookEndpoints.create({ url: r.url, enabled_events: ['*'] });
    const other = await h.stripe.webhookEndpoints.create({
      url: r.url,
      enabled_events: ['customer.updated'],
    });
    const customer = await h.stripe.customers.create({ email: 'flush@example.com' });
    await h.stripe.customers.update(customer.id, { name: 'Flushed' });
    const flushed = await fetch(`${h.emulator.url}/_emulator/webhooks/flush`, { method: 'POST' });
    assert.deepEqual(await flushed.json(), { idle: true, outstanding: 0 });
    assert.equal(r.received.length, 3);

    const [created] = (await h.stripe.events.list({ type: 'customer.created' })).data;
    assert.deepEqual(
      (await deliveries(h, `?event=${created?.id}`)).map((line) => line.endpoint),
      [endpoint.id],
    );
    assert.deepEqual(
      (await deliveries(h, `?endpoint=${other.id}`)).map((line) => line.type),
      ['customer.updated'],
    );
    assert.equal((await deliveries(h, '?type=customer.updated')).length, 2);
    await fetch(`${h.emulator.url}/_emulator/deliveries`, { method: 'DELETE' });
    assert.deepEqual(await deliveries(h), []);
  });

  it('reports a flush that outlasts its time limit, and stops for good on stopWebhooks', async () => {
    const h = await harness({ webhooks: { retry: { attempts: 4, initialDelayMs: 150, maxDelayMs: 150 } } });
    const r = await receiver(() => 500);
    await h.stripe.webhookEndpoints.create({ url: r.url, enabled_events: ['*'] });
    await h.stripe.customers.create({ email: 'slow@example.com' });
    assert.equal(await drainWebhooks(h.emulator.emulator, 30), false);
    const flush = (body: unknown) =>
      fetch(`${h.emulator.url}/_emulator/webhooks/flush`, { method: 'POST', body: JSON.stringify(body) });
    assert.equal((await flush({ timeoutMs: 0 })).status, 400);
    assert.deepEqual(await (await flush({ timeoutMs: 20 })).json(), { idle: false, outstanding: 1 });

    stopWebhooks(h.emulator.emulator);
    assert.equal(await drainWebhooks(h.emulator.emulator, 30), true);
    const attemptsAtStop = r.received.length;
    await h.stripe.customers.create({ email: 'after-stop@example.com' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(r.received.length, attemptsAtStop, 'no retry and no new delivery after stop');
  });

  it('cancels deliveries to an endpoint deleted before they are sent', async () => {
    const h = await harness({ ...fast, faults: { webhooks: { delayMs: 50 } } });
    const r = await receiver();
    const endpoint = await h.stripe.webhookEndpoints.create({ url: r.url, enabled_events: ['*'] });
    await h.stripe.customers.create({ email: 'gone@example.com' });
    await h.stripe.webhookEndpoints.del(endpoint.id);
    await drainWebhooks(h.emulator.emulator);
    assert.equal(r.received.length, 0);
    assert.deepEqual(
      (await deliveries(h)).map((line) => [line.status, line.attempt]),
      [['canceled', 0]],
    );
  });
});
