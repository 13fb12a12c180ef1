import type Stripe from 'stripe';
import { defineCatalog } from '../../src/catalog/index.ts';

const monthly = (lookupKey: string, unitAmount: number) => ({
  lookupKey,
  unitAmount,
  currency: 'usd',
  interval: 'month' as const,
});

/** What the billing tests sell: `team` at 15 a month, and `pro` (with single sign-on) at 45. */
export const teamCatalog = defineCatalog({
  features: {
    members: { type: 'boolean', name: 'Team members' },
    sso: { type: 'boolean', name: 'Single sign-on' },
  },
  plans: {
    team: {
      name: 'Team',
      trialDays: 0,
      prices: [monthly('team_monthly', 1500)],
      features: { members: true },
    },
    pro: {
      name: 'Pro',
      trialDays: 0,
      prices: [monthly('pro_monthly', 4500)],
      features: { members: true, sso: true },
    },
  },
});

/** The catalog's products and prices in Stripe (the emulator), as `catalog push` would make them. */
export async function createCatalogPrices(stripe: Stripe): Promise<Record<'team' | 'pro', Stripe.Price>> {
  const priceOf = async (plan: 'team' | 'pro') => {
    const { name, prices } = teamCatalog.plans[plan];
    const product = await stripe.products.create({ name, metadata: { subledger_plan: plan } });
    const [price] = prices;
    return stripe.prices.create({
      product: product.id,
      currency: 'usd',
      unit_amount: price?.unitAmount ?? 0,
      recurring: { interval: 'month' },
      lookup_key: price?.lookupKey ?? plan,
    });
  };
  return { team: await priceOf('team'), pro: await priceOf('pro') };
}
