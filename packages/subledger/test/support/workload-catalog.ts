import type Stripe from 'stripe';

/** The workload's catalog: its prices (three monthly plans and a yearly one) and the plan upgraded to. */
export type Catalog = { prices: Stripe.Price[]; upgrade: Stripe.Price };

/** Products with entitlement features, their prices and a meter, some changed after creation. */
export async function createCatalog(stripe: Stripe): Promise<Catalog> {
  const api = await stripe.entitlements.features.create({ name: 'API access', lookup_key: 'api_access' });
  const sso = await stripe.entitlements.features.create({ name: 'SSO', lookup_key: 'sso' });
  const basic = await stripe.products.create({ name: 'Basic' });
  const pro = await stripe.products.create({ name: 'Pro' });
  const team = await stripe.products.create({ name: 'Team' });
  await stripe.products.createFeature(pro.id, { entitlement_feature: api.id });
  await stripe.products.createFeature(team.id, { entitlement_feature: api.id });
  await stripe.products.createFeature(team.id, { entitlement_feature: sso.id });
  await stripe.products.update(team.id, { metadata: { tier: 'top' }, description: 'For teams' });
  const monthly = (product: Stripe.Product, unit_amount: number) =>
    stripe.prices.create({
      product: product.id,
      currency: 'usd',
      unit_amount,
      recurring: { interval: 'month' },
    });
  const prices = [await monthly(basic, 900), await monthly(pro, 2900), await monthly(team, 9900)];
  const yearly = await stripe.prices.create({
    product: pro.id,
    currency: 'usd',
    unit_amount: 29_000,
    recurring: { interval: 'year' },
    lookup_key: 'pro_yearly',
  });
  await stripe.prices.update(yearly.id, { nickname: 'Pro, yearly', metadata: { promoted: 'true' } });
  const meter = await stripe.billing.meters.create({
    display_name: 'API calls',
    event_name: 'api_calls',
    default_aggregation: { formula: 'sum' },
  });
  await stripe.billing.meters.update(meter.id, { display_name: 'API requests' });
  await stripe.billing.meters.deactivate(meter.id);
  await stripe.billing.meters.reactivate(meter.id);
  return { prices: [...prices, yearly], upgrade: prices[2] as Stripe.Price };
}
