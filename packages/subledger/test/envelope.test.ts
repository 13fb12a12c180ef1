import assert from 'node:assert/strict';
import { test } from 'node:test';
import { idOf, MAX_ID_LENGTH, NotAnEventError, toInboxEvent } from '../src/sync/envelope.ts';

const anEvent = (object: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: 'evt_1',
  object: 'event',
  type: 'customer.updated',
  api_version: '2026-10-28.endive',
  created: 1_700_000_000,
  livemode: false,
  data: { object },
  ...extra,
});

type Expected = {
  stripeAccount: string;
  serialKey: string;
  objectType: string | null;
  objectId: string | null;
};

// One line per case: what the event carries, and the inbox columns read from it.
// biome-ignore format: a table reads best one case per line
const CASES: [string, ReturnType<typeof anEvent>, Expected][] = [
  ['a customer serialises on itself', anEvent({ id: 'cus_1', object: 'customer' }), { stripeAccount: 'platform', serialKey: 'platform/cus_1', objectType: 'customer', objectId: 'cus_1' }],
  ['a subscription on its customer', anEvent({ id: 'sub_1', object: 'subscription', customer: 'cus_1' }), { stripeAccount: 'platform', serialKey: 'platform/cus_1', objectType: 'subscription', objectId: 'sub_1' }],
  ['an invoice on its expanded customer', anEvent({ id: 'in_1', object: 'invoice', customer: { id: 'cus_2', object: 'customer' } }), { stripeAccount: 'platform', serialKey: 'platform/cus_2', objectType: 'invoice', objectId: 'in_1' }],
  ['a guest checkout session on itself', anEvent({ id: 'cs_1', object: 'checkout.session', customer: null }), { stripeAccount: 'platform', serialKey: 'platform/cs_1', objectType: 'checkout.session', objectId: 'cs_1' }],
  ['a product on itself', anEvent({ id: 'prod_1', object: 'product' }), { stripeAccount: 'platform', serialKey: 'platform/prod_1', objectType: 'product', objectId: 'prod_1' }],
  ['a price on itself', anEvent({ id: 'price_1', object: 'price', product: 'prod_1' }), { stripeAccount: 'platform', serialKey: 'platform/price_1', objectType: 'price', objectId: 'price_1' }],
  ['a billing meter on itself', anEvent({ id: 'mtr_1', object: 'billing.meter' }), { stripeAccount: 'platform', serialKey: 'platform/mtr_1', objectType: 'billing.meter', objectId: 'mtr_1' }],
  ['an entitlement summary is keyed by its customer', anEvent({ object: 'entitlements.active_entitlement_summary', customer: 'cus_3' }), { stripeAccount: 'platform', serialKey: 'platform/cus_3', objectType: 'entitlements.active_entitlement_summary', objectId: 'cus_3' }],
  ['an object without id or customer on the event', anEvent({ object: 'balance' }), { stripeAccount: 'platform', serialKey: 'platform/evt_1', objectType: 'balance', objectId: null }],
  ['Connect: the account is the place', anEvent({ id: 'cus_1', object: 'customer' }, { account: 'acct_9' }), { stripeAccount: 'acct_9', serialKey: 'acct_9/cus_1', objectType: 'customer', objectId: 'cus_1' }],
  ['Connect: a subscription on the account’s customer', anEvent({ id: 'sub_1', object: 'subscription', customer: 'cus_1' }, { account: 'acct_9' }), { stripeAccount: 'acct_9', serialKey: 'acct_9/cus_1', objectType: 'subscription', objectId: 'sub_1' }],
  ['account: null is the platform', anEvent({ id: 'cus_1', object: 'customer' }, { account: null }), { stripeAccount: 'platform', serialKey: 'platform/cus_1', objectType: 'customer', objectId: 'cus_1' }],
];

for (const [name, body, expected] of CASES)
  test(`toInboxEvent: ${name}`, () => {
    const event = toInboxEvent(body);
    assert.deepEqual(
      {
        stripeAccount: event.stripeAccount,
        serialKey: event.serialKey,
        objectType: event.objectType,
        objectId: event.objectId,
      },
      expected,
    );
  });

test('toInboxEvent keeps the ordering evidence and the whole payload', () => {
  const body = anEvent({ id: 'cus_1', object: 'customer', email: 'a@example.com' }, { livemode: true });
  const event = toInboxEvent(body);
  assert.equal(event.id, 'evt_1');
  assert.equal(event.type, 'customer.updated');
  assert.equal(event.created, 1_700_000_000);
  assert.equal(event.apiVersion, '2026-10-28.endive');
  assert.equal(event.livemode, true);
  assert.deepEqual(JSON.parse(event.json), body);
  assert.equal(toInboxEvent({ ...body, api_version: null }).apiVersion, null);
  const { api_version: _, ...withoutVersion } = body;
  assert.equal(toInboxEvent(withoutVersion).apiVersion, null);
});

const valid = anEvent({ id: 'cus_1', object: 'customer' });

// biome-ignore format: one case per line
const NOT_EVENTS: [string, unknown][] = [
  ['null', null],
  ['a string', 'evt_1'],
  ['an array', [valid]],
  ['an empty object', {}],
  ['another Stripe object', { id: 'cus_1', object: 'customer', created: 1, livemode: false }],
  ['an id that is not an event id', { ...valid, id: 'cus_1' }],
  ['object other than event', { ...valid, object: 'customer' }],
  ['no type', { ...valid, type: undefined }],
  ['an empty type', { ...valid, type: '' }],
  ['created as a string', { ...valid, created: '1700000000' }],
  ['created with a fraction', { ...valid, created: 1.5 }],
  ['created negative', { ...valid, created: -1 }],
  ['no livemode', { ...valid, livemode: undefined }],
  ['no data', { ...valid, data: undefined }],
  ['data without an object', { ...valid, data: {} }],
  ['data.object not an object', { ...valid, data: { object: 'cus_1' } }],
  ['an account that is not an account id', { ...valid, account: '' }],
  ['an account of the wrong type', { ...valid, account: 42 }],
  // What a text column cannot hold (\u0000) or an index cannot cover (a value too long): refused here,
  // rather than by Postgres on every delivery.
  ['a \\u0000 in the type', { ...valid, type: 'customer.updated\u0000' }],
  ['a \\u0000 in the api version', { ...valid, api_version: '2026-10-28\u0000' }],
  ['a \\u0000 in the object id', anEvent({ id: 'cus_\u0000', object: 'customer' })],
  ['a \\u0000 in the object type', anEvent({ id: 'cus_1', object: 'customer\u0000' })],
  ['a \\u0000 in the customer id', anEvent({ id: 'sub_1', object: 'subscription', customer: 'cus_\u0000' })],
  ['a \\u0000 in the expanded customer id', anEvent({ id: 'sub_1', object: 'subscription', customer: { id: 'cus_\u0000' } })],
  ['an event id over 255 characters', { ...valid, id: `evt_${'x'.repeat(MAX_ID_LENGTH - 3)}` }],
  ['a type over 255 characters', { ...valid, type: `customer.${'x'.repeat(MAX_ID_LENGTH)}` }],
  ['an object id over 255 characters', anEvent({ id: `cus_${'x'.repeat(MAX_ID_LENGTH)}`, object: 'customer' })],
  ['a customer id over 255 characters', anEvent({ id: 'sub_1', object: 'subscription', customer: `cus_${'x'.repeat(MAX_ID_LENGTH)}` })],
  ['an account id over 255 characters', { ...valid, account: `acct_${'x'.repeat(MAX_ID_LENGTH)}` }],
  // The CLI's --account and the library calls take only this shape; an account they cannot name must not get rows.
  ['an account id with an underscore after its prefix', { ...valid, account: 'acct_1_shop' }],
];

for (const [name, body] of NOT_EVENTS)
  test(`toInboxEvent refuses ${name}`, () => {
    assert.throws(
      () => toInboxEvent(body),
      (error: unknown) => error instanceof NotAnEventError && error.code === 'invalid_event',
    );
  });

test('toInboxEvent accepts ids and a type of exactly 255 characters', () => {
  const longest = (prefix: string) => `${prefix}${'x'.repeat(MAX_ID_LENGTH - prefix.length)}`;
  const event = toInboxEvent(
    anEvent(
      { id: longest('sub_'), object: 'subscription', customer: { id: longest('cus_') } },
      { id: longest('evt_'), type: longest('customer.'), account: longest('acct_') },
    ),
  );
  assert.equal(event.id.length, MAX_ID_LENGTH);
  assert.equal(event.objectId?.length, MAX_ID_LENGTH);
  assert.equal(event.serialKey, `${longest('acct_')}/${longest('cus_')}`);
});

test('idOf reads an id given plainly or expanded', () => {
  assert.equal(idOf('cus_1'), 'cus_1');
  assert.equal(idOf({ id: 'cus_1', object: 'customer' }), 'cus_1');
  assert.equal(idOf(null), null);
  assert.equal(idOf({ object: 'customer' }), null);
  assert.equal(idOf(42), null);
});
