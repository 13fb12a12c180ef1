import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Random } from '../src/core/random.ts';
import { drawRateFault, pathPattern, planApiFaults, takeQueuedFault } from '../src/faults/api-plan.ts';
import type { QueuedApiFault, QueuedWebhookFault } from '../src/faults/index.ts';
import {
  FaultConfigError,
  FaultState,
  NO_FAULTS,
  parseFaultHeader,
  planDelivery,
  takeWebhookFault,
} from '../src/faults/index.ts';

describe('the Emulator-Fault header', () => {
  it('names one fault or several', () => {
    const table: [string, unknown][] = [
      ['429', [{ kind: 'rate_limit' }]],
      ['rate_limit', [{ kind: 'rate_limit' }]],
      ['lock_timeout', [{ kind: 'lock_timeout' }]],
      ['500', [{ kind: 'server_error' }]],
      ['503', [{ kind: 'unavailable' }]],
      ['timeout', [{ kind: 'timeout', holdMs: 30_000 }]],
      ['timeout=1500', [{ kind: 'timeout', holdMs: 1_500 }]],
      ['latency=250', [{ kind: 'latency', ms: 250 }]],
      ['latency=250, 503', [{ kind: 'latency', ms: 250 }, { kind: 'unavailable' }]],
    ];
    for (const [header, expected] of table) assert.deepEqual(parseFaultHeader(header), expected, header);
    assert.equal(parseFaultHeader(undefined), null);
    assert.equal(parseFaultHeader('  '), null);
    assert.deepEqual(parseFaultHeader(' None '), [], 'none is a header that asks for no fault');
  });

  it('refuses unknown faults and bad durations', () => {
    for (const header of ['418', 'latency', 'latency=soon', 'timeout=-1', '429,teapot'])
      assert.throws(() => parseFaultHeader(header), header);
  });
});

describe('queued API faults', () => {
  const queued = (fault: Partial<QueuedApiFault>): QueuedApiFault => ({
    fault: 'rate_limit',
    count: 1,
    ...fault,
  });

  it('match by method and path pattern', () => {
    assert.equal(pathPattern('/v1/customers').test('/v1/customers'), true);
    assert.equal(pathPattern('/v1/customers').test('/v1/customers/cus_1'), false);
    assert.equal(pathPattern('/v1/customers/:id').test('/v1/customers/cus_1'), true);
    assert.equal(pathPattern('/v1/customers/*').test('/v1/customers/cus_1'), true);
    assert.equal(pathPattern('/v1/customers/*').test('/v1/customers/cus_1/balance'), false);
    assert.equal(pathPattern('/v1/a.b').test('/v1/aXb'), false);
  });

  it('are consumed one use at a time, first match first, and leave the queue when spent', () => {
    const queue = [
      queued({ fault: 'unavailable', method: 'GET', count: 1 }),
      queued({ fault: 'rate_limit', path: '/v1/customers', count: 2 }),
    ];
    const post = { method: 'POST', path: '/v1/customers' };
    assert.deepEqual(takeQueuedFault(queue, post), { kind: 'rate_limit' });
    assert.equal(queue[1]?.count, 1);
    assert.deepEqual(takeQueuedFault(queue, { method: 'GET', path: '/v1/prices' }), { kind: 'unavailable' });
    assert.deepEqual(takeQueuedFault(queue, post), { kind: 'rate_limit' });
    assert.equal(queue.length, 0);
    assert.equal(takeQueuedFault(queue, post), null);
  });
});

describe('choosing API faults', () => {
  const request = { method: 'POST', path: '/v1/customers' };

  it('prefers the header, then the queue, then the rates; latency always applies', () => {
    const random = new Random(1);
    const queue: QueuedApiFault[] = [{ fault: 'unavailable', count: 1 }];
    const rates = { serverError: 1, latencyMs: 10 };
    const fromHeader = planApiFaults(request, [{ kind: 'rate_limit' }], queue, rates, random);
    assert.deepEqual(fromHeader, {
      faults: [{ kind: 'latency', ms: 10 }, { kind: 'rate_limit' }],
      source: 'header',
    });
    assert.equal(queue.length, 1, 'a header fault does not use up queued faults');
    assert.deepEqual(planApiFaults(request, null, queue, rates, random).faults[1], { kind: 'unavailable' });
    assert.deepEqual(planApiFaults(request, null, queue, rates, random).faults[1], { kind: 'server_error' });
    assert.deepEqual(planApiFaults(request, null, [], {}, random), { faults: [], source: 'none' });
  });

  it('exempts a request whose header asks for none, latency included, and leaves the queue alone', () => {
    const queue: QueuedApiFault[] = [{ fault: 'unavailable', count: 1 }];
    const plan = planApiFaults(request, [], queue, { serverError: 1, latencyMs: 10 }, new Random(1));
    assert.deepEqual(plan, { faults: [], source: 'header' });
    assert.equal(queue.length, 1);
  });

  it('draws at most one status fault, in proportion to the rates, reproducibly', () => {
    const rates = { rateLimit: 0.1, serverError: 0.2, unavailable: 0.1, timeout: 0.1, timeoutMs: 50 };
    const draw = (seed: number) => {
      const random = new Random(seed);
      return Array.from({ length: 2_000 }, () => drawRateFault(rates, random)?.kind ?? 'none');
    };
    const outcomes = draw(42);
    assert.deepEqual(outcomes, draw(42));
    assert.notDeepEqual(outcomes, draw(43));
    const share = (kind: string) => outcomes.filter((outcome) => outcome === kind).length / outcomes.length;
    assert.ok(Math.abs(share('server_error') - 0.2) < 0.04, `server_error ${share('server_error')}`);
    assert.ok(Math.abs(share('none') - 0.5) < 0.05, `none ${share('none')}`);
    assert.equal(share('lock_timeout'), 0);
    assert.deepEqual(drawRateFault({ timeout: 1, timeoutMs: 50 }, new Random(1)), {
      kind: 'timeout',
      holdMs: 50,
    });
  });
});

describe('webhook delivery faults', () => {
  it('deliver normally when nothing is configured', () => {
    assert.deepEqual(planDelivery({}, null, new Random(1)), NO_FAULTS);
  });

  it('apply certain faults and queued faults', () => {
    const random = new Random(1);
    assert.deepEqual(planDelivery({ drop: 1, duplicate: 1, delayMs: 5 }, null, random), {
      drop: true,
      extraCopies: 0,
      delayMs: 0,
      faults: ['drop', 'duplicate', 'delay'],
    });
    assert.deepEqual(planDelivery({ duplicate: 1, duplicateCopies: 2, delayMs: 5 }, null, random), {
      drop: false,
      extraCopies: 2,
      delayMs: 5,
      faults: ['duplicate', 'delay'],
    });
    const queuedDelay: QueuedWebhookFault = { fault: 'delay', count: 1, delayMs: 40 };
    assert.deepEqual(planDelivery({}, queuedDelay, random).delayMs, 40);
  });

  it('draws the same fates for the same seed', () => {
    const rates = { drop: 0.2, duplicate: 0.3, delayMs: 10, delayProbability: 0.5 };
    const fates = (seed: number) => {
      const random = new Random(seed);
      return Array.from({ length: 200 }, () => planDelivery(rates, null, random).faults.join('+'));
    };
    assert.deepEqual(fates(5), fates(5));
    assert.notDeepEqual(fates(5), fates(6));
    assert.ok(fates(5).includes('drop+duplicate+delay') || fates(5).includes('drop'));
  });

  it('take queued faults by event type', () => {
    const queue: QueuedWebhookFault[] = [
      { fault: 'drop', count: 1, eventType: 'invoice.paid' },
      { fault: 'duplicate', count: 2 },
    ];
    assert.equal(takeWebhookFault(queue, 'customer.created')?.fault, 'duplicate');
    assert.equal(takeWebhookFault(queue, 'invoice.paid')?.fault, 'drop');
    assert.equal(takeWebhookFault(queue, 'invoice.paid')?.fault, 'duplicate');
    assert.equal(takeWebhookFault(queue, 'invoice.paid'), null);
  });
});

describe('fault state', () => {
  it('replaces rate sections, appends queued faults and resets', () => {
    const state = new FaultState(42);
    let changes = 0;
    state.onChange(() => changes++);
    state.configure({ api: { serverError: 0.5 }, next: { api: { fault: 429, path: '/v1/customers' } } });
    state.configure({
      webhooks: { drop: 0.1 },
      next: { api: [{ fault: 'timeout', count: 2, timeoutMs: 100 }] },
    });
    const snapshot = state.snapshot();
    assert.deepEqual(snapshot.api, { serverError: 0.5 });
    assert.deepEqual(snapshot.webhooks, { drop: 0.1 });
    assert.deepEqual(snapshot.next.api, [
      { fault: 'rate_limit', count: 1, path: '/v1/customers' },
      { fault: 'timeout', count: 2, timeoutMs: 100 },
    ]);
    state.reset();
    assert.deepEqual(state.snapshot().next, { api: [], webhooks: [] });
    assert.deepEqual(state.snapshot().api, {});
    assert.equal(changes, 3);
  });

  it('says what is wrong with a bad configuration', () => {
    const state = new FaultState(1);
    const table: [unknown, RegExp][] = [
      [{ api: { serverError: 2 } }, /api\.serverError/],
      [{ api: { teapot: 1 } }, /teapot/],
      [{ next: { api: { fault: 'teapot' } } }, /unknown fault 'teapot'/],
      [{ webhooks: { reorderWindow: 1 } }, /webhooks\.reorderWindow/],
    ];
    for (const [options, message] of table)
      assert.throws(
        () => state.configure(options as never),
        (error: Error) => {
          assert.ok(error instanceof FaultConfigError);
          assert.match(error.message, message);
          return true;
        },
      );
  });

  it('draws API and webhook faults from streams separate from the emulator ids', () => {
    const a = new FaultState(42);
    const b = new FaultState(42);
    assert.deepEqual(
      Array.from({ length: 5 }, () => a.apiRandom.int(0, 1_000)),
      Array.from({ length: 5 }, () => b.apiRandom.int(0, 1_000)),
    );
    assert.notEqual(a.apiRandom.seed, 42);
    assert.notEqual(a.apiRandom.seed, a.webhookRandom.seed);
  });
});
