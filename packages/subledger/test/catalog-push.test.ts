import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type Stripe from 'stripe';
import { type RunningEmulator, startEmulator } from 'stripe-emulator';
import {
  applyChanges,
  type Catalog,
  demoCatalog,
  describeChange,
  diffCatalog,
  PLAN_METADATA_KEY,
  pushCatalog,
} from '../src/catalog/index.ts';
import { EMULATOR_KEY } from '../src/cli/local-stripe.ts';
import { createStripeClient } from '../src/stripe/index.ts';
import { runCli } from './support/run-cli.ts';

type Counted = { stripe: Stripe; writes: () => number; emulator: RunningEmulator };

/** A fresh emulator and the project's Stripe client on it, counting the writes it sends. */
async function freshStripe(): Promise<Counted> {
  const emulator = await startEmulator({ port: 0, seed: 11 });
  let writes = 0;
  const stripe = createStripeClient({
    secretKey: EMULATOR_KEY,
    apiBase: emulator.url,
    onResponse: ({ method }) => {
      if (method !== 'GET') writes += 1;
    },
  });
  return { stripe, writes: () => writes, emulator };
}

async function withStripe(test: (counted: Counted) => Promise<void>) {
  const counted = await freshStripe();
  try {
    await test(counted);
  } finally {
    await counted.emulator.close();
  }
}

const managedProducts = async (stripe: Stripe) =>
  (await stripe.products.list({ limit: 100 }).autoPagingToArray({ limit: 1000 })).filter(
    (product) => PLAN_METADATA_KEY in product.metadata,
  );
const priceKeyed = async (stripe: Stripe, lookupKey: string) =>
  (await stripe.prices.list({ lookup_keys: [lookupKey] })).data[0];
const productOfPlan = async (stripe: Stripe, plan: string) =>
  (await managedProducts(stripe)).find((product) => product.metadata[PLAN_METADATA_KEY] === plan)
    ?.id as string;

async function assertInSync(stripe: Stripe, catalog: Catalog = demoCatalog) {
  assert.deepEqual((await diffCatalog(stripe, catalog)).map(describeChange), []);
}

describe('catalog push against the emulator', () => {
  it('creates every product, price, feature and attachment in an empty Stripe', () =>
    withStripe(async ({ stripe, writes }) => {
      const changes = await pushCatalog(stripe, demoCatalog);
      assert.equal(changes.length, 17);
      assert.equal(writes(), 17);
      const products = await managedProducts(stripe);
      assert.deepEqual(products.map((product) => product.metadata[PLAN_METADATA_KEY]).sort(), [
        'free',
        'pro',
        'starter',
      ]);
      const proMonthly = await priceKeyed(stripe, 'pro_monthly');
      assert.equal(proMonthly?.unit_amount, 2900);
      assert.equal(proMonthly?.recurring?.interval, 'month');
      assert.equal(proMonthly?.product, await productOfPlan(stripe, 'pro'));
      const features = await stripe.entitlements.features.list({ limit: 100 });
      assert.deepEqual(features.data.map((feature) => feature.lookup_key).sort(), [
        'ai_credits',
        'api_calls',
        'sso',
      ]);
      const attached = await stripe.products.listFeatures(await productOfPlan(stripe, 'pro'));
      assert.deepEqual(attached.data.map((entry) => entry.entitlement_feature.lookup_key).sort(), [
        'ai_credits',
        'api_calls',
        'sso',
      ]);
    }));

  it('writes nothing on a second push, or on a dry run', () =>
    withStripe(async ({ stripe, writes }) => {
      assert.equal((await pushCatalog(stripe, demoCatalog, { dryRun: true })).length, 17);
      assert.equal(writes(), 0);
      await pushCatalog(stripe, demoCatalog);
      const afterFirst = writes();
      assert.deepEqual(await pushCatalog(stripe, demoCatalog), []);
      assert.equal(writes(), afterFirst);
    }));

  it('reports a price changed in the dashboard and gives the lookup key back to the original', () =>
    withStripe(async ({ stripe }) => {
      await pushCatalog(stripe, demoCatalog);
      const original = await priceKeyed(stripe, 'pro_monthly');
      const edited = await stripe.prices.create({
        product: original?.product as string,
        unit_amount: 3500,
        currency: 'usd',
        recurring: { interval: 'month' },
        lookup_key: 'pro_monthly',
        transfer_lookup_key: true,
      });
      assert.deepEqual((await diffCatalog(stripe, demoCatalog)).map(describeChange), [
        `~ price pro_monthly: 3500 usd/month → 2900 usd/month (${original?.id} with 2900 usd/month takes it back; ${edited.id} archived)`,
      ]);
      await pushCatalog(stripe, demoCatalog);
      await assertInSync(stripe);
      assert.equal((await priceKeyed(stripe, 'pro_monthly'))?.id, original?.id);
      assert.equal((await stripe.prices.retrieve(edited.id)).active, false);
    }));

  it('undoes the same dashboard edit twice in a day, though Stripe replays the first answer', () =>
    withStripe(async ({ stripe }) => {
      await pushCatalog(stripe, demoCatalog);
      const pro = await productOfPlan(stripe, 'pro');
      for (const round of [1, 2]) {
        await stripe.products.update(pro, { name: 'Pro (edited)' });
        const attached = (await stripe.products.listFeatures(pro)).data.find(
          (e) => e.entitlement_feature.lookup_key === 'sso',
        );
        await stripe.products.deleteFeature(pro, attached?.id as string);
        assert.equal((await pushCatalog(stripe, demoCatalog)).length, 2, `round ${round}`);
        await assertInSync(stripe);
      }
    }));

  it('finishes a push that crashed part way, creating nothing twice', () =>
    withStripe(async ({ stripe }) => {
      let applied = 0;
      const crash = (): void => {
        applied += 1;
        if (applied === 7) throw new Error('crashed');
      };
      await assert.rejects(pushCatalog(stripe, demoCatalog, { onApplied: crash }), /crashed/);
      assert.equal((await pushCatalog(stripe, demoCatalog)).length, 10);
      await assertInSync(stripe);
      assert.equal((await managedProducts(stripe)).length, 3);
      assert.equal((await stripe.prices.list({ limit: 100 })).data.length, 4);
    }));

  it('makes the changes once when two pushes apply the same plan', () =>
    withStripe(async ({ stripe }) => {
      const changes = await diffCatalog(stripe, demoCatalog);
      await applyChanges(stripe, changes);
      await applyChanges(stripe, changes);
      await assertInSync(stripe);
      assert.equal((await managedProducts(stripe)).length, 3);
      assert.equal((await stripe.prices.list({ limit: 100 })).data.length, 4);
      assert.equal((await stripe.entitlements.features.list({ limit: 100 })).data.length, 3);
    }));
});

describe('subledger catalog', () => {
  let emulator: RunningEmulator;
  let directory: string;
  let environment: Record<string, string>;
  before(async () => {
    emulator = await startEmulator({ port: 0, seed: 12 });
    directory = await mkdtemp(join(tmpdir(), 'subledger-catalog-'));
    environment = { STRIPE_SECRET_KEY: EMULATOR_KEY, STRIPE_API_BASE: emulator.url };
  });
  after(async () => {
    await emulator.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('diffs (exit 2), dry-runs (writes nothing), pushes, and diffs clean (exit 0)', async () => {
    const diff = await runCli(['catalog', 'diff'], environment);
    assert.equal(diff.code, 2, diff.stderr);
    assert.match(diff.stdout, /^\+ price pro_monthly 2900 usd\/month \(plan pro\)$/m);
    assert.match(diff.stdout, /^catalog diff: 17 changes \(17 to create\)$/m);
    assert.equal(diff.stderr.trim().split('\n').length, 1, diff.stderr);
    const dryRun = await runCli(['catalog', 'push', '--dry-run'], environment);
    assert.equal(dryRun.code, 0, dryRun.stderr);
    assert.match(dryRun.stdout, /nothing written$/m);
    assert.equal((await runCli(['catalog', 'diff'], environment)).code, 2, 'the dry run wrote nothing');
    const push = await runCli(['catalog', 'push'], environment);
    assert.equal(push.code, 0, push.stderr);
    assert.equal(push.stdout.trim().split('\n').length, 18);
    const clean = await runCli(['catalog', 'diff'], environment);
    assert.deepEqual([clean.code, clean.stdout.trim()], [0, 'catalog diff: Stripe holds the catalog']);
  });

  it("pushes the app's catalog module, given by --catalog or SUBLEDGER_CATALOG", async () => {
    const definition = JSON.stringify({
      features: { exports: { type: 'boolean', name: 'Exports' } },
      plans: { team: { name: 'Team', features: { exports: true } } },
    });
    // The app's way: a TypeScript module calling defineCatalog; and a plain JavaScript object.
    const typescript = join(directory, 'catalog.ts');
    const library = new URL('../src/catalog/index.ts', import.meta.url).href;
    await writeFile(
      typescript,
      `import { defineCatalog } from '${library}';\nexport default defineCatalog(${definition});\n`,
    );
    const plain = join(directory, 'catalog.mjs');
    await writeFile(plain, `export default ${definition};\n`);
    const push = await runCli(['catalog', 'push', '--catalog', typescript], environment);
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stdout, /^\+ product team "Team"$/m);
    const diff = await runCli(['catalog', 'diff'], { ...environment, SUBLEDGER_CATALOG: plain });
    assert.deepEqual([diff.code, diff.stdout.trim()], [0, 'catalog diff: Stripe holds the catalog']);
  });

  it('fails with one clear line on a bad catalog, a missing module or no key', async () => {
    const file = join(directory, 'bad.mjs');
    await writeFile(
      file,
      'export default { features: {}, plans: { pro: { name: "Pro", trialDays: 900 } } };\n',
    );
    const cases: [string[], Record<string, string>, RegExp][] = [
      [
        ['catalog', 'diff', '--catalog', file],
        environment,
        /^subledger: catalog_invalid: invalid catalog: plans\.pro\.trialDays: must be at most 730$/,
      ],
      [
        ['catalog', 'diff', '--catalog', join(directory, 'absent.ts')],
        environment,
        /^subledger: catalog_invalid: cannot load the catalog module .*absent\.ts: /,
      ],
      [
        ['catalog', 'push'],
        { SUBLEDGER_CATALOG: 'catalog.json' },
        /^subledger: config_invalid: SUBLEDGER_CATALOG must be the path of a \.ts or \.js module/,
      ],
      [
        ['catalog', 'push'],
        {},
        /^subledger: stripe_not_configured: STRIPE_SECRET_KEY is required for catalog push/,
      ],
    ];
    for (const [args, env, message] of cases) {
      const result = await runCli(args, env);
      assert.equal(result.code, 78, result.stderr);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr.trim(), message);
    }
  });

  it('documents both commands', async () => {
    const help = await runCli(['catalog', '--help'], {});
    assert.equal(help.code, 0);
    assert.match(help.stdout, /push/);
    assert.match(help.stdout, /diff/);
    const push = await runCli(['catalog', 'push', '--help'], {});
    assert.match(push.stdout, /--dry-run/);
    assert.match(push.stdout, /--catalog <module>/);
  });
});
