import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CatalogError,
  defineCatalog,
  demoCatalog,
  isCatalog,
  parseCatalog,
  planFeature,
  planFeatures,
  planOfPrice,
  priceByLookupKey,
} from '../src/catalog/index.ts';

const features = {
  sso: { type: 'boolean', name: 'Single sign-on' },
  api_calls: { type: 'metered', name: 'API calls', period: 'month' },
  ai_credits: { type: 'credits', name: 'AI credits', period: 'month' },
} as const;

const pro = {
  name: 'Pro',
  prices: [
    { lookupKey: 'pro_monthly', unitAmount: 2000, currency: 'usd', interval: 'month' },
    { lookupKey: 'pro_yearly', unitAmount: 20000, currency: 'usd', interval: 'year' },
  ],
  trialDays: 14,
  features: { sso: true, api_calls: { limit: 10_000 }, ai_credits: { grant: 500, rollover: { cap: 1000 } } },
} as const;

type Edit = [path: string, value: unknown];

/** A valid catalog definition, with each edit's value put at its dotted path (undefined: removed). */
function valid(...edits: Edit[]): Record<string, unknown> {
  const input: Record<string, unknown> = structuredClone({
    features,
    plans: { pro, free: { name: 'Free' } },
  });
  for (const [path, value] of edits) {
    const keys = path.split('.');
    const last = keys.pop() as string;
    const parent = keys.reduce((node, key) => (node as Record<string, unknown>)[key], input as unknown);
    if (value === undefined) delete (parent as Record<string, unknown>)[last];
    else (parent as Record<string, unknown>)[last] = structuredClone(value);
  }
  return input;
}

/** The problems `parseCatalog` names for an input, as `path: message` lines. */
function problemsOf(input: unknown): string[] {
  try {
    parseCatalog(input);
  } catch (error) {
    assert.equal((error as CatalogError).code, 'catalog_invalid');
    return (error as CatalogError).issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  assert.fail('the catalog was accepted');
}

describe('defineCatalog', () => {
  it('returns a frozen catalog with every default filled in', () => {
    const catalog = defineCatalog({ features, plans: { pro, free: { name: 'Free' } } });
    assert.deepEqual(catalog.plans.free, {
      id: 'free',
      name: 'Free',
      description: null,
      trialDays: 0,
      prices: [],
      features: {},
    });
    assert.equal(catalog.plans.pro.prices[0]?.intervalCount, 1);
    assert.deepEqual(catalog.plans.pro.features.ai_credits, {
      id: 'ai_credits',
      type: 'credits',
      name: 'AI credits',
      period: 'month',
      grant: 500,
      rollover: { cap: 1000 },
    });
    assert.deepEqual(catalog.plans.pro.features.sso, { id: 'sso', type: 'boolean', name: 'Single sign-on' });
    assert.ok(Object.isFrozen(catalog) && Object.isFrozen(catalog.plans.pro.prices[0]));
    assert.throws(() => {
      (catalog.plans.pro as { name: string }).name = 'Changed';
    }, TypeError);
  });

  it('rejects an unknown feature in a plan at compile time too', () => {
    assert.throws(() =>
      defineCatalog({
        features: { sso: { type: 'boolean', name: 'SSO' } },
        // @ts-expect-error: `seo` is not a declared feature
        plans: { pro: { name: 'Pro', features: { seo: true } } },
      }),
    );
  });

  it('accepts a catalog it made, and a plain definition, through parseCatalog', () => {
    assert.equal(parseCatalog(demoCatalog), demoCatalog);
    const parsed = parseCatalog(valid());
    assert.ok(isCatalog(parsed));
    assert.ok(!isCatalog(valid()));
  });

  it('names the path of every problem in one error', () => {
    const shape = valid(
      ['plans.pro.prices.0.currency', 'USD'],
      ['plans.pro.trialDays', 800],
      ['features.sso.nmae', 'typo'],
    );
    assert.deepEqual(problemsOf(shape), [
      "features.sso: unknown key 'nmae'",
      'plans.pro.prices[0].currency: must be three lowercase letters (usd)',
      'plans.pro.trialDays: must be at most 730',
    ]);
    assert.throws(
      () => parseCatalog(shape),
      /^CatalogError: invalid catalog: features\.sso: unknown key 'nmae'; plans\.pro\.prices\[0\]\.currency: /,
    );
    // The cross-checks run once the shape is right, and report together too.
    const crossed = valid(
      ['plans.pro.features.api_calls', true],
      ['plans.free.features', { seo: true }],
      ['plans.free.prices', [pro.prices[1]]],
    );
    assert.equal(problemsOf(crossed).length, 3);
  });

  const ID_RULE =
    'must be a lowercase identifier (a-z, 0-9, _; starting with a letter; at most 64 characters)';
  const PERIODS = 'must be "day" or "week" or "month" or "year"';
  /** [what is wrong, where (dotted), the value put there (undefined: removed), the one problem named] */
  const cases: [string, string, unknown, string][] = [
    [
      'a plan names an unknown feature',
      'plans.pro.features.seo',
      true,
      "plans.pro.features.seo: unknown feature 'seo'; declare it under features",
    ],
    [
      'a metered feature without a limit',
      'plans.pro.features.api_calls',
      true,
      'plans.pro.features.api_calls: a metered feature needs a limit ({ limit: 1000 } or "unlimited")',
    ],
    [
      'a metered feature given a grant',
      'plans.pro.features.api_calls',
      { grant: 5 },
      'plans.pro.features.api_calls: a metered feature takes a limit, not a grant or rollover',
    ],
    [
      'a credits feature without a grant',
      'plans.pro.features.ai_credits',
      { rollover: { cap: 5 } },
      'plans.pro.features.ai_credits: a credits feature needs a grant ({ grant: 500 })',
    ],
    [
      'a credits feature given a limit',
      'plans.pro.features.ai_credits',
      { grant: 5, limit: 5 },
      'plans.pro.features.ai_credits: a credits feature takes a grant, not a limit',
    ],
    [
      'a boolean feature given a limit',
      'plans.pro.features.sso',
      { limit: 5 },
      'plans.pro.features.sso: a boolean feature takes true, not a limit or grant',
    ],
    [
      'a boolean feature given false',
      'plans.pro.features.sso',
      false,
      'plans.pro.features.sso: must be true, { limit }, or { grant }',
    ],
    [
      'a zero limit',
      'plans.pro.features.api_calls',
      { limit: 0 },
      'plans.pro.features.api_calls.limit: must be greater than 0',
    ],
    [
      'a limit in words',
      'plans.pro.features.api_calls',
      { limit: 'lots' },
      'plans.pro.features.api_calls.limit: must be a whole number greater than 0 or "unlimited"',
    ],
    [
      'a fractional grant',
      'plans.pro.features.ai_credits',
      { grant: 1.5 },
      'plans.pro.features.ai_credits.grant: must be a whole number',
    ],
    [
      'a zero rollover cap',
      'plans.pro.features.ai_credits',
      { grant: 5, rollover: { cap: 0 } },
      'plans.pro.features.ai_credits.rollover.cap: must be greater than 0',
    ],
    [
      'the same lookup key in two plans',
      'plans.free.prices',
      [pro.prices[0]],
      "plans.free.prices[0].lookupKey: 'pro_monthly' is already the lookup key of plans.pro.prices[0]",
    ],
    [
      'the same lookup key twice in a plan',
      'plans.pro.prices.1.lookupKey',
      'pro_monthly',
      "plans.pro.prices[1].lookupKey: 'pro_monthly' is already the lookup key of plans.pro.prices[0]",
    ],
    [
      'a lookup key with a space',
      'plans.pro.prices.0.lookupKey',
      'pro monthly',
      'plans.pro.prices[0].lookupKey: must be 1 to 200 letters, digits or _ . : -',
    ],
    ['an unknown period', 'features.api_calls.period', 'fortnight', `features.api_calls.period: ${PERIODS}`],
    [
      'a metered feature without a period',
      'features.api_calls.period',
      undefined,
      'features.api_calls.period: a metered feature needs a period (day, week, month or year)',
    ],
    [
      'a boolean feature with a period',
      'features.sso.period',
      'month',
      'features.sso.period: a boolean feature has no period',
    ],
    [
      'an unknown interval',
      'plans.pro.prices.0.interval',
      'quarter',
      `plans.pro.prices[0].interval: ${PERIODS}`,
    ],
    [
      'an interval count past three years',
      'plans.pro.prices.0.intervalCount',
      37,
      'plans.pro.prices[0].intervalCount: must be at most 36 for a monthly price (Stripe bills at least every 3 years)',
    ],
    [
      'a negative amount',
      'plans.pro.prices.0.unitAmount',
      -1,
      'plans.pro.prices[0].unitAmount: must be 0 or more (in the smallest currency unit)',
    ],
    [
      'an amount in dollars',
      'plans.pro.prices.0.unitAmount',
      19.99,
      'plans.pro.prices[0].unitAmount: must be a whole number',
    ],
    [
      'a currency in capitals',
      'plans.pro.prices.0.currency',
      'USD',
      'plans.pro.prices[0].currency: must be three lowercase letters (usd)',
    ],
    ['negative trial days', 'plans.pro.trialDays', -1, 'plans.pro.trialDays: must be 0 or more'],
    ['trial days past two years', 'plans.pro.trialDays', 731, 'plans.pro.trialDays: must be at most 730'],
    ['a plan id with capitals', 'plans.Pro', { name: 'Pro' }, `plans.Pro: ${ID_RULE}`],
    [
      'a feature id with a dash',
      'features.api-calls',
      { type: 'boolean', name: 'x' },
      `features.api-calls: ${ID_RULE}`,
    ],
    ['a mistyped key', 'plans.pro.trialDay', 3, "plans.pro: unknown key 'trialDay'"],
    ['an empty name', 'plans.pro.name', '  ', 'plans.pro.name: must not be empty'],
    ['a missing name', 'plans.pro.name', undefined, 'plans.pro.name: is required'],
    [
      "a feature name past Stripe's limit",
      'features.sso.name',
      'x'.repeat(81),
      'features.sso.name: must be at most 80 characters',
    ],
    [
      'an unknown feature type',
      'features.sso.type',
      'toggle',
      'features.sso.type: must be "boolean" or "metered" or "credits"',
    ],
    ['no plans', 'plans', {}, 'plans: declare at least one plan'],
  ];
  for (const [name, path, value, problem] of cases)
    it(`rejects ${name}`, () => {
      assert.deepEqual(problemsOf(valid([path, value])), [problem]);
    });

  it('rejects what is not a catalog at all', () => {
    assert.deepEqual(problemsOf(undefined), ['(catalog): is required']);
    assert.deepEqual(problemsOf({ plans: { free: { name: 'Free' } } }), ['features: is required']);
  });
});

describe('catalog lookups', () => {
  const catalog = defineCatalog({
    features,
    plans: { pro, team: { name: 'Team', features: { api_calls: { limit: 'unlimited' } } } },
  });

  it('finds the plan of a price by its lookup key', () => {
    assert.equal(planOfPrice(catalog, 'pro_yearly'), 'pro');
    assert.equal(planOfPrice(catalog, 'enterprise_monthly'), null);
    assert.equal(priceByLookupKey(catalog, 'pro_monthly')?.price.unitAmount, 2000);
  });

  it('lists what a plan gives of each feature', () => {
    assert.deepEqual(
      planFeatures(catalog, 'pro').map((feature) => feature.id),
      ['sso', 'api_calls', 'ai_credits'],
    );
    assert.deepEqual(planFeatures(catalog, 'nope'), []);
    assert.deepEqual(planFeature(catalog, 'team', 'api_calls'), {
      id: 'api_calls',
      type: 'metered',
      name: 'API calls',
      period: 'month',
      limit: 'unlimited',
    });
    assert.equal(planFeature(catalog, 'team', 'sso'), null);
    assert.equal(planFeature(catalog, 'team', 'toString'), null);
    assert.equal(planFeature(catalog, 'constructor', 'sso'), null);
  });

  it('keeps the demo catalog valid: three plans, one feature of each type', () => {
    assert.deepEqual(Object.keys(demoCatalog.plans), ['free', 'starter', 'pro']);
    assert.deepEqual(
      Object.values(demoCatalog.features).map((feature) => feature.type),
      ['boolean', 'metered', 'credits'],
    );
  });
});
