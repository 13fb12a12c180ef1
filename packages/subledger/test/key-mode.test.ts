import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../src/config/index.ts';
import { isLiveKey } from '../src/stripe/key-mode.ts';
import { defaultPlace } from '../src/sync/index.ts';
import { createLogger, Metrics } from '../src/telemetry/index.ts';
import { syncParts } from '../src/workers.ts';

// The config accepts `_` after the prefix, and Stripe (like the emulator) takes the mode from the prefix:
// `sk_test_shop_live_mirror` is a test key whose text holds `_live_`.
const KEYS: [string | undefined, boolean][] = [
  ['sk_live_51Abc', true],
  ['rk_live_51Abc', true],
  ['sk_live_shop_test_mirror', true],
  ['sk_test_51Abc', false],
  ['rk_test_51Abc', false],
  ['sk_test_shop_live_mirror', false],
  ['rk_test_live_', false],
  [undefined, false],
];

for (const [key, live] of KEYS)
  test(`${key ?? 'no key'} is ${live ? 'live' : 'test'}, for the config, the place and the engine alike`, () => {
    const config = loadConfig({
      ...(key ? { STRIPE_SECRET_KEY: key } : {}),
      STRIPE_WEBHOOK_SECRET: 'whsec_unprefixed',
    });
    const parts = syncParts(config, { pool: {} } as never, new Metrics(), createLogger('silent'));
    assert.deepEqual(
      {
        key: isLiveKey(key),
        unprefixedSecret: config.webhookSecrets[0]?.livemode,
        place: defaultPlace(key).livemode,
        engine: parts.livemode,
        enginePlace: parts.place.livemode,
      },
      { key: live, unprefixedSecret: live, place: live, engine: live, enginePlace: live },
    );
  });
