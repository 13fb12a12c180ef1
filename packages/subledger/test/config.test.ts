import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/index.ts';

const secretsOf = (environment: Record<string, string>) => {
  const config = loadConfig(environment);
  return { platform: config.webhookSecrets, connect: config.connectWebhookSecrets };
};

test('each webhook secret has a mode: its prefix, else that of STRIPE_SECRET_KEY (test without one)', () => {
  const listed = 'whsec_a, live:whsec_b,test:whsec_c,,';
  const keyless = secretsOf({ STRIPE_WEBHOOK_SECRET: listed, STRIPE_CONNECT_WEBHOOK_SECRET: 'whsec_d' });
  assert.deepEqual(keyless.platform, [
    { secret: 'whsec_a', livemode: false },
    { secret: 'whsec_b', livemode: true },
    { secret: 'whsec_c', livemode: false },
  ]);
  assert.deepEqual(keyless.connect, [{ secret: 'whsec_d', livemode: false }]);
  const live = secretsOf({ STRIPE_SECRET_KEY: 'sk_live_1', STRIPE_WEBHOOK_SECRET: listed });
  assert.deepEqual(
    live.platform.map((entry) => entry.livemode),
    [true, true, false],
  );
  assert.deepEqual(secretsOf({}).platform, []);
});

test('a webhook secret with a bad prefix stops the start with a coded error that does not show it', () => {
  for (const variable of ['STRIPE_WEBHOOK_SECRET', 'STRIPE_CONNECT_WEBHOOK_SECRET'])
    for (const entry of [
      'prod:whsec_s3cr3t',
      'Live:whsec_s3cr3t',
      'test:',
      'test: whsec_s3cr3t',
      'live:test:whsec_s3cr3t',
    ])
      assert.throws(
        () => loadConfig({ [variable]: `whsec_fine,${entry}` }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.code === 'config_invalid' &&
          error.message.startsWith(`${variable} `) &&
          /test: or live:/.test(error.message) &&
          !error.message.includes('s3cr3t'),
      );
});

test('numbers out of their range stop the start with a line naming the variable', () => {
  const refused: [string, string, RegExp][] = [
    ['PORT', '70000', /^PORT must be a port number \(0 to 65535\)$/],
    [
      'SUBLEDGER_EMBEDDED_PG_PORT',
      '70000',
      /^SUBLEDGER_EMBEDDED_PG_PORT must be a port number \(1 to 65535\)$/,
    ],
    ['SUBLEDGER_EMBEDDED_PG_PORT', '0', /^SUBLEDGER_EMBEDDED_PG_PORT must be a port number/],
    [
      'SUBLEDGER_RECONCILE_MINUTES',
      '10080',
      /^SUBLEDGER_RECONCILE_MINUTES must be at most 1440 \(once a day\)/,
    ],
    ['SUBLEDGER_WORKER_BATCH', '10000000000000000000', /^SUBLEDGER_WORKER_BATCH must be at most 100000/],
  ];
  for (const [variable, value, message] of refused)
    assert.throws(
      () => loadConfig({ [variable]: value }),
      (error: unknown) => error instanceof ConfigError && message.test(error.message),
      variable,
    );
  const edges = loadConfig({
    PORT: '0',
    SUBLEDGER_EMBEDDED_PG_PORT: '65535',
    SUBLEDGER_RECONCILE_MINUTES: '1440',
    SUBLEDGER_WORKER_BATCH: '100000',
  });
  assert.deepEqual(
    [edges.port, edges.embeddedPostgresPort, edges.reconcileEveryMinutes, edges.workerBatchSize],
    [0, 65_535, 1440, 100_000],
  );
});

test('account keys Stripe could never set in metadata, or listed by mistake, stop the start naming the variable', () => {
  const refused: [string, RegExp][] = [
    ['buildingId,org[id]', /^SUBLEDGER_ACCOUNT_KEYS lists "org\[id\]": Stripe refuses \[ and \]/],
    [
      'k'.repeat(41),
      /^SUBLEDGER_ACCOUNT_KEYS lists "k{41}": Stripe allows a metadata key at most 40 characters/,
    ],
    [
      'client_reference_id',
      /^SUBLEDGER_ACCOUNT_KEYS lists "client_reference_id": the session's own .* is always read/,
    ],
    ['buildingId, orgId,buildingId', /^SUBLEDGER_ACCOUNT_KEYS lists "buildingId" twice$/],
  ];
  for (const [keys, message] of refused)
    assert.throws(
      () => loadConfig({ SUBLEDGER_ACCOUNT_KEYS: keys }),
      (error: unknown) => error instanceof ConfigError && message.test(error.message),
      keys,
    );
  const longest = 'k'.repeat(40);
  assert.deepEqual(loadConfig({ SUBLEDGER_ACCOUNT_KEYS: ` buildingId,${longest} ` }).accountKeys, [
    'buildingId',
    longest,
  ]);
  assert.deepEqual(loadConfig({}).accountKeys, ['subledger_account_id']);
});
