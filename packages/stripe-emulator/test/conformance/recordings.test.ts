import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkFloor } from './known-differences.ts';
import {
  connectedSteps,
  endpointOf,
  expandList,
  isObjectId,
  isPriceParam,
  parseForm,
  parsePair,
  type RecordedPair,
} from './recordings.ts';
import type { PairOutcome } from './replay.ts';

const pair = (id: string, uri: string, body: string, response: unknown, method = 'post'): RecordedPair =>
  parsePair(
    id,
    JSON.stringify({
      request: { method, uri, body },
      status: 200,
      stripe_version: '2025-10-29.clover',
      body: response,
    }),
  );

describe('reading recordings', () => {
  it('parses form bodies as recorded', () => {
    assert.deepEqual(parseForm('email=stripe%40example.org&name=Stripe+User&expand[0]=tax'), [
      ['email', 'stripe@example.org'],
      ['name', 'Stripe User'],
      ['expand[0]', 'tax'],
    ]);
    assert.deepEqual(expandList(parseForm('expand[0]=a&x=1&expand[]=b.c&expand%5B%5D=d')), ['a', 'b.c', 'd']);
  });

  it('puts back the word the cassette scrubber replaced', () => {
    const repaired = pair(
      'f/00',
      'https://api.stripe.com/v1/subscriptions',
      'expand[0]=latest_invoice.confirmation_<PADDLE_API_KEY>',
      {},
    );
    assert.deepEqual(repaired.body, [['expand[0]', 'latest_invoice.confirmation_secret']]);
  });

  for (const [method, path, endpoint] of [
    ['POST', '/v1/customers', 'POST /v1/customers'],
    ['GET', '/v1/customers/search', 'GET /v1/customers/search'],
    ['POST', '/v1/customers/cus_TOnRzwk3w8KAot', 'POST /v1/customers/:id'],
    ['POST', '/v1/payment_methods/pm_card_visa/attach', 'POST /v1/payment_methods/:id/attach'],
    ['POST', '/v1/payment_methods/abcd/attach', 'POST /v1/payment_methods/:id/attach'],
    ['POST', '/v1/billing_portal/sessions', 'POST /v1/billing_portal/sessions'],
    [
      'POST',
      '/v1/test_helpers/test_clocks/clock_1Abc234567/advance',
      'POST /v1/test_helpers/test_clocks/:id/advance',
    ],
    ['GET', '/v1/invoice_payments', 'GET /v1/invoice_payments'],
  ] as const)
    it(`names ${path} as ${endpoint}`, () => assert.equal(endpointOf(method, path), endpoint));

  it('tells ids from path words and test tokens', () => {
    assert.deepEqual(
      [
        'cus_TOnRzwk3w8KAot',
        'pi_3SRzqCKXBGcbgpbZ0OZAHYwq',
        'invoice_payments',
        'pm_card_visa',
        'pm_1234',
        'small-monthly',
      ].map(isObjectId),
      [true, true, false, false, false, false],
    );
    assert.deepEqual(
      [
        'items[0][price]',
        'price',
        'line_items[0][price]',
        'items[0][plan]',
        'customer',
        'price_data[currency]',
      ].map(isPriceParam),
      [true, true, true, true, false, false],
    );
  });

  it('finds the steps sent for the connected account from the account tag in their ids', () => {
    const pairs = [
      pair('f/00', 'https://api.stripe.com/v1/customers', '', { id: 'cus_AAAAAAAAAAAAA1' }),
      pair(
        'f/01',
        'https://api.stripe.com/v1/payment_methods/pm_card_visa/attach',
        'customer=cus_AAAAAAAAAAAAA1',
        {
          id: 'pm_1TGnEwQK2ZHS99RkHK9TK1Te',
        },
      ),
      pair('f/02', 'https://api.stripe.com/v1/customers', '', { id: 'cus_BBBBBBBBBBBBB2' }),
      pair(
        'f/03',
        'https://api.stripe.com/v1/customers/cus_AAAAAAAAAAAAA1',
        '',
        { error: { type: 'invalid_request_error' } },
        'get',
      ),
    ];
    assert.deepEqual([...connectedSteps(pairs)].sort(), [0, 1]);
  });
});

describe('the floor over known differences', () => {
  const outcome = (problems: string[]): PairOutcome => ({
    pair: pair('f/00', 'https://api.stripe.com/v1/customers', '', {}),
    endpoint: 'POST /v1/customers',
    kind: 'mismatched',
    findings: [],
    problems,
  });
  const known = [{ endpoint: 'POST /v1/customers', problem: /^-tax$/, reason: 'because' }];

  it('accepts problems a known difference explains', () => {
    const floor = checkFloor([outcome(['-tax'])], known);
    assert.deepEqual([floor.unexplained, floor.stale, [...floor.explained.values()]], [[], [], [1]]);
  });
  it('reports a problem nothing explains', () => {
    assert.deepEqual(checkFloor([outcome(['-tax', '+made_up'])], known).unexplained, [
      'f/00 (POST /v1/customers): +made_up',
    ]);
  });
  it('reports a known difference that no longer occurs', () => {
    assert.equal(checkFloor([], known).stale.length, 1);
  });
  it('does not let an entry for one endpoint explain another', () => {
    const other = { ...outcome(['-tax']), endpoint: 'GET /v1/customers/:id' };
    assert.equal(checkFloor([other], known).unexplained.length, 1);
  });
});
