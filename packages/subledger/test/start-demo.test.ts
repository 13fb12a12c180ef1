import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  freshDataDir,
  type LogLine,
  newcomerEnvironment,
  readKey,
  start,
  withKey,
} from './support/started.ts';

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
