import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type Change,
  defineCatalog,
  demoCatalog,
  describeChange,
  planChanges,
  type StripeCatalog,
  summarizeChanges,
} from '../src/catalog/index.ts';
import {
  applyToModel,
  catalogDifferences,
  emptyStripe,
  findFeature,
  storedPrice,
  storedProduct,
} from './support/catalog-model.ts';

const proMonthly = {
  lookupKey: 'pro_monthly',
  unitAmount: 2000,
  currency: 'usd',
  interval: 'month',
} as const;
const features = {
  sso: { type: 'boolean', name: 'Single sign-on' },
  api_calls: { type: 'metered', name: 'API calls', period: 'month' },
} as const;
const pro = {
  name: 'Pro',
  prices: [proMonthly],
  features: { sso: true, api_calls: { limit: 10_000 } },
} as const;
const catalog = defineCatalog({ features, plans: { pro } });

/** Stripe as one push of `catalog` leaves it. */
const pushed = (of = catalog) => applyToModel(emptyStripe(), planChanges(of, emptyStripe()), 1);
const kinds = (changes: Change[]) => changes.map((change) => change.kind);
const lines = (changes: Change[]) => changes.map(describeChange);
const productOf = (stripe: StripeCatalog, plan = 'pro') =>
  stripe.products.find((product) => product.metadata.subledger_plan === plan)?.id as string;
const priceKeyed = (stripe: StripeCatalog, lookupKey: string) =>
  stripe.prices.find((price) => price.lookup_key === lookupKey);

/** Stripe after a dashboard edit; the model's next ids start far from the push's. */
function edited(edit: (stripe: StripeCatalog) => void, from = pushed()): StripeCatalog {
  const stripe = structuredClone(from);
  edit(stripe);
  return stripe;
}

/** Applies the plan and checks that nothing is left to do: what a second push would find. */
function assertConverges(stripe: StripeCatalog, of = catalog) {
  const after = applyToModel(stripe, planChanges(of, stripe));
  assert.deepEqual(catalogDifferences(after, of), []);
  assert.deepEqual(lines(planChanges(of, after)), []);
  return after;
}

describe('planChanges', () => {
  it('creates everything, in dependency order, when Stripe is empty', () => {
    assert.deepEqual(lines(planChanges(catalog, emptyStripe())), [
      '+ feature sso "Single sign-on"',
      '+ feature api_calls "API calls"',
      '+ product pro "Pro"',
      '+ price pro_monthly 2000 usd/month (plan pro)',
      '+ feature sso on plan pro',
      '+ feature api_calls on plan pro',
    ]);
  });

  it('plans nothing when Stripe holds the catalog: a second push writes nothing', () => {
    assert.deepEqual(catalogDifferences(pushed(demoCatalog), demoCatalog), []);
    assert.deepEqual(planChanges(catalog, pushed()), []);
    assert.deepEqual(planChanges(demoCatalog, pushed(demoCatalog)), []);
  });

  it('gives a price its lookup key back when the amount was changed in the dashboard', () => {
    const stripe = edited((s) => {
      Object.assign(priceKeyed(s, 'pro_monthly') as object, { lookup_key: null });
      s.prices.unshift(
        storedPrice('price_dash', productOf(s), { ...proMonthly, unitAmount: 2500, intervalCount: 1 }, 99),
      );
    });
    const original = stripe.prices.find((price) => price.id !== 'price_dash')?.id;
    assert.deepEqual(lines(planChanges(catalog, stripe)), [
      `~ price pro_monthly: 2500 usd/month → 2000 usd/month (${original} with 2000 usd/month takes it back; price_dash archived)`,
    ]);
    const after = assertConverges(stripe);
    assert.equal(priceKeyed(after, 'pro_monthly')?.id, original);
  });

  it('replaces a price whose original is gone, and one whose amount changed in the catalog', () => {
    const archivedOriginal = edited((s) => {
      Object.assign(s.prices[0] as object, { lookup_key: null, active: false });
      s.prices.unshift(
        storedPrice('price_dash', productOf(s), { ...proMonthly, unitAmount: 2500, intervalCount: 1 }, 99),
      );
    });
    assert.deepEqual(kinds(planChanges(catalog, archivedOriginal)), ['replace_price']);
    assertConverges(archivedOriginal);

    const dearer = defineCatalog({
      features,
      plans: { pro: { ...pro, prices: [{ ...proMonthly, unitAmount: 2400 }] } },
    });
    const old = priceKeyed(pushed(), 'pro_monthly')?.id;
    assert.deepEqual(lines(planChanges(dearer, pushed())), [
      `~ price pro_monthly: 2000 usd/month → 2400 usd/month (new price 2400 usd/month; ${old} archived)`,
    ]);
    assertConverges(pushed(), dearer);
  });

  it('relinks a price whose lookup key was removed, and replaces one archived in Stripe', () => {
    const cleared = edited((s) => Object.assign(s.prices[0] as object, { lookup_key: null }));
    assert.deepEqual(kinds(planChanges(catalog, cleared)), ['relink_price']);
    assertConverges(cleared);
    const archived = edited((s) => Object.assign(s.prices[0] as object, { active: false }));
    const [change] = planChanges(catalog, archived);
    assert.equal(change?.kind, 'replace_price');
    assert.deepEqual(change?.kind === 'replace_price' && change.reasons, ['archived in Stripe']);
    assertConverges(archived);
  });

  it('moves a lookup key held by a price of another product', () => {
    const stripe = edited((s) => {
      s.products.push({ ...storedProduct('prod_other', 'other', 'Other'), metadata: {} });
      Object.assign(s.prices[0] as object, { product: 'prod_other' });
    });
    const [change] = planChanges(catalog, stripe);
    assert.deepEqual(change?.kind === 'replace_price' && change.reasons, [
      "belongs to product prod_other, not the plan's",
    ]);
    assertConverges(stripe);
  });

  it('detaches a feature attached in the dashboard, and attaches one detached', () => {
    const stripe = edited((s) => {
      const extra = { id: 'feat_extra', lookup_key: 'extra', name: 'Extra', active: true };
      s.features.unshift(extra);
      const attached = s.productFeatures[productOf(s)] ?? [];
      s.productFeatures[productOf(s)] = [
        { id: 'prodft_extra', entitlement_feature: extra },
        ...attached.filter((a) => a.entitlement_feature.lookup_key !== 'sso'),
      ];
    });
    assert.deepEqual(lines(planChanges(catalog, stripe)), [
      '+ feature sso on plan pro',
      '- feature extra on plan pro (detach)',
    ]);
    const after = assertConverges(stripe);
    assert.ok(
      after.features.some((feature) => feature.lookup_key === 'extra'),
      'features not in the catalog stay',
    );
  });

  it('renames and restores features and products edited in the dashboard', () => {
    const stripe = edited((s) => {
      const sso = s.features.find((f) => f.lookup_key === 'sso');
      Object.assign(findFeature(s, sso?.id as string), { name: 'SSO', active: false });
      Object.assign(s.products[0] as object, { name: 'Pro plan', description: 'Edited', active: false });
    });
    assert.deepEqual(lines(planChanges(catalog, stripe)), [
      '~ feature sso: name "SSO" → "Single sign-on", active false → true',
      '~ product pro: name "Pro plan" → "Pro", description "Edited" → null, active false → true',
    ]);
    assertConverges(stripe);
  });

  it('attaches the live feature when its lookup key was archived and created again', () => {
    const stripe = edited((s) => {
      const sso = s.features.find((f) => f.lookup_key === 'sso');
      Object.assign(findFeature(s, sso?.id as string), { active: false });
      s.features.unshift({ id: 'feat_new', lookup_key: 'sso', name: 'Single sign-on', active: true });
    });
    assert.deepEqual(kinds(planChanges(catalog, stripe)), ['attach_feature', 'detach_feature']);
    assertConverges(stripe);
  });

  it('archives the product and prices of a plan taken out of the catalog', () => {
    const both = defineCatalog({
      features,
      plans: { pro, team: { name: 'Team', prices: [{ ...proMonthly, lookupKey: 'team_monthly' }] } },
    });
    const stripe = pushed(both);
    const team = productOf(stripe, 'team');
    assert.deepEqual(lines(planChanges(catalog, stripe)), [
      `- price ${priceKeyed(stripe, 'team_monthly')?.id} 2000 usd/month, lookup key team_monthly, of plan team (archive)`,
      `- product ${team} "Team" of plan team (archive)`,
    ]);
    assertConverges(stripe);
  });

  it('keeps the oldest product of a plan and archives a duplicate with its prices', () => {
    const stripe = edited((s) => {
      s.products.unshift(storedProduct('prod_dup', 'pro', 'Pro', null, 500));
      s.prices.unshift({
        ...storedPrice('price_dup', 'prod_dup', { ...proMonthly, intervalCount: 1 }, 500),
        lookup_key: null,
      });
    });
    assert.deepEqual(lines(planChanges(catalog, stripe)), [
      '- price price_dup 2000 usd/month, lookup key none, of plan pro (archive)',
      '- product prod_dup "Pro" of plan pro (archive)',
    ]);
    assertConverges(stripe);
  });

  it('archives prices added to a plan product in the dashboard', () => {
    const stripe = edited((s) => {
      s.prices.unshift({
        ...storedPrice('price_extra', productOf(s), { ...proMonthly, intervalCount: 1 }, 99),
        lookup_key: 'promo',
      });
    });
    assert.deepEqual(kinds(planChanges(catalog, stripe)), ['archive_price']);
    assertConverges(stripe);
  });

  it('converges from any mix of dashboard edits', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...Object.keys(DASHBOARD_EDITS)), { maxLength: 8 }), (names) => {
        const stripe = pushed(demoCatalog);
        names.forEach((name, index) => {
          DASHBOARD_EDITS[name]?.(stripe, index);
        });
        assertConverges(stripe, demoCatalog);
      }),
    );
  });
});

/** Edits an operator may make in Stripe's dashboard to a pushed demo catalog. */
const DASHBOARD_EDITS: Record<string, (stripe: StripeCatalog, n: number) => void> = {
  renameProduct: (s, n) =>
    Object.assign(s.products[n % s.products.length] as object, { name: `Edited ${n}` }),
  archiveProduct: (s, n) => Object.assign(s.products[n % s.products.length] as object, { active: false }),
  renameFeature: (s, n) =>
    Object.assign(s.features[n % s.features.length] as object, { name: `Edited ${n}` }),
  archiveFeature: (s, n) => Object.assign(s.features[n % s.features.length] as object, { active: false }),
  clearLookupKey: (s, n) => Object.assign(s.prices[n % s.prices.length] as object, { lookup_key: null }),
  archivePrice: (s, n) => Object.assign(s.prices[n % s.prices.length] as object, { active: false }),
  newPriceTakesKey: (s, n) => {
    const held = s.prices[n % s.prices.length];
    if (!held) return;
    const key = held.lookup_key;
    held.lookup_key = null;
    s.prices.unshift({
      ...held,
      id: `price_dash${n}`,
      lookup_key: key,
      unit_amount: 1 + n,
      created: 900 + n,
    });
  },
  addPrice: (s, n) => {
    const product = s.products[n % s.products.length]?.id as string;
    const terms = {
      lookupKey: 'x',
      unitAmount: 100 * n,
      currency: 'usd',
      interval: 'month',
      intervalCount: 1,
    } as const;
    s.prices.unshift({ ...storedPrice(`price_added${n}`, product, terms, 800 + n), lookup_key: null });
  },
  attachForeignFeature: (s, n) => {
    const foreign = { id: `feat_dash${n}`, lookup_key: `dash${n}`, name: 'Dashboard', active: true };
    s.features.unshift(foreign);
    const product = s.products[n % s.products.length]?.id as string;
    s.productFeatures[product] = [
      { id: `prodft_dash${n}`, entitlement_feature: foreign },
      ...(s.productFeatures[product] ?? []),
    ];
  },
  detachFeature: (s, n) => {
    const product = s.products[n % s.products.length]?.id as string;
    s.productFeatures[product] = (s.productFeatures[product] ?? []).slice(1);
  },
};

describe('describing changes', () => {
  it('counts them by effect', () => {
    assert.equal(summarizeChanges([]), 'no changes');
    assert.equal(summarizeChanges(planChanges(catalog, emptyStripe())), '6 changes (6 to create)');
    const stripe = edited((s) => {
      Object.assign(s.products[0] as object, { name: 'Renamed' });
      s.productFeatures[productOf(s)] = [];
    });
    assert.equal(summarizeChanges(planChanges(catalog, stripe)), '3 changes (2 to create, 1 to update)');
  });
});
