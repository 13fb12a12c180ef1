import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type Stripe from 'stripe';
import { startEmulator } from 'stripe-emulator';
import { NODE_FLAGS } from '../src/cli/node-flags.ts';
import { startEmbeddedPostgres } from '../src/store/embedded.ts';
import { freePort } from './support/database.ts';
import {
  appliedCount,
  emulatorOf,
  freshDataDir,
  type LogLine,
  newcomerEnvironment,
  readKey,
  start,
  startFresh,
  untilApplied,
  withKey,
} from './support/started.ts';

test('with no Stripe key, start runs against the in-process emulator end to end, and stops on SIGTERM', {
  timeout: 120_000,
}, async () => {
  const { child, port, lines, logged } = await startFresh();
  const announced = await logged(/No STRIPE_SECRET_KEY/);
  assert.equal(lines.indexOf(announced), 0, 'the emulator is announced in the first log line');
  await logged(/Subledger is listening/);
  // Started as `node bin/subledger.js`, not through the bin: told what it goes without.
  assert.deepEqual((await logged(/without the V8 settings/)).missing, [...NODE_FLAGS]);
  assert.deepEqual(await (await fetch(`http://127.0.0.1:${port}/readyz`)).json(), { ready: true });

  await emulatorOf(announced).customers.create({ email: 'first-run@example.com' });
  const metrics = await untilApplied(port);
  // The emulator's webhooks were stored: their inbox commits and waits are measured.
  assert.match(metrics, /subledger_inbox_commit_seconds_count [1-9]/);
  assert.match(metrics, /subledger_inbox_wait_seconds_count [1-9]/);
  assert.match(metrics, /subledger_inbox_commit_events_sum [1-9]/);

  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  assert.ok(lines.some((line) => /Shutting down/.test(line.msg)));
});

test('a keyless start with STRIPE_WEBHOOK_SECRET set still registers at its emulator, says so first, and warns', {
  timeout: 120_000,
}, async () => {
  const leftOver = 'whsec_left_over_from_another_project';
  const environment = {
    ...(await newcomerEnvironment(await freshDataDir())),
    SUBLEDGER_DEMO: '0',
    STRIPE_WEBHOOK_SECRET: leftOver,
  };
  const { port, lines, logged, stop } = await start(environment, NODE_FLAGS);
  await logged(/Subledger is listening/);
  const [announced, warned] = lines as [LogLine, LogLine];
  assert.match(announced.msg, /No STRIPE_SECRET_KEY/, 'the emulator is announced in the first log line');
  assert.match(warned.msg, /cannot be the in-process emulator’s/);
  await emulatorOf(announced).customers.create({ email: 'left-over-secret@example.com' });
  await untilApplied(port);
  await stop();
  assert.ok(
    lines.every((line) => !JSON.stringify(line).includes(leftOver)),
    'the secret is never logged',
  );
});

test('a keyless start at STRIPE_API_BASE replaces the endpoints earlier starts registered for its URL or a dead port, and only those', {
  timeout: 120_000,
}, async () => {
  const external = await startEmulator({ port: 0, hostname: '127.0.0.1' });
  const stripe = emulatorOf({ stripe: external.url });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/webhooks/stripe`;
  const enabled_events: Stripe.WebhookEndpointCreateParams.EnabledEvent[] = ['*'];
  const byHand = await stripe.webhookEndpoints.create({ url, enabled_events });
  const description = 'Subledger (registered by subledger start)';
  // A start's endpoint for another server that still runs, one for a port nothing listens on any more,
  // and, for this URL, one of a start that did not mark it yet.
  const running = createServer().listen(0, '127.0.0.1');
  await once(running, 'listening');
  const otherUrl = `http://127.0.0.1:${(running.address() as AddressInfo).port}/webhooks/stripe`;
  const other = await stripe.webhookEndpoints.create({ url: otherUrl, enabled_events, description });
  const deadUrl = `http://127.0.0.1:${await freePort()}/webhooks/stripe`;
  const dead = await stripe.webhookEndpoints.create({ url: deadUrl, enabled_events, description });
  const unmarked = await stripe.webhookEndpoints.create({ url, enabled_events, description });
  const environment = {
    ...(await newcomerEnvironment(await freshDataDir())),
    SUBLEDGER_DEMO: '0',
    STRIPE_API_BASE: external.url,
  };
  const ids = async () => (await stripe.webhookEndpoints.list({ limit: 100 })).data.map(({ id }) => id);
  const removedBy = (lines: LogLine[]) =>
    lines.find((line) => /^Removed the webhook/.test(line.msg))?.removed as string[] | undefined;
  try {
    const first = await start(environment, NODE_FLAGS, port);
    await first.logged(/Subledger is listening/);
    const [registered] = (await ids()).filter((id) => id !== byHand.id && id !== other.id);
    await first.stop();
    const second = await start(environment, NODE_FLAGS, port);
    await second.logged(/Subledger is listening/);
    const left = (await ids()).filter((id) => id !== byHand.id && id !== other.id);
    assert.equal(left.length, 1, 'one endpoint of a start for the URL, beside the two not its own');
    assert.notEqual(left[0], registered);
    assert.deepEqual(
      [removedBy(first.lines)?.sort(), removedBy(second.lines)],
      [[dead.id, unmarked.id].sort(), [registered]],
    );
    await stripe.customers.create({ email: 'restarted@example.com' });
    await untilApplied(second.port);
    await second.stop();
  } finally {
    running.close();
    await external.close();
  }
});

test('SUBLEDGER_DEMO=0: a keyless start leaves the emulator empty', async () => {
  const environment = { ...(await newcomerEnvironment(await freshDataDir())), SUBLEDGER_DEMO: '0' };
  const { port, lines, logged, stop } = await start(environment, NODE_FLAGS);
  const announced = await logged(/No STRIPE_SECRET_KEY/);
  await logged(/Subledger is listening/);
  // The demo would begin right after this line, and it is done in about 200 ms.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const stripe = emulatorOf(announced);
  assert.deepEqual((await stripe.products.list()).data, []);
  assert.deepEqual((await stripe.customers.list()).data, []);
  const key = await readKey(environment);
  assert.equal((await fetch(`http://127.0.0.1:${port}/v1/accounts/demo_active`, withKey(key))).status, 404);
  await stop();
  assert.ok(lines.every((line) => !/^Demo/.test(line.msg)));
  assert.ok(
    lines.every((line) => !/without the V8 settings/.test(line.msg)),
    'given the settings, no warning',
  );
});

test('a start sharing the embedded cluster starts it again when it goes: stopped by its starter, or killed', {
  timeout: 120_000,
}, async () => {
  const { environment, options } = await clusterOfItsOwn();
  const { dataDir } = options;
  // Another `subledger` process (a backfill, say) started the cluster first.
  const first = await startEmbeddedPostgres(options);
  const { port, logged, stop } = await start(environment, NODE_FLAGS);
  const announced = await logged(/No STRIPE_SECRET_KEY/);
  await logged(/Subledger is listening/);

  await first.stop();
  assert.equal((await logged(/embedded PostgreSQL was stopped/)).msg, TAKEN_OVER);
  const stripe = emulatorOf(announced);
  await stripe.customers.create({ email: 'after-the-takeover@example.com' });
  const applied = appliedCount(await untilApplied(port));

  // Now the start owns the server; it dies under it (the OOM killer, say).
  const pidFile = await readFile(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8');
  process.kill(Number(pidFile.split('\n')[0]), 'SIGKILL');
  assert.equal(
    (await logged(/server this process started exited/)).msg,
    'the embedded PostgreSQL server this process started exited; started it again here',
  );
  await stripe.customers.create({ email: 'after-the-kill@example.com' });
  await untilApplied(port, applied);
  assert.deepEqual(await (await fetch(`http://127.0.0.1:${port}/readyz`)).json(), { ready: true });

  await stop();
  const after = await startEmbeddedPostgres(options);
  assert.equal(after.owned, true, 'the start that took it over stopped it on exit');
  await after.stop();
});

/** A newcomer's environment (no demo) whose embedded cluster the test knows, to start or join it. */
async function clusterOfItsOwn() {
  const dataDir = await freshDataDir();
  const port = await freePort();
  const environment = {
    ...(await newcomerEnvironment(dataDir)),
    SUBLEDGER_DEMO: '0',
    SUBLEDGER_EMBEDDED_PG_PORT: String(port),
  };
  return { environment, options: { dataDir, port, database: 'subledger' } };
}

const TAKEN_OVER = 'embedded PostgreSQL was stopped by the process that started it; started it again here';

test('SIGHUP shuts down as SIGTERM does; a second signal exits at once, and the cluster it started stops', {
  timeout: 120_000,
}, async () => {
  const { environment, options } = await clusterOfItsOwn();
  const { child, logged } = await start(environment, NODE_FLAGS);
  await logged(/Subledger is listening/);
  const exited = once(child, 'exit');
  // Sent together, so the second is taken while the first one's shutdown runs (in either order).
  child.kill('SIGHUP');
  child.kill('SIGINT');
  const [code] = await exited;
  const first = (await logged(/Shutting down/)).reason;
  const again = (await logged(/again: exiting now/)).signal as 'SIGHUP' | 'SIGINT';
  assert.deepEqual([first, again].sort(), ['SIGHUP', 'SIGINT']);
  assert.equal(code, 128 + os.constants.signals[again], 'exited at once, with 128 + its number');

  const after = await startEmbeddedPostgres(options);
  assert.equal(after.owned, true, 'the cluster the start owned was stopped, not left running');
  await after.stop();
});

test('a SIGTERM while starting stops the start once it runs, gracefully', { timeout: 120_000 }, async () => {
  const { child, logged } = await start({
    ...(await newcomerEnvironment(await freshDataDir())),
    SUBLEDGER_DEMO: '0',
  });
  const exited = once(child, 'exit');
  // Its first line comes before the workers' thread is started.
  await logged(/No STRIPE_SECRET_KEY/);
  child.kill('SIGTERM');
  const [code] = await exited;
  assert.equal(code, 0);
  await logged(/^SIGTERM while starting: stopping once started/);
  assert.equal((await logged(/Shutting down/)).reason, 'SIGTERM');
});

test('a start with a Stripe key and no STRIPE_WEBHOOK_SECRET warns, and its endpoint answers 503 webhook_secret_missing', {
  timeout: 120_000,
}, async () => {
  const stripe = await startEmulator({ port: 0, hostname: '127.0.0.1' });
  const environment = {
    ...(await newcomerEnvironment(await freshDataDir())),
    STRIPE_SECRET_KEY: 'sk_test_no_secret',
    STRIPE_API_BASE: stripe.url,
  };
  try {
    const { port, logged, stop } = await start(environment, NODE_FLAGS);
    await logged(/Subledger is listening/);
    await logged(/^STRIPE_WEBHOOK_SECRET is not set: POST \/webhooks\/stripe answers every delivery 503/);
    const answer = await fetch(`http://127.0.0.1:${port}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'stripe-signature': `t=${Math.floor(Date.now() / 1000)},v1=00` },
      body: JSON.stringify({ id: 'evt_1', object: 'event' }),
    });
    assert.equal(answer.status, 503);
    assert.equal(((await answer.json()) as { error: { code: string } }).error.code, 'webhook_secret_missing');
    await stop();
  } finally {
    await stripe.close();
  }
});
