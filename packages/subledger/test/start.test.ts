import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';
import { startEmulator } from 'stripe-emulator';
import { NODE_FLAGS } from '../src/cli/node-flags.ts';
import { freePort } from './support/database.ts';

const BIN = fileURLToPath(new URL('../bin/subledger.js', import.meta.url));
const folders: string[] = [];
const running = new Set<ChildProcess>();
// A test that failed midway leaves its server running: stopped as the user would, its cluster with it.
after(async () => {
  const exits = [...running].map((child) => once(child, 'exit'));
  for (const child of running) child.kill('SIGTERM');
  await Promise.all(exits);
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

type LogLine = { msg: string; [field: string]: unknown };

/** A fresh data dir, as a newcomer's first `npm start` finds it. */
async function freshDataDir(): Promise<string> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'subledger-start-'));
  await chmod(dataDir, 0o755);
  folders.push(dataDir);
  return dataDir;
}

/** The environment of a newcomer's `start`: no Stripe key, no DATABASE_URL, nothing else. */
async function newcomerEnvironment(dataDir: string): Promise<Record<string, string | undefined>> {
  const environment: Record<string, string | undefined> = {
    ...process.env,
    SUBLEDGER_DATA_DIR: dataDir,
    SUBLEDGER_EMBEDDED_PG_PORT: String(await freePort()),
  };
  for (const name of [
    'DATABASE_URL',
    'STRIPE_SECRET_KEY',
    'STRIPE_API_BASE',
    'STRIPE_WEBHOOK_SECRET',
    'SUBLEDGER_CATALOG',
    'SUBLEDGER_DEMO',
  ])
    delete environment[name];
  return environment;
}

/** `subledger start` as a newcomer runs it: no Stripe key, no DATABASE_URL, nothing else. */
async function startFresh() {
  return start(await newcomerEnvironment(await freshDataDir()));
}

/**
 * `nodeFlags`: given to node itself, as the bin's `#!` line does; `node bin/subledger.js` gives none.
 * `port`: the server's, free by default.
 */
async function start(
  environment: Record<string, string | undefined>,
  nodeFlags: readonly string[] = [],
  port?: number,
) {
  port ??= await freePort();
  const child = spawn(process.execPath, [...nodeFlags, BIN, 'start', '--port', String(port)], {
    env: environment,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const lines: LogLine[] = [];
  const waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as LogLine;
    lines.push(line);
    for (const waiter of waiters.filter((candidate) => candidate.match(line))) waiter.resolve(line);
  });
  const logged = (pattern: RegExp) =>
    new Promise<LogLine>((resolve) => {
      const found = lines.find((line) => pattern.test(line.msg));
      if (found) resolve(found);
      else waiters.push({ match: (line) => pattern.test(line.msg), resolve });
    });
  /** SIGTERM, as a newcomer's Ctrl-C or a deploy does; the process must exit cleanly. */
  const stop = async () => {
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  };
  return { child, port, lines, logged, stop };
}

/** Polls `/metrics` until an event is settled as applied (the emulator's webhooks reached the mirror). */
async function untilApplied(port: number): Promise<string> {
  const settled = /subledger_events_settled_total\{outcome="applied"\} [1-9]/;
  let metrics = '';
  for (let attempt = 0; attempt < 100 && !settled.test(metrics); attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  }
  assert.match(metrics, settled);
  return metrics;
}

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

test('a keyless start at STRIPE_API_BASE replaces the endpoint an earlier start registered for its URL, and only that', {
  timeout: 120_000,
}, async () => {
  const external = await startEmulator({ port: 0, hostname: '127.0.0.1' });
  const stripe = emulatorOf({ stripe: external.url });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/webhooks/stripe`;
  const enabled_events: Stripe.WebhookEndpointCreateParams.EnabledEvent[] = ['*'];
  const byHand = await stripe.webhookEndpoints.create({ url, enabled_events });
  const description = 'Subledger (registered by subledger start)';
  // A start's endpoint for another server's URL; and, for this URL, one of a start that did not mark it yet.
  const otherUrl = 'http://127.0.0.1:1/webhooks/stripe';
  const other = await stripe.webhookEndpoints.create({ url: otherUrl, enabled_events, description });
  const unmarked = await stripe.webhookEndpoints.create({ url, enabled_events, description });
  const environment = {
    ...(await newcomerEnvironment(await freshDataDir())),
    SUBLEDGER_DEMO: '0',
    STRIPE_API_BASE: external.url,
  };
  const ids = async () => (await stripe.webhookEndpoints.list({ limit: 100 })).data.map(({ id }) => id);
  const removedBy = (lines: LogLine[]) =>
    lines.find((line) => /^Removed the webhook/.test(line.msg))?.removed;
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
    assert.deepEqual([removedBy(first.lines), removedBy(second.lines)], [[unmarked.id], [registered]]);
    await stripe.customers.create({ email: 'restarted@example.com' });
    await untilApplied(second.port);
    await second.stop();
  } finally {
    await external.close();
  }
});

/** A read key made as the README says: `subledger keys create --scope read`, its last line. */
async function readKey(environment: Record<string, string | undefined>): Promise<string> {
  const child = spawn(process.execPath, [BIN, 'keys', 'create', '--scope', 'read'], {
    env: environment,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  return output.trim().split('\n').at(-1) as string;
}

const withKey = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

type DemoReady = LogLine & {
  plans: string[];
  accounts: Record<string, { access: string; subscription: string }>;
  look: string;
};

type AccountBody = {
  customer: { id: string } | null;
  subscriptions: { id: string; status: string | null }[];
};

/** Polls the mirror's view of an account until it shows `subscription` in `status`; fails at the deadline. */
async function untilSubscription(
  port: number,
  accountId: string,
  subscription: string,
  status: string,
  key: string,
): Promise<AccountBody> {
  const url = `http://127.0.0.1:${port}/v1/accounts/${accountId}`;
  const deadline = Date.now() + 20_000;
  let last: unknown;
  while (Date.now() < deadline) {
    const response = await fetch(url, withKey(key));
    last = await response.json();
    const body = last as AccountBody;
    const shown = response.ok && body.subscriptions.find((candidate) => candidate.id === subscription);
    if (shown && shown.status === status) return body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(
    `GET /v1/accounts/${accountId} never showed ${subscription} ${status}: ${JSON.stringify(last)}`,
  );
}

const DEMO_ACCOUNT_IDS = [
  'demo_active',
  'demo_canceled',
  'demo_canceling',
  'demo_incomplete',
  'demo_past_due',
  'demo_trialing',
];

test('a keyless start fills the emulator with the demo; a restart links the demo accounts to its customers', async () => {
  const environment = await newcomerEnvironment(await freshDataDir());
  const first = await start(environment);
  const ready = (await first.logged(/^Demo ready/)) as DemoReady;
  assert.deepEqual(ready.plans, ['free', 'starter', 'pro']);
  assert.deepEqual(Object.keys(ready.accounts).sort(), DEMO_ACCOUNT_IDS);
  assert.equal(ready.look, `http://127.0.0.1:${first.port}/v1/accounts/demo_active/entitlements`);
  const key = await readKey(environment);
  assert.equal((await fetch(ready.look)).status, 401, 'the API answers only to a key');
  const subscriptionOf = (line: DemoReady, accountId: string) =>
    String(line.accounts[accountId]?.subscription);
  const active = await untilSubscription(
    first.port,
    'demo_active',
    subscriptionOf(ready, 'demo_active'),
    'active',
    key,
  );
  const incomplete = subscriptionOf(ready, 'demo_incomplete');
  await untilSubscription(first.port, 'demo_incomplete', incomplete, 'incomplete', key);
  const entitlements = (await (await fetch(ready.look, withKey(key))).json()) as {
    state: string;
    plan: string;
    features: Record<string, { allowed: boolean }>;
  };
  assert.deepEqual([entitlements.state, entitlements.plan], ['active', 'pro']);
  assert.equal(entitlements.features.sso?.allowed, true, 'the pro plan gives single sign-on');
  await first.stop();

  // Same data dir, so the same mirror; the emulator is new, and so are its customers and subscriptions.
  const second = await start(environment);
  const again = (await second.logged(/^Demo ready/)) as DemoReady;
  const subscription = subscriptionOf(again, 'demo_active');
  assert.notEqual(subscription, subscriptionOf(ready, 'demo_active'));
  const relinked = await untilSubscription(second.port, 'demo_active', subscription, 'active', key);
  assert.notEqual(relinked.customer?.id, active.customer?.id, 'demo_active is linked to the new customer');
  assert.deepEqual(
    relinked.subscriptions.map((shown) => shown.id),
    [subscription],
    "the old customer's subscription is no longer the account's",
  );
  await second.stop();
  for (const line of [...first.lines, ...second.lines]) assert.doesNotMatch(line.msg, /Demo setup failed/);
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

/** The SDK on the emulator a keyless start announced in its first log line (or on any emulator). */
function emulatorOf(announced: Record<string, unknown>): Stripe {
  const emulator = new URL(String(announced.stripe));
  return new Stripe('sk_test_newcomer', {
    host: emulator.hostname,
    port: Number(emulator.port),
    protocol: 'http',
    telemetry: false,
  });
}
