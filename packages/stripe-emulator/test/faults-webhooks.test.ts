import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { WebhookFaultRates } from '../src/faults/index.ts';
import type { ListenOptions } from '../src/index.ts';
import { type DeliveryAttempt, drainWebhooks } from '../src/webhooks/index.ts';
import { type Harness, startHarness } from './support.ts';
import { type Receiver, startReceiver } from './webhooks-receiver.ts';

type Run = {
  h: Harness;
  receiver: Receiver;
  /** Event ids in the order they were emitted. */
  emitted: string[];
  /** Emission index of each delivery, in arrival order (a duplicate shows up twice). */
  arrivals: number[];
};

describe('webhook faults', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  /** An emulator with one endpoint for every event; `customers` customers created one after another. */
  async function run(
    options: ListenOptions,
    customers = 12,
    before?: (h: Harness) => Promise<void>,
  ): Promise<Run> {
    const h = await startHarness(options);
    const receiver = await startReceiver();
    cleanups.push(
      () => h.close(),
      () => receiver.close(),
    );
    await h.stripe.webhookEndpoints.create({ url: receiver.url, enabled_events: ['*'] });
    await before?.(h);
    for (let i = 0; i < customers; i++) await h.stripe.customers.create({ email: `c${i}@example.com` });
    assert.equal(await drainWebhooks(h.emulator.emulator, 5_000), true);
    const emitted = (await h.stripe.events.list({ limit: 100 })).data.map((event) => event.id).reverse();
    const arrivals = receiver.received.map((request) => emitted.indexOf(request.json.id));
    return { h, receiver, emitted, arrivals };
  }

  const withFaults = (webhooks: WebhookFaultRates, seed = 42): ListenOptions => ({
    seed,
    faults: { webhooks },
  });

  async function log(h: Harness, query = ''): Promise<DeliveryAttempt[]> {
    const response = await fetch(`${h.emulator.url}/_emulator/deliveries${query}`);
    return ((await response.json()) as { data: DeliveryAttempt[] }).data;
  }

  it('drops deliveries reproducibly; dropped events stay in /v1/events', async () => {
    const first = await run(withFaults({ drop: 0.4 }));
    const again = await run(withFaults({ drop: 0.4 }));
    const other = await run(withFaults({ drop: 0.4 }, 7));
    assert.deepEqual(again.emitted, first.emitted, 'same seed, same ids');
    assert.deepEqual(again.arrivals, first.arrivals);
    assert.notDeepEqual(other.arrivals, first.arrivals);

    const missing = first.emitted.filter((_, index) => !first.arrivals.includes(index));
    assert.ok(missing.length > 0 && missing.length < 12, `dropped ${missing.length} of 12`);
    const dropped = await log(first.h, '?status=dropped');
    assert.deepEqual(dropped.map((line) => line.event).sort(), [...missing].sort());
    const undelivered = await first.h.stripe.events.list({ delivery_success: false, limit: 100 });
    assert.deepEqual(undelivered.data.map((event) => event.id).sort(), [...missing].sort());
  });

  it('duplicates deliveries reproducibly, each copy validly signed', async () => {
    const first = await run(withFaults({ duplicate: 0.5, duplicateCopies: 2 }));
    const again = await run(withFaults({ duplicate: 0.5, duplicateCopies: 2 }));
    assert.deepEqual(again.arrivals, first.arrivals);
    const counts = new Map<number, number>();
    for (const index of first.arrivals) counts.set(index, (counts.get(index) ?? 0) + 1);
    assert.equal(counts.size, 12, 'every event arrives');
    assert.ok([...counts.values()].every((n) => n === 1 || n === 3));
    assert.ok([...counts.values()].some((n) => n === 3));
    const [event] = (await first.h.stripe.events.list({ limit: 1 })).data;
    assert.equal(event?.pending_webhooks, 0, 'a duplicated event counts as delivered once');
  });

  it('reorders within a window of N deliveries, the same way for the same seed', async () => {
    const first = await run(withFaults({ reorderWindow: 4 }));
    const again = await run(withFaults({ reorderWindow: 4 }));
    const other = await run(withFaults({ reorderWindow: 4 }, 9));
    assert.deepEqual(again.arrivals, first.arrivals);
    assert.notDeepEqual(other.arrivals, first.arrivals);
    assert.notDeepEqual(
      first.arrivals,
      [...first.arrivals].sort((a, b) => a - b),
      'order changed',
    );
    for (let block = 0; block < 3; block++)
      assert.deepEqual(
        first.arrivals.slice(block * 4, block * 4 + 4).sort((a, b) => a - b),
        [0, 1, 2, 3].map((n) => n + block * 4),
        'events only move within their window',
      );
  });

  it('releases a time-based reorder window after its time', async () => {
    const { arrivals, h } = await run(withFaults({ reorderWindow: 50, reorderWindowMs: 40 }), 3);
    assert.deepEqual([...arrivals].sort(), [0, 1, 2]);
    assert.ok((await log(h)).every((line) => line.faults.includes('reorder')));
  });

  it('delays deliveries so that later events overtake them', async () => {
    const delayFirst = async (h: Harness) => {
      await fetch(`${h.emulator.url}/_emulator/faults`, {
        method: 'POST',
        body: JSON.stringify({
          next: { webhooks: { fault: 'delay', delayMs: 80, eventType: 'customer.created' } },
        }),
      });
    };
    const { arrivals, h } = await run({}, 3, delayFirst);
    assert.deepEqual(arrivals, [1, 2, 0]);
    assert.deepEqual(
      (await log(h)).map((line) => line.faults),
      [[], [], ['delay']],
    );
  });

  it('gives every delivery the same fate for the same seed when all faults are on', async () => {
    const chaos: WebhookFaultRates = {
      drop: 0.15,
      duplicate: 0.3,
      delayMs: 15,
      delayProbability: 0.3,
      reorderWindow: 3,
    };
    // Delays are wall-clock time, so which window a delayed delivery lands in (if any: a drain lets
    // late ones straight through) and the arrival order can vary; what was dropped, duplicated or
    // delayed may not.
    const fates = async (seed: number) => {
      const { h, arrivals } = await run(withFaults(chaos, seed), 15);
      const fate = (faults: string[]) => faults.filter((fault) => fault !== 'reorder').join('+');
      const lines = await log(h);
      const byEvent = lines.map((line) => `${line.event}:${line.copy}:${line.status}:${fate(line.faults)}`);
      return { byEvent: byEvent.sort(), arrivals: [...arrivals].sort((a, b) => a - b), lines };
    };
    const first = await fates(42);
    const again = await fates(42);
    assert.deepEqual(again.byEvent, first.byEvent);
    assert.deepEqual(again.arrivals, first.arrivals);
    const all = first.lines.map((line) => line.faults.join('+')).join(' ');
    for (const fault of ['drop', 'duplicate', 'delay', 'reorder']) assert.match(all, new RegExp(fault));
  });

  it('is configured at run time, shown by GET, and reset by DELETE (releasing held deliveries)', async () => {
    const h = await startHarness();
    const receiver = await startReceiver();
    cleanups.push(
      () => h.close(),
      () => receiver.close(),
    );
    await h.stripe.webhookEndpoints.create({ url: receiver.url, enabled_events: ['*'] });
    const url = `${h.emulator.url}/_emulator/faults`;
    await fetch(url, { method: 'POST', body: JSON.stringify({ webhooks: { reorderWindow: 10 } }) });
    const shown = (await (await fetch(url)).json()) as { webhooks: unknown };
    assert.deepEqual(shown.webhooks, { reorderWindow: 10 });
    await h.stripe.customers.create({ email: 'held@example.com' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(receiver.received.length, 0, 'held in the window');
    const reset = (await (await fetch(url, { method: 'DELETE' })).json()) as { webhooks: unknown };
    assert.deepEqual(reset.webhooks, {});
    await drainWebhooks(h.emulator.emulator);
    assert.equal(receiver.received.length, 1);
  });
});
