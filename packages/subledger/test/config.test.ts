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
