import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Stripe from 'stripe';
import { Random } from '../src/core/random.ts';
import { ReorderWindow } from '../src/faults/index.ts';
import {
  computeSignature,
  listensTo,
  receives,
  retryDelayMs,
  retrySchedule,
  signatureHeader,
} from '../src/webhooks/index.ts';
import { deliverySettings } from '../src/webhooks/options.ts';

const stripe = new Stripe('sk_test_unit');

describe('webhook signatures', () => {
  const payload = JSON.stringify({ id: 'evt_1', object: 'event', type: 'customer.created' }, null, 2);
  const secret = 'whsec_test_secret';

  it('signs exactly as the SDK does', () => {
    const timestamp = 1_700_000_000;
    const expected = stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
    assert.equal(signatureHeader(payload, secret, timestamp), expected);
  });

  it('is accepted by constructEvent and refused once anything changes', () => {
    const now = Math.floor(Date.now() / 1000);
    const header = signatureHeader(payload, secret, now);
    assert.equal(stripe.webhooks.constructEvent(payload, header, secret).id, 'evt_1');
    assert.throws(() => stripe.webhooks.constructEvent(`${payload} `, header, secret));
    assert.throws(() => stripe.webhooks.constructEvent(payload, header, `${secret}x`));
    const stale = signatureHeader(payload, secret, now - 301);
    assert.throws(() => stripe.webhooks.constructEvent(payload, stale, secret), /tolerance/);
  });

  it('is a hex HMAC-SHA256 over "t.payload" keyed with the whole secret', () => {
    // Vector computed independently: python3 hmac.new(b'whsec_test_secret', b'1700000000.{"id":"evt_1"}', sha256)
    assert.equal(
      computeSignature('{"id":"evt_1"}', secret, 1_700_000_000),
      '248a374f50f943a28b0f6ab50faf9a7e7e29b710fa26df9fb1618b9bf8ea9c9a',
    );
  });
});

describe('retry backoff', () => {
  it('doubles from the initial wait up to the cap, then gives up', () => {
    const policy = { attempts: 6, initialDelayMs: 500, maxDelayMs: 4_000 };
    const table: [number, number | null][] = [
      [1, 500],
      [2, 1_000],
      [3, 2_000],
      [4, 4_000],
      [5, 4_000],
      [6, null],
      [7, null],
    ];
    for (const [failedAttempt, wait] of table) assert.equal(retryDelayMs(failedAttempt, policy), wait);
    assert.deepEqual(retrySchedule(policy), [500, 1_000, 2_000, 4_000, 4_000]);
  });

  it('makes one attempt only when attempts is 1', () => {
    assert.deepEqual(retrySchedule({ attempts: 1, initialDelayMs: 500, maxDelayMs: 500 }), []);
  });

  it('has test-sized defaults and rejects nonsense settings', () => {
    assert.deepEqual(retrySchedule(deliverySettings(undefined).retry), [500, 1_000, 2_000, 4_000]);
    assert.equal(deliverySettings({ retry: { attempts: 2 } }).retry.initialDelayMs, 500);
    assert.throws(() => deliverySettings({ retry: { attempts: 0 } }), RangeError);
    assert.throws(() => deliverySettings({ retry: { initialDelayMs: 10, maxDelayMs: 5 } }), RangeError);
    assert.throws(() => deliverySettings({ timeoutMs: 0 }), RangeError);
  });
});

describe('which endpoints receive an event', () => {
  it('matches enabled_events, "*" included', () => {
    assert.equal(listensTo(['*'], 'invoice.paid'), true);
    assert.equal(listensTo(['invoice.paid'], 'invoice.paid'), true);
    assert.equal(listensTo(['invoice.paid'], 'invoice.payment_failed'), false);
  });

  it('honours status and the Connect side', () => {
    const endpoint = { status: 'enabled', enabled_events: ['*'], connect: false };
    const table: [typeof endpoint, 'own_account' | 'connected_account', boolean][] = [
      [endpoint, 'own_account', true],
      [endpoint, 'connected_account', false],
      [{ ...endpoint, connect: true }, 'connected_account', true],
      [{ ...endpoint, connect: true }, 'own_account', false],
      [{ ...endpoint, status: 'disabled' }, 'own_account', false],
    ];
    for (const [candidate, origin, expected] of table)
      assert.equal(
        receives(candidate, 'customer.created', origin),
        expected,
        JSON.stringify([candidate, origin]),
      );
  });
});

describe('reorder window', () => {
  const shuffleWith = (seed: number) => {
    const random = new Random(seed);
    return <T>(items: T[]) => random.shuffle(items);
  };

  it('holds items until it is full, then releases all of them shuffled', () => {
    const window = new ReorderWindow<number>(4, shuffleWith(7));
    assert.deepEqual(window.add(1), []);
    assert.deepEqual(window.add(2), []);
    assert.deepEqual(window.add(3), []);
    const released = window.add(4);
    assert.deepEqual([...released].sort(), [1, 2, 3, 4]);
    assert.equal(window.length, 0);
  });

  it('gives the same order for the same seed', () => {
    const run = (seed: number) => {
      const window = new ReorderWindow<number>(8, shuffleWith(seed));
      return [1, 2, 3, 4, 5, 6, 7, 8].flatMap((n) => window.add(n));
    };
    assert.deepEqual(run(42), run(42));
    assert.notDeepEqual(run(42), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.notDeepEqual(run(42), run(43));
  });

  it('releases early on demand and holds nothing without a size until released', () => {
    const window = new ReorderWindow<string>(undefined, shuffleWith(1));
    assert.deepEqual(window.add('a'), []);
    assert.deepEqual(window.add('b'), []);
    assert.equal(window.length, 2);
    assert.deepEqual([...window.release()].sort(), ['a', 'b']);
    assert.deepEqual(window.release(), []);
  });
});
