import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { serve } from '@hono/node-server';
import pg from 'pg';
import { pino } from 'pino';
import { connect, type Database } from '../src/store/index.ts';
import { Inbox, type InboxOptions } from '../src/sync/inbox.ts';
import { createSyncEngine } from '../src/sync/index.ts';
import { createWebhookHandler, MAX_WEBHOOK_BYTES } from '../src/sync/webhooks.ts';
import { Metrics } from '../src/telemetry/index.ts';
import { freePort } from './support/database.ts';
import { silencingProxy } from './support/silencing-proxy.ts';
import { type Stack, startStack } from './support/stack.ts';
import { type Answer, webhookClient } from './support/webhook-client.ts';

/**
 * How deliveries reach the webhook endpoint: body sizes, chunked bodies, a database that is away or
 * silent, Request-Id, the app's fetch handler outside the Node server, and the library's handler given a
 * body already read; and what is logged of the failures.
 */
let stack: Stack;
before(async () => {
  stack = await startStack({ workers: false });
});
after(() => stack.close());

const { secret, anEvent, sign, post, inboxRow, assertRefused } = webhookClient(() => stack);

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

async function serveOwnInbox(pool: pg.Pool, options: InboxOptions = {}) {
  const inbox = new Inbox(pool, options);
  const handler = createWebhookHandler({
    secrets: () => [{ secret: secret(), livemode: false }],
    store: (event) => inbox.store(event),
  });
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

/** The bound the tests below set, far below the default so that they finish in a moment. */
const BOUND_MS = 400;
/** How much later than its bound a failure may come, on a busy machine. */
const LATE_MS = 2_000;

test('a connection gone silent mid-commit fails that commit within its bound (503), and is discarded; deliveries queued behind it and sent after it are stored', {
  timeout: 15_000,
}, async () => {
  const proxy = await silencingProxy(stack.database.url);
  const database = connect(proxy.url, { max: 2 });
  const served = await serveOwnInbox(database.pool, { commitTimeoutMs: BOUND_MS });
  try {
    assert.equal((await served.send(anEvent())).status, 200);
    proxy.silence();
    const lost = anEvent();
    const queued = anEvent();
    const started = performance.now();
    const lostAnswer = served.send(lost);
    // Sent while the silent commit is in flight, it waits for that commit to end before its own begins.
    await setTimeout(BOUND_MS / 4);
    const queuedAnswer = served.send(queued);
    assert.equal((await lostAnswer).body.error?.code, 'inbox_unavailable');
    assert.ok(performance.now() - started < BOUND_MS + LATE_MS, 'the silent commit outlived its bound');
    assert.equal((await queuedAnswer).status, 200);
    const later = anEvent();
    assert.equal((await served.send(later)).status, 200);
    assert.equal(proxy.silencedOpen(), 0, 'the silent connection is still open');
    assert.equal(await inboxRow(lost.id), undefined);
    for (const stored of [queued, later]) assert.equal((await inboxRow(stored.id)).status, 'pending');
  } finally {
    await served.close();
    await proxy.close();
    await database.close();
  }
});

test('a commit that finds the only connection held by a silent statement answers 503 once the pool stops waiting', {
  timeout: 15_000,
}, async () => {
  const proxy = await silencingProxy(stack.database.url);
  const database = connect(proxy.url, { max: 1, connectionTimeoutMs: BOUND_MS });
  const served = await serveOwnInbox(database.pool);
  let unanswered: Promise<unknown> = Promise.resolve();
  try {
    assert.equal((await served.send(anEvent())).status, 200);
    proxy.silence();
    // A statement without a bound of its own, elsewhere in the process, now holds the pool's one connection.
    unanswered = database.pool.query('select 1').catch(() => {});
    const started = performance.now();
    await assertRefused(() => served.send(anEvent()), 503, 'inbox_unavailable');
    assert.ok(performance.now() - started < BOUND_MS + LATE_MS, 'the commit outlived the pool’s bound');
  } finally {
    await served.close();
    await proxy.close();
    await unanswered;
    await database.close();
  }
});

type LogLine = { level: number; msg: string; status?: number; code?: string; err?: { message?: string } };

/** The sync engine as the library wires it, on `database`, its log lines kept in `logged`. */
function loggingEngine(database: Database, logged: LogLine[]) {
  const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line)) });
  const { config } = stack.subledger;
  return createSyncEngine({
    database,
    config,
    stripe: null,
    livemode: false,
    metrics: new Metrics(),
    logger,
  });
}

test('the library handler given a body already read answers 500 body_already_read; each 5xx but refusals is logged once, with its cause', async () => {
  const logged: LogLine[] = [];
  const sync = loggingEngine(stack.database, logged);
  const event = anEvent();
  const payload = JSON.stringify(event);
  const delivery = (signature = sign(payload)) =>
    new Request(`${stack.url}/webhooks/stripe`, {
      method: 'POST',
      body: payload,
      headers: { 'stripe-signature': signature },
    });
  const read = delivery();
  await read.text();
  const locked = delivery();
  locked.body?.getReader();
  for (const request of [read, locked]) {
    const answer = await sync.handleWebhook(request);
    assert.equal(answer.status, 500);
    assert.equal(((await answer.json()) as Answer['body']).error?.code, 'body_already_read');
  }
  assert.equal((await sync.handleWebhook(delivery('t=1,v1=refused'))).status, 400);
  const gone = connect(stack.database.url);
  await gone.close();
  const outage = await loggingEngine(gone, logged).handleWebhook(delivery());
  assert.equal(outage.status, 503);

  assert.deepEqual(
    logged.map(({ level, status, code }) => ({ level, status, code })),
    [
      { level: 50, status: 500, code: 'body_already_read' },
      { level: 50, status: 500, code: 'body_already_read' },
      { level: 40, status: 503, code: 'inbox_unavailable' },
    ],
  );
  assert.match(logged[2]?.err?.message ?? '', /pool/, 'the outage’s line names its cause');
  const lines = JSON.stringify(logged);
  for (const kept of [secret(), 'v1=', event.data.object.email])
    assert.ok(!lines.includes(kept), `the log holds ${kept}`);
  assert.equal(await inboxRow(event.id), undefined);
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
