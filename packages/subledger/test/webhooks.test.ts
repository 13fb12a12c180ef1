import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { serve } from '@hono/node-server';
import pg from 'pg';
import Stripe from 'stripe';
import { API_VERSION } from '../src/stripe/index.ts';
import { Inbox } from '../src/sync/inbox.ts';
import { createWebhookHandler, MAX_WEBHOOK_BYTES } from '../src/sync/webhooks.ts';
import { freePort } from './support/database.ts';
import { type Stack, startStack } from './support/stack.ts';

let stack: Stack;
before(async () => {
  stack = await startStack({ workers: false });
});
after(() => stack.close());

const secret = () => stack.subledger.config.webhookSecrets[0] as string;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const newId = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;

function anEvent(overrides: Record<string, unknown> = {}) {
  const customer = newId('cus');
  return {
    id: newId('evt'),
    object: 'event',
    type: 'customer.created',
    api_version: API_VERSION,
    created: nowSeconds(),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object: { id: customer, object: 'customer', email: `${customer}@example.com`, metadata: {} } },
    ...overrides,
  };
}

const sign = (payload: string, options: { secret?: string; timestamp?: number } = {}) =>
  Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? secret(),
    ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
  });

type Answer = { status: number; body: { received?: boolean; duplicate?: boolean; error?: { code: string } } };

async function post(payload: string, headers: Record<string, string>, path = '/webhooks/stripe') {
  const response = await fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: payload,
  });
  return { status: response.status, body: await response.json() } as Answer;
}

const deliver = (event: object, path?: string) => {
  const payload = JSON.stringify(event);
  return post(payload, { 'stripe-signature': sign(payload) }, path);
};

const countEvents = async () =>
  Number((await stack.database.pool.query('select count(*) as n from stripe_events')).rows[0].n);

const inboxRow = async (id: string) =>
  (
    await stack.database.pool.query(
      'select status, outcome, attempts, stripe_account, type from stripe_events where id = $1',
      [id],
    )
  ).rows[0];

/** Sends a request that must be refused with `status` and `code`, and checks that nothing was stored. */
async function assertRefused(send: () => Promise<Answer>, status: number, code: string) {
  const before = await countEvents();
  const answer = await send();
  assert.equal(answer.status, status);
  assert.equal(answer.body.error?.code, code);
  assert.equal(await countEvents(), before, 'a refused webhook wrote to the inbox');
}

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
    const text = JSON.stringify({ ...rest, id, note: `"quoted" \\ ${index}` }, null, index % 3);
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

test('a missing Stripe-Signature header is refused with signature_missing', async () => {
  await assertRefused(() => post(JSON.stringify(anEvent()), {}), 400, 'signature_missing');
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

/** A signed event padded with trailing whitespace (still valid JSON) to exactly `bytes`. */
function eventOfSize(bytes: number): string {
  const payload = JSON.stringify(anEvent());
  return payload + ' '.repeat(bytes - Buffer.byteLength(payload));
}

test('a body of exactly 1 MiB is accepted', async () => {
  const payload = eventOfSize(MAX_WEBHOOK_BYTES);
  const answer = await post(payload, { 'stripe-signature': sign(payload) });
  assert.equal(answer.status, 200);
});

test('a body over 1 MiB is refused with 413 when it declares its length', async () => {
  const payload = eventOfSize(MAX_WEBHOOK_BYTES + 1);
  await assertRefused(() => post(payload, { 'stripe-signature': sign(payload) }), 413, 'payload_too_large');
});

/**
 * Sends `payload` chunked, without a content-length, so that only counting the bytes can refuse it. On
 * a connection of its own: the server answers 413 before it has read the body, and a kept-alive socket
 * reused after that would be reset under the next request.
 */
function postChunked(payload: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const outgoing = httpRequest(
      new URL('/webhooks/stripe', stack.url),
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'stripe-signature': sign(payload) },
      },
      (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
        response.on('error', reject);
      },
    );
    // Once answered, the rest of the body may meet a closed socket; that is the point.
    outgoing.on('error', (error) => {
      if (!answered) reject(error);
    });
    const bytes = Buffer.from(payload);
    for (let offset = 0; offset < bytes.length; offset += 64 * 1024)
      outgoing.write(bytes.subarray(offset, offset + 64 * 1024));
    outgoing.end();
    if (outgoing.getHeader('content-length') !== undefined)
      reject(new Error('the request declared its length'));
  });
}

test('a chunked body over 1 MiB without content-length is refused with 413', async () => {
  await assertRefused(() => postChunked(eventOfSize(MAX_WEBHOOK_BYTES + 1)), 413, 'payload_too_large');
  await assertRefused(() => postChunked(eventOfSize(3 * MAX_WEBHOOK_BYTES)), 413, 'payload_too_large');
  const small = eventOfSize(200_000);
  assert.equal((await postChunked(small)).status, 200);
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
  const [old] = secrets as [string];
  secrets.push('whsec_rotated_in');
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

test('the Connect endpoint refuses events without an account and stores those with one', async () => {
  await assertRefused(() => deliver(anEvent(), '/webhooks/stripe/connect'), 400, 'account_missing');
  const connected = anEvent({ account: 'acct_1Connected' });
  assert.equal((await deliver(connected, '/webhooks/stripe/connect')).status, 200);
  assert.equal((await inboxRow(connected.id)).stripe_account, 'acct_1Connected');
});

/** The webhook handler served over HTTP on a pool of its own, so the pool can fail without the stack's. */
async function serveOwnInbox(pool: pg.Pool) {
  const inbox = new Inbox(pool);
  const handler = createWebhookHandler({ secrets: () => [secret()], store: (event) => inbox.store(event) });
  const server = serve({ fetch: handler, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const send = async (event: object): Promise<Answer> => {
    const payload = JSON.stringify(event);
    const response = await fetch(url, {
      method: 'POST',
      body: payload,
      headers: { 'stripe-signature': sign(payload) },
    });
    return { status: response.status, body: await response.json() } as Answer;
  };
  return { send, close: () => new Promise((resolve) => server.close(resolve)) };
}

test('while the database is unavailable nothing is acknowledged: 503 inbox_unavailable', async () => {
  const pool = new pg.Pool({ connectionString: stack.database.url, max: 2 });
  pool.on('error', () => {});
  const served = await serveOwnInbox(pool);
  try {
    assert.equal((await served.send(anEvent())).status, 200);
    await pool.end();
    await assertRefused(() => served.send(anEvent()), 503, 'inbox_unavailable');
  } finally {
    await served.close();
  }
  const unreachable = new pg.Pool({
    connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/none`,
    connectionTimeoutMillis: 2000,
  });
  unreachable.on('error', () => {});
  const down = await serveOwnInbox(unreachable);
  try {
    await assertRefused(() => down.send(anEvent()), 503, 'inbox_unavailable');
  } finally {
    await down.close();
    await unreachable.end();
  }
});

test('webhook answers carry a Request-Id: the caller’s when it is plain, a new one otherwise', async () => {
  const payload = JSON.stringify(anEvent());
  const send = (requestId?: string) =>
    fetch(`${stack.url}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'stripe-signature': sign(payload), ...(requestId ? { 'request-id': requestId } : {}) },
      body: payload,
    });
  assert.equal((await send('req_given-1')).headers.get('request-id'), 'req_given-1');
  const fresh = (await send('not plain!')).headers.get('request-id') ?? '';
  assert.match(fresh, /^[0-9a-f-]{36}$/);
  assert.notEqual((await send()).headers.get('request-id'), fresh);
});

test('the app outside the Node server (its fetch handler alone) reads deliveries from the web Request', async () => {
  const event = anEvent();
  const payload = JSON.stringify(event);
  const send = (body: string, signature: string) =>
    stack.subledger.app.request('/webhooks/stripe', {
      method: 'POST',
      headers: { 'stripe-signature': signature, 'request-id': 'req_fetch-1' },
      body,
    });
  const stored = await send(payload, sign(payload));
  assert.equal(stored.status, 200);
  assert.equal(stored.headers.get('request-id'), 'req_fetch-1');
  assert.deepEqual(await stored.json(), { received: true, duplicate: false });
  assert.equal((await inboxRow(event.id)).type, 'customer.created');
  const refused = await send(`${payload} `, sign(payload));
  assert.equal(refused.status, 400);
  assert.equal(((await refused.json()) as Answer['body']).error?.code, 'signature_invalid');
});
