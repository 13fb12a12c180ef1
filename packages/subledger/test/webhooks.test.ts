import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Stack, startStack } from './support/stack.ts';
import { webhookClient } from './support/webhook-client.ts';

/** What the webhook endpoint accepts and refuses: signatures, bodies that are not events, duplicates. */
let stack: Stack;
before(async () => {
  stack = await startStack({ workers: false });
});
after(() => stack.close());

const { nowSeconds, anEvent, sign, post, deliver, inboxRow, assertRefused } = webhookClient(() => stack);

test('a correctly signed event is stored, acknowledged and later applied once', async () => {
  const event = anEvent();
  const answer = await deliver(event);
  assert.deepEqual(answer, { status: 200, body: { received: true, duplicate: false } });
  assert.equal((await inboxRow(event.id)).status, 'pending');
  await stack.subledger.sync.worker.drain();
  assert.deepEqual(await inboxRow(event.id), {
    status: 'processed',
    outcome: 'applied',
    attempts: 1,
    stripe_account: 'platform',
    type: 'customer.created',
  });
});

test('the inbox keeps each body as received, whitespace and key order included, when bodies share a commit', async () => {
  const bodies = Array.from({ length: 8 }, (_, index) => {
    const { id, ...rest } = anEvent();
    const text = JSON.stringify({ ...rest, id, note: `"quoted" \\ ${index} é ✓ 😀` }, null, index % 3);
    return { id, text };
  });
  const answers = await Promise.all(bodies.map(({ text }) => post(text, { 'stripe-signature': sign(text) })));
  assert.deepEqual(new Set(answers.map((answer) => answer.status)), new Set([200]));
  const { rows } = await stack.database.pool.query<{ id: string; payload: string }>(
    'select id, payload::text as payload from stripe_events where id = any($1::text[])',
    [bodies.map((body) => body.id)],
  );
  assert.deepEqual(
    new Map(rows.map((row) => [row.id, row.payload])),
    new Map(bodies.map((body) => [body.id, body.text])),
  );
});

test('a bad signature is refused with signature_invalid and writes nothing', async () => {
  const payload = JSON.stringify(anEvent());
  const tampered = payload.replace('customer.created', 'customer.updated');
  await assertRefused(
    () => post(payload, { 'stripe-signature': sign(payload, { secret: 'whsec_not_ours' }) }),
    400,
    'signature_invalid',
  );
  await assertRefused(() => post(tampered, { 'stripe-signature': sign(payload) }), 400, 'signature_invalid');
  await assertRefused(() => post(payload, { 'stripe-signature': 'garbage' }), 400, 'signature_invalid');
  await assertRefused(
    () => post(payload, { 'stripe-signature': `t=${nowSeconds()},v0=deadbeef` }),
    400,
    'signature_invalid',
  );
});

// biome-ignore format: one case per line
const MALFORMED_SIGNATURES: [string, string][] = [
  ['an empty v1', 'v1='],
  ['a v1 with no =', 'v1'],
  ['a v1 of 64 characters, one of them not ASCII', `v1=é${'a'.repeat(63)}`],
];

for (const [name, malformed] of MALFORMED_SIGNATURES)
  test(`${name} is refused with signature_invalid, and hides no valid signature beside it`, async () => {
    const payload = JSON.stringify(anEvent());
    await assertRefused(
      () => post(payload, { 'stripe-signature': `t=${nowSeconds()},${malformed}` }),
      400,
      'signature_invalid',
    );
    for (const place of ['after', 'before']) {
      const signed = JSON.stringify(anEvent());
      const header = place === 'after' ? `${sign(signed)},${malformed}` : `${malformed},${sign(signed)}`;
      const answer = await post(signed, { 'stripe-signature': header });
      assert.equal(
        answer.status,
        200,
        `a valid signature with ${name} ${place} it: ${JSON.stringify(answer.body)}`,
      );
    }
  });

test('a missing Stripe-Signature header is refused with signature_missing', async () => {
  await assertRefused(() => post(JSON.stringify(anEvent()), {}), 400, 'signature_missing');
});

test('with no webhook secret configured, a delivery is answered 503 webhook_secret_missing and writes nothing', async () => {
  const secrets = stack.subledger.config.webhookSecrets;
  const kept = secrets.splice(0);
  try {
    const payload = JSON.stringify(anEvent());
    await assertRefused(
      () => post(payload, { 'stripe-signature': sign(payload, { secret: kept[0]?.secret }) }),
      503,
      'webhook_secret_missing',
    );
  } finally {
    secrets.push(...kept);
  }
});

test('a signature older than 300 s is refused with timestamp_outside_tolerance; 299 s is accepted', async () => {
  const stale = JSON.stringify(anEvent());
  await assertRefused(
    () => post(stale, { 'stripe-signature': sign(stale, { timestamp: nowSeconds() - 301 }) }),
    400,
    'timestamp_outside_tolerance',
  );
  await assertRefused(
    () => post(stale, { 'stripe-signature': sign(stale, { timestamp: nowSeconds() - 3600 }) }),
    400,
    'timestamp_outside_tolerance',
  );
  const recent = JSON.stringify(anEvent());
  const answer = await post(recent, { 'stripe-signature': sign(recent, { timestamp: nowSeconds() - 299 }) });
  assert.equal(answer.status, 200);
});

test('malformed JSON with a valid signature is refused with invalid_json', async () => {
  const payload = '{"id": "evt_1", "object": "event",';
  await assertRefused(() => post(payload, { 'stripe-signature': sign(payload) }), 400, 'invalid_json');
});

test('a signed event whose bytes are not UTF-8 is refused with invalid_json, not stored altered', async () => {
  const event = JSON.stringify({ ...anEvent(), note: 'BAD' });
  const [before, after] = event.split('BAD') as [string, string];
  const bytes = Buffer.concat([Buffer.from(before), Buffer.from([0xff, 0xc3]), Buffer.from(after)]);
  // Signed over the text a lenient decoder makes of it, so that only the encoding is wrong.
  const signature = sign(new TextDecoder().decode(bytes));
  await assertRefused(() => post(bytes, { 'stripe-signature': signature }), 400, 'invalid_json');
});

test('signed JSON that is not a snapshot event is refused with invalid_event', async () => {
  const bodies = [
    { id: 'cus_1', object: 'customer' },
    [anEvent()],
    null,
    42,
    { ...anEvent(), id: 'not_an_event_id' },
    { ...anEvent(), data: {} },
    // A thin (v2) event notification: the SDK's parser throws a plain Error for it, which once gave 503.
    {
      id: 'evt_1',
      object: 'v2.core.event',
      type: 'v1.billing.meter.error_report_triggered',
      created: '2025-01-01',
    },
  ];
  for (const body of bodies) {
    const payload = JSON.stringify(body);
    await assertRefused(() => post(payload, { 'stripe-signature': sign(payload) }), 400, 'invalid_event');
  }
});

test('an unknown event type is stored, acknowledged and settled as ignored by the worker', async () => {
  const unknown = anEvent({
    type: 'issuing_card.shipped',
    data: { object: { id: 'ic_1', object: 'issuing.card' } },
  });
  // A handled type carrying an object of another kind is no use to the mirror either.
  const mismatched = anEvent({
    type: 'customer.updated',
    data: { object: { id: 'pi_1', object: 'payment_intent' } },
  });
  for (const event of [unknown, mismatched]) assert.equal((await deliver(event)).status, 200);
  await stack.subledger.sync.worker.drain();
  for (const event of [unknown, mismatched]) {
    const row = await inboxRow(event.id);
    assert.equal(row.status, 'processed');
    assert.equal(row.outcome, 'ignored');
  }
});

test('the same event delivered 3× (one after another, then at once) is stored and applied once', async () => {
  const sequential = anEvent();
  const concurrent = anEvent();
  const answers = [];
  for (let copy = 0; copy < 3; copy++) answers.push(await deliver(sequential));
  answers.push(...(await Promise.all([deliver(concurrent), deliver(concurrent), deliver(concurrent)])));
  assert.ok(answers.every((answer) => answer.status === 200));
  assert.deepEqual(
    answers.slice(0, 3).map((answer) => answer.body.duplicate),
    [false, true, true],
  );
  assert.equal(answers.slice(3).filter((answer) => answer.body.duplicate === false).length, 1);
  const rows = await stack.database.pool.query('select id from stripe_events where id = any($1)', [
    [sequential.id, concurrent.id],
  ]);
  assert.equal(rows.rowCount, 2);

  await stack.subledger.sync.worker.drain();
  // Delivered again after it was applied: acknowledged, not processed again.
  assert.equal((await deliver(sequential)).body.duplicate, true);
  assert.equal(await stack.subledger.sync.worker.drain(), 0);
  for (const event of [sequential, concurrent]) {
    const row = await inboxRow(event.id);
    assert.equal(row.outcome, 'applied');
    assert.equal(row.attempts, 1);
    const customer = await stack.database.pool.query('select last_event_id from customers where id = $1', [
      event.data.object.id,
    ]);
    assert.equal(customer.rows[0]?.last_event_id, event.id);
  }
});

test('during a secret rotation either secret verifies, and a header with both signatures too', async () => {
  const secrets = stack.subledger.config.webhookSecrets;
  const old = secrets[0]?.secret as string;
  secrets.push({ secret: 'whsec_rotated_in', livemode: false });
  try {
    for (const signingSecret of [old, 'whsec_rotated_in']) {
      const payload = JSON.stringify(anEvent());
      const answer = await post(payload, { 'stripe-signature': sign(payload, { secret: signingSecret }) });
      assert.equal(answer.status, 200);
    }
    const payload = JSON.stringify(anEvent());
    const timestamp = nowSeconds();
    const signatureWith = (signingSecret: string) =>
      (sign(payload, { secret: signingSecret, timestamp }).split('v1=')[1] as string).split(',')[0];
    const both = `t=${timestamp},v1=${signatureWith('whsec_gone')},v1=${signatureWith('whsec_rotated_in')}`;
    assert.equal((await post(payload, { 'stripe-signature': both })).status, 200);
    await assertRefused(
      () => post(payload, { 'stripe-signature': sign(payload, { secret: 'whsec_third' }) }),
      400,
      'signature_invalid',
    );
  } finally {
    secrets.splice(1);
  }
});

test('a secret verifies only events of its own mode: another mode is refused with livemode_mismatch', async () => {
  const secrets = stack.subledger.config.webhookSecrets;
  const signedWith = (event: object, secret?: string) => {
    const payload = JSON.stringify(event);
    return () => post(payload, { 'stripe-signature': sign(payload, secret ? { secret } : {}) });
  };
  // The stack's only secret is its test endpoint's: it cannot vouch for a live event.
  await assertRefused(signedWith(anEvent({ livemode: true })), 400, 'livemode_mismatch');
  secrets.push({ secret: 'whsec_live_1', livemode: true }, { secret: 'whsec_live_2', livemode: true });
  try {
    await assertRefused(signedWith(anEvent({ livemode: true })), 400, 'livemode_mismatch');
    await assertRefused(signedWith(anEvent(), 'whsec_live_1'), 400, 'livemode_mismatch');
    const answer = await signedWith(anEvent(), 'whsec_live_2')();
    assert.doesNotMatch(JSON.stringify(answer.body), /whsec_/, 'the answer names no secret');
    // Each live secret of a rotation verifies live events.
    for (const secret of ['whsec_live_1', 'whsec_live_2']) {
      const live = anEvent({ livemode: true });
      assert.equal((await signedWith(live, secret)()).status, 200);
      assert.equal((await inboxRow(live.id)).status, 'pending');
    }
  } finally {
    secrets.splice(1);
  }
  await stack.subledger.sync.worker.drain();
});

test('a signed event whose ids or type the columns cannot hold is refused with 400, not 503', async () => {
  for (const event of [
    anEvent({ type: 'customer.created\u0000' }),
    anEvent({ id: `evt_${'x'.repeat(20_000)}` }),
    anEvent({ data: { object: { id: 'cus_\u0000', object: 'customer' } } }),
  ])
    await assertRefused(() => deliver(event), 400, 'invalid_event');
  // Valid, but nested deeper than Postgres' JSON parser goes: Postgres refuses it (54001) on every try.
  const deep = 40_000;
  const payload = JSON.stringify(anEvent()).replace(
    '"metadata":{}',
    `"metadata":{},"deep":${'['.repeat(deep)}${']'.repeat(deep)}`,
  );
  await assertRefused(() => post(payload, { 'stripe-signature': sign(payload) }), 400, 'event_unstorable');
});

test('a live Connect secret vouches for the test events of live-connected accounts, never the reverse', async () => {
  // Stripe sends a live Connect endpoint the test events of accounts connected in live mode, signed
  // with its live secret; the platform's live endpoint receives live events only.
  const secrets = stack.subledger.config.webhookSecrets;
  const original = [...secrets];
  secrets.splice(0, secrets.length, { secret: 'whsec_live_connect', livemode: true });
  const signedWith = (event: object, secret: string, path: string) => {
    const payload = JSON.stringify(event);
    return () => post(payload, { 'stripe-signature': sign(payload, { secret }) }, path);
  };
  try {
    const test = anEvent({ account: 'acct_1LiveConnected', livemode: false });
    assert.equal((await signedWith(test, 'whsec_live_connect', '/webhooks/stripe/connect')()).status, 200);
    const stored = await stack.database.pool.query(
      'select livemode, stripe_account from stripe_events where id = $1',
      [test.id],
    );
    assert.deepEqual(stored.rows[0], { livemode: false, stripe_account: 'acct_1LiveConnected' });
    const onPlatform = anEvent({ livemode: false });
    await assertRefused(
      signedWith(onPlatform, 'whsec_live_connect', '/webhooks/stripe'),
      400,
      'livemode_mismatch',
    );
    secrets.push({ secret: 'whsec_test_connect', livemode: false });
    const live = anEvent({ account: 'acct_1LiveConnected', livemode: true });
    await assertRefused(
      signedWith(live, 'whsec_test_connect', '/webhooks/stripe/connect'),
      400,
      'livemode_mismatch',
    );
  } finally {
    secrets.splice(0, secrets.length, ...original);
  }
});

test('the Connect endpoint refuses events without an account and stores those with one', async () => {
  await assertRefused(() => deliver(anEvent(), '/webhooks/stripe/connect'), 400, 'account_missing');
  const connected = anEvent({ account: 'acct_1Connected' });
  assert.equal((await deliver(connected, '/webhooks/stripe/connect')).status, 200);
  assert.equal((await inboxRow(connected.id)).stripe_account, 'acct_1Connected');
});
